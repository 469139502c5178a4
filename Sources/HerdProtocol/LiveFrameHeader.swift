/// The JSON header of a frame sent to an inspector on `/api/v1/live`; the payload is the JPEG (annotated,
/// or original when the viewer asked for `overlay: false`, in which case `annotations` carry the drawing).
public struct LiveFrameHeader: Sendable, Hashable, Codable {
    public var type = "frame"
    public var stream: StreamID
    public var seq: UInt64
    public var capturedAt: Timestamp
    public var receivedAt: Timestamp
    public var width: Int
    public var height: Int
    /// True when the overlay is burned into the payload.
    public var overlay: Bool
    public var annotations: [Annotation]
    public var alerts: [AlertAnnotation]
    /// Replay only: true, with the recorded session, the frame's place in capture order and whether it
    /// arrived late. Absent on live frames.
    public var replay: Bool?
    public var session: String?
    public var index: Int?
    public var late: Bool?
    /// Present when the frame was scaled for this viewer (`maxWidth`, v1.4): the device frame's size, which
    /// every annotation's coordinates refer to.
    public var sourceWidth: Int?
    public var sourceHeight: Int?

    public init(
        stream: StreamID, seq: UInt64, capturedAt: Timestamp, receivedAt: Timestamp, width: Int, height: Int,
        overlay: Bool, annotations: [Annotation], alerts: [AlertAnnotation]
    ) {
        self.stream = stream
        self.seq = seq
        self.capturedAt = capturedAt
        self.receivedAt = receivedAt
        self.width = width
        self.height = height
        self.overlay = overlay
        self.annotations = annotations
        self.alerts = alerts
    }
}
