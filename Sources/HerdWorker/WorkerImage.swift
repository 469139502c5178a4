import HerdAnalysis
import HerdCodecs
import HerdOverlay

/// An image a worker has parsed and keeps for `render`: its header facts, and the bytes as received
/// (the server's copy stays the evidence; the worker's copy is what it renders).
public struct WorkerImage: Sendable {
    let slot: Int
    let generation: UInt64
    let handle: UInt64
    /// The bytes as received (also what a fault report carries).
    public let bytes: [UInt8]
    public let format: ImageFormat
    /// Stored size.
    public let width: Int
    public let height: Int
    /// Size once EXIF orientation is applied: what viewers see and annotations are drawn in.
    public let displayWidth: Int
    public let displayHeight: Int
    /// The scaled decode for analysis, when `open` asked for it.
    public let analysis: AnalysisImage?
}

/// What `render` returns: the annotated frame, its stage times, and the variants asked for.
public struct RenderedFrame: Sendable {
    public struct Variant: Sendable {
        public var spec: VariantSpec
        public var bytes: [UInt8]
        public var width: Int
        public var height: Int
    }

    public var annotated: [UInt8]
    /// The path taken and the worker's stage times (as `FrameComposer` reports them in process).
    public var report: ComposeReport
    public var variants: [Variant]
}
