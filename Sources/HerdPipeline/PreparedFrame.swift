import HerdProtocol
import HerdWorker

/// A frame past the accept stage's codec check: the image opened (header parsed and decoded) in a codec
/// worker, and the annotations and alerts computed for it. What the recorder keeps and the render
/// stage draws.
public struct PreparedFrame: Sendable {
    public let header: DeviceFrameHeader
    /// The image exactly as received.
    public let image: [UInt8]
    public let opened: WorkerImage
    public let annotations: AnnotationSet
    public let alerts: [AlertAnnotation]
    public let receivedAt: Timestamp
    public let receivedInstant: ContinuousClock.Instant
}

/// What the accept stage's recorder step decided for a frame.
public enum RecordDecision: Sendable, Hashable {
    /// Kept: show it live (a late frame is recorded but not shown if a newer one was).
    case render
    /// A duplicate or refused frame: nothing to show.
    case skip
}
