import HerdProtocol

/// A frame the accept stage hands to the recorder: the bytes exactly as received and what the pipeline
/// made of them.
public struct FrameSubmission: Sendable {
    public var stream: StreamID
    public var seq: UInt64
    public var capturedAt: Timestamp
    public var receivedAt: Timestamp
    /// The header JSON as received.
    public var header: [UInt8]
    /// The image as received.
    public var image: [UInt8]
    public var format: String?
    public var width: Int?
    public var height: Int?
    public var annotations: AnnotationSet?
    public var alerts: [AlertAnnotation]

    public init(
        stream: StreamID, seq: UInt64, capturedAt: Timestamp, receivedAt: Timestamp, header: [UInt8], image: [UInt8], format: String? = nil,
        width: Int? = nil, height: Int? = nil, annotations: AnnotationSet? = nil, alerts: [AlertAnnotation] = []
    ) {
        self.stream = stream
        self.seq = seq
        self.capturedAt = capturedAt
        self.receivedAt = receivedAt
        self.header = header
        self.image = image
        self.format = format
        self.width = width
        self.height = height
        self.annotations = annotations
        self.alerts = alerts
    }
}

/// The recorder's answer to a frame.
public enum Admission: Sendable {
    /// Appended; acknowledge once `durability` is kept.
    case recorded(session: String, late: Bool, durability: Durability)
    /// This seq was recorded before with the same image bytes (durable once `durability` is kept).
    case duplicate(session: String, durability: Durability)
    /// This seq was recorded before with other bytes.
    case conflict(session: String)
    case refused(RecordingError)
}
