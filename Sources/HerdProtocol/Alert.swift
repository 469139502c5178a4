/// A structured alert: what rule found what, on which stream and session, the evidence frame (its seq
/// and capture time), the values, and the message in three languages; with its lifecycle (raised,
/// cleared) and acknowledgement. Sent to inspectors as an event and recorded with the session.
public struct Alert: Sendable, Hashable, Codable {
    public enum State: String, Sendable, Hashable, Codable {
        case raised
        case cleared
    }

    public struct Acknowledgement: Sendable, Hashable, Codable {
        public var by: String
        public var at: String
        public init(by: String, at: String) {
            self.by = by
            self.at = at
        }
    }

    public var id: String
    public var rule: String
    public var subject: String?
    public var severity: Severity
    public var stream: String
    public var session: String?
    /// The frame that shows it (nil for a reading without a frame), and its capture time as sent.
    public var seq: UInt64?
    public var capturedAt: String?
    public var values: [String: String]
    public var message: LocalizedText
    public var state: State
    public var raisedAt: String
    public var clearedAt: String?
    public var acknowledged: Acknowledgement?
    /// Times it came back after clearing, within the same alert (flapping is one alert, not a storm).
    public var repeats: Int

    public init(
        id: String, rule: String, subject: String?, severity: Severity, stream: String, session: String?, seq: UInt64?, capturedAt: String?,
        values: [String: String], message: LocalizedText, state: State, raisedAt: String, clearedAt: String?, acknowledged: Acknowledgement?, repeats: Int
    ) {
        self.id = id
        self.rule = rule
        self.subject = subject
        self.severity = severity
        self.stream = stream
        self.session = session
        self.seq = seq
        self.capturedAt = capturedAt
        self.values = values
        self.message = message
        self.state = state
        self.raisedAt = raisedAt
        self.clearedAt = clearedAt
        self.acknowledged = acknowledged
        self.repeats = repeats
    }

    /// The banner drawn on the frame while it is raised.
    public var banner: AlertAnnotation {
        AlertAnnotation(severity: severity, message: message.en, code: rule)
    }
}

/// A change to an alert, as inspectors and the recording see it.
public struct AlertEvent: Sendable, Hashable, Codable {
    public enum Change: String, Sendable, Hashable, Codable {
        case raised
        /// Its severity rose (heat stress from alert to danger, say).
        case escalated
        case cleared
        case acknowledged
    }

    public var change: Change
    public var alert: Alert

    public init(change: Change, alert: Alert) {
        self.change = change
        self.alert = alert
    }
}
