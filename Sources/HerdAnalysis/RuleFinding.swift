import HerdProtocol

/// What a rule or check found in one frame or reading: the rule's code, the thing it is about (a seal
/// id, a zone, the stream), how bad, the values that decided it, and the message. `AlertBook` turns
/// findings into alerts with a lifecycle.
public struct RuleFinding: Sendable, Hashable {
    /// Stable code, e.g. `thi.heat`, `seal.open`, `frame.frozen`.
    public var rule: String
    /// What it is about within the stream (a seal, a zone, a line); "" for the stream itself.
    public var subject: String
    public var severity: Severity
    /// The readings that decided it, as text (`"thi": "80.2"`), for the record and the console.
    public var values: [String: String]
    public var message: LocalizedText

    public init(rule: String, subject: String = "", severity: Severity, values: [String: String] = [:], message: LocalizedText) {
        self.rule = rule
        self.subject = subject
        self.severity = severity
        self.values = values
        self.message = message
    }

    /// One alert per rule and subject.
    public var key: String { subject.isEmpty ? rule : rule + "/" + subject }
}
