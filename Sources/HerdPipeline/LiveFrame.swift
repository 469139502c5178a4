import HerdCodecs
import HerdProtocol
import NIOCore
import Synchronization

/// One composed frame of one stream, encoded once and shared by every viewer: the envelope (header +
/// annotated JPEG) is a `ByteBuffer` that each socket write retains rather than copies. Variants a
/// viewer asks for (original without overlay, scaled down) are built at most once per frame and kept.
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

    private struct VariantKey: Hashable {
        var overlay: Bool
        var maxWidth: Int
    }

    private let variants = Mutex<[VariantKey: ByteBuffer]>([:])

    public init(header: LiveFrameHeader, original: [UInt8], annotated: [UInt8], receivedInstant: ContinuousClock.Instant = .now) {
        self.receivedInstant = receivedInstant
        self.stream = header.stream
        self.seq = header.seq
        self.header = header
        self.original = original
        self.annotated = annotated
        self.message = ByteBuffer(bytes: Envelope.encode(header: header, payload: annotated))
    }

    /// The envelope for a viewer's options: the shared message, or a variant built once per distinct
    /// (overlay, width) and then shared. Falls back to the shared message if a variant cannot be built.
    public func message(overlay: Bool, maxWidth: Int?) -> ByteBuffer {
        let width = maxWidth.map { min($0, header.width) } ?? header.width
        if overlay && width >= header.width { return message }
        let key = VariantKey(overlay: overlay, maxWidth: width)
        return variants.withLock { cache in
            if let built = cache[key] { return built }
            let built = (try? buildVariant(overlay: overlay, maxWidth: width)) ?? message
            if cache.count < 8 { cache[key] = built }
            return built
        }
    }

    private func buildVariant(overlay: Bool, maxWidth: Int) throws -> ByteBuffer {
        var header = self.header
        header.overlay = overlay
        let source = overlay ? annotated : original
        guard maxWidth < header.width else { return ByteBuffer(bytes: Envelope.encode(header: header, payload: source)) }
        // libjpeg's scaled decode: the largest of 1/2, 1/4, 1/8 that fits maxWidth (1/8 at least).
        let scale = JPEGScale.allCases.first { header.width / $0.rawValue <= maxWidth } ?? .eighth
        guard ImageFormat.detect(source) == .jpeg else { return ByteBuffer(bytes: Envelope.encode(header: header, payload: source)) }
        let image = try JPEGDecoder().decode(source, scale: scale)
        let jpeg = try JPEGEncoder().encode(image, quality: 80)
        header.width = image.width
        header.height = image.height
        return ByteBuffer(bytes: Envelope.encode(header: header, payload: jpeg))
    }
}
