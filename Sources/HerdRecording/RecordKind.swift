/// What a record holds. The raw value is on disk: never renumber. Readers keep records of kinds they do
/// not know (a later version's) in the chain and skip their content.
public enum RecordKind: UInt8, Sendable, CaseIterable, Codable {
    /// The session began: stream, consignment, who opened it and why.
    case sessionOpened = 1
    /// One frame: the header JSON and image bytes exactly as received, plus the server's receive time.
    case frame = 2
    /// The annotations and alerts the pipeline produced for a frame, as data.
    case annotations = 3
    /// A telemetry message exactly as received.
    case telemetry = 4
    /// A message the server refused (seq, code), so gaps are explained.
    case refusal = 5
    /// Anything else worth keeping: consignment changes, session messages, faults after the ack.
    case event = 6
    /// The session ended, and how.
    case sessionClosed = 7
    /// A signed manifest of the chain so far.
    case checkpoint = 8
    /// One audit log entry (the audit chain only).
    case audit = 9

    public var name: String {
        switch self {
        case .sessionOpened: "sessionOpened"
        case .frame: "frame"
        case .annotations: "annotations"
        case .telemetry: "telemetry"
        case .refusal: "refusal"
        case .event: "event"
        case .sessionClosed: "sessionClosed"
        case .checkpoint: "checkpoint"
        case .audit: "audit"
        }
    }
}
