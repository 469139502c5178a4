import HerdCodecs
import HerdProtocol
import HerdWorker
import NIOCore
import Synchronization

/// One composed frame of one stream, encoded once and shared by every viewer: the envelope (header +
/// annotated JPEG) is a `ByteBuffer` that each socket write retains rather than copies. Variants a
/// viewer asks for (original without overlay, scaled down) come with the frame when viewers asked for
/// them lately (built in the same worker round trip), or are built once on first request by a codec
/// worker, and are then kept.
public final class LiveFrame: Sendable {
    public let stream: StreamID
    public let seq: UInt64
    public let header: LiveFrameHeader
    /// Envelope of the annotated frame at full size.
    public let message: ByteBuffer
    /// The device's original bytes (evidence; never modified).
    public let original: [UInt8]
    /// The annotated JPEG.
    public let annotated: [UInt8]
    /// When the server received the device's frame, on the monotonic clock (for delivery latency).
    public let receivedInstant: ContinuousClock.Instant
    private let source: VariantSource?

    /// Variants kept per frame; more distinct (overlay, width) pairs than this are built and not kept.
    static let maxVariants = 8

    private let variants = Mutex<[VariantSpec: ByteBuffer]>([:])

    /// `variants` were built with the frame; `source` builds the others on demand (without one, a
    /// viewer asking for another size gets the full-size frame).
    public init(
        header: LiveFrameHeader, original: [UInt8], annotated: [UInt8], variants: [RenderedFrame.Variant] = [],
        source: VariantSource? = nil, receivedInstant: ContinuousClock.Instant = .now
    ) {
        self.receivedInstant = receivedInstant
        self.stream = header.stream
        self.seq = header.seq
        self.header = header
        self.original = original
        self.annotated = annotated
        self.source = source
        self.message = ByteBuffer(bytes: Envelope.encode(header: header, payload: annotated))
        var built: [VariantSpec: ByteBuffer] = [:]
        for variant in variants.prefix(Self.maxVariants) {
            built[variant.spec] = Self.envelope(header, variant.spec, variant.bytes, width: variant.width, height: variant.height)
        }
        self.variants.withLock { $0 = built }
    }

    /// The variants this frame holds now (built with it, or since on request).
    public var builtVariants: Set<VariantSpec> { variants.withLock { Set($0.keys) } }

    /// The envelope for a viewer's options: the shared message, or a variant built once per distinct
    /// (overlay, width) and then shared. Falls back to the shared message if a variant cannot be built.
    public func message(overlay: Bool, maxWidth: Int?) async -> ByteBuffer {
        let width = maxWidth.map { min($0, header.width) } ?? header.width
        if overlay && width >= header.width { return message }
        let spec = VariantSpec(overlay: overlay, maxWidth: width)
        if let built = variants.withLock({ $0[spec] }) { return built }
        let built: ByteBuffer
        if width >= header.width {
            built = Self.envelope(header, spec, original, width: header.width, height: header.height)
        } else if let source {
            source.demand.note(spec)
            guard let scaled = try? await source.codecs.scale(overlay ? annotated : original, maxWidth: width) else { return message }
            built = Self.envelope(header, spec, scaled.bytes, width: scaled.width, height: scaled.height)
        } else {
            return message
        }
        variants.withLock { cache in
            if cache.count < Self.maxVariants { cache[spec] = built }
        }
        return built
    }

    private static func envelope(_ header: LiveFrameHeader, _ spec: VariantSpec, _ payload: [UInt8], width: Int, height: Int) -> ByteBuffer {
        var header = header
        header.overlay = spec.overlay
        if width != header.width || height != header.height {
            header.sourceWidth = header.width
            header.sourceHeight = header.height
        }
        header.width = width
        header.height = height
        return ByteBuffer(bytes: Envelope.encode(header: header, payload: payload))
    }
}

/// Where a stream's frames get the variants nobody asked for at render time: its codec workers, and
/// the stream's record of what viewers ask for, so the next frames bring those along.
public struct VariantSource: Sendable {
    public let codecs: CodecWorkerPool
    let demand: VariantDemand

    init(codecs: CodecWorkerPool, demand: VariantDemand) {
        self.codecs = codecs
        self.demand = demand
    }
}

/// The scaled variants a stream's viewers asked for lately. A variant asked for is built with each of
/// the next `framesKept` frames; one nobody asks for again is dropped after them.
final class VariantDemand: Sendable {
    static let framesKept = 30
    private let wantedFor = Mutex<[VariantSpec: Int]>([:])

    func note(_ spec: VariantSpec) {
        wantedFor.withLock { wanted in
            if wanted[spec] != nil || wanted.count < LiveFrame.maxVariants { wanted[spec] = Self.framesKept }
        }
    }

    /// The variants to build with the next frame (of `width`), counting that frame against each.
    func wanted(width: Int) -> [VariantSpec] {
        wantedFor.withLock { wanted in
            for (spec, left) in wanted { wanted[spec] = left > 1 ? left - 1 : nil }
            return wanted.keys.filter { $0.maxWidth < width }.sorted { ($0.maxWidth, $0.overlay ? 1 : 0) < ($1.maxWidth, $1.overlay ? 1 : 0) }
        }
    }
}
