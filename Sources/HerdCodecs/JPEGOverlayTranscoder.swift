import CHerdJPEG
import HerdImaging

/// Composes a `Canvas` into a JPEG without decoding it to pixels.
///
/// The frame's DCT coefficients are read (entropy decoding only); each 8x8 block the overlay touches is
/// blended in the coefficient domain (uniform overlay) or through IDCT/FDCT (edges, text), then
/// re-quantized with the frame's own tables; all other blocks are written back untouched, so the
/// evidence they carry stays bit-exact. Output quality therefore equals the input's.
///
/// Works for YCbCr and greyscale JPEGs with integral subsampling and EXIF orientation `up`; `compose`
/// throws `unsupported` otherwise and callers fall back to decode, composite, encode.
/// Not thread-safe: give each task its own.
public final class JPEGOverlayTranscoder {
    /// How many blocks the last `compose` left alone, blended as coefficients, or re-transformed.
    public struct BlockCounts: Sendable, Hashable, CustomStringConvertible {
        public var untouched: Int
        public var coefficientBlend: Int
        public var retransformed: Int

        public var description: String { "untouched:\(untouched),dct-domain:\(coefficientBlend),idct:\(retransformed)" }
    }

    private let handle: OpaquePointer
    public var limits: DecodeLimits
    /// Time spent in each phase of the last successful `compose`.
    public struct PhaseTimes: Sendable, Hashable {
        /// Entropy-decoding the coefficients.
        public var read: Duration
        /// Blending the overlay into touched blocks.
        public var blend: Duration
        /// Entropy-encoding the result.
        public var write: Duration
    }

    /// Phase times of the last successful `compose`.
    public private(set) var lastTimes = PhaseTimes(read: .zero, blend: .zero, write: .zero)
    /// Block statistics of the last successful `compose`.
    public private(set) var lastCounts = BlockCounts(untouched: 0, coefficientBlend: 0, retransformed: 0)

    public init(limits: DecodeLimits = .default) throws(CodecError) {
        guard let handle = herdjpeg_transcoder_create() else { throw .outOfMemory("cannot create JPEG transcoder") }
        self.handle = handle
        self.limits = limits
    }

    deinit {
        herdjpeg_transcoder_destroy(handle)
        input?.deallocate()
    }

    /// The bytes libjpeg reads from between `read` and `finish` (its source points into them), owned here
    /// so their address stays valid.
    private var input: UnsafeMutableRawBufferPointer?

    private var message: String { String(cString: herdjpeg_transcoder_message(handle)) }

    /// Largest error of the fast DCT pair against the orthonormal reference over random blocks, in
    /// sample units; a health check for tests.
    public static func dctSelfTestError() -> Double { herdjpeg_dct_self_test() }

    /// Reads just the header and tells whether `compose` can take this JPEG.
    public func canCompose(_ info: ImageInfo) -> Bool {
        info.format == .jpeg && info.orientation == .up && (info.components == 1 || info.chromaSubsampling != nil)
    }

    /// The JPEG with `canvas` composited; the canvas must match the image's stored size.
    /// An empty canvas still re-writes the stream (same coefficients, baseline, standard Huffman tables).
    public func compose(_ jpeg: [UInt8], canvas: Canvas, optimizeCoding: Bool = false) throws(CodecError) -> [UInt8] {
        try read(jpeg)
        return try finish(canvas: canvas, optimizeCoding: optimizeCoding)
    }

    /// Size of the image `read` holds.
    public private(set) var heldSize: (width: Int, height: Int)?
    private var readTime: Duration = .zero

    /// Reads a JPEG's coefficients (its entropy-coded data decoded once) and holds them for `finish`.
    /// Throws `unsupported` for a layout the coefficient path cannot take, `corrupt`/`truncated` for
    /// data that does not decode.
    public func read(_ jpeg: [UInt8]) throws(CodecError) {
        heldSize = nil
        herdjpeg_transcoder_reset(handle)
        try limits.check(byteCount: jpeg.count)
        guard ImageFormat.detect(jpeg) == .jpeg else { throw .unknownFormat("data does not start with a JPEG SOI marker") }
        let limits = self.limits
        let clock = ContinuousClock()
        let start = clock.now
        var info = herdjpeg_info()
        if let old = input, old.count < jpeg.count {
            old.deallocate()
            input = nil
        }
        let buffer = input ?? UnsafeMutableRawBufferPointer.allocate(byteCount: max(jpeg.count, 64 * 1024), alignment: 16)
        input = buffer
        jpeg.withUnsafeBytes { buffer.copyMemory(from: $0) }
        let rc = herdjpeg_transcoder_read(handle, buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), jpeg.count, Int64(limits.maxPixels), &info)
        guard rc == 0 else {
            let error = CodecError.fromShim(rc, message)
            herdjpeg_transcoder_reset(handle)
            throw error
        }
        do throws(CodecError) {
            try limits.check(width: Int(info.width), height: Int(info.height))
            guard info.orientation == 1 else {
                throw .unsupported("coefficient path needs EXIF orientation 1, image has \(info.orientation)")
            }
        } catch {
            herdjpeg_transcoder_reset(handle)
            throw error
        }
        heldSize = (Int(info.width), Int(info.height))
        readTime = clock.now - start
    }

    /// Composites `canvas` into the coefficients `read` holds and writes the JPEG; the held image is
    /// released either way.
    public func finish(canvas: Canvas, optimizeCoding: Bool = false) throws(CodecError) -> [UInt8] {
        guard let size = heldSize else { throw .invalidArgument("no image read") }
        heldSize = nil
        defer { herdjpeg_transcoder_reset(handle) }
        guard size.width == canvas.width, size.height == canvas.height else {
            throw .invalidArgument("canvas \(canvas.width)x\(canvas.height) does not match image \(size.width)x\(size.height)")
        }
        let clock = ContinuousClock()
        var marks = [clock.now]
        if !canvas.isEmpty {
            let rc = canvas.withLayer { layer, stride, mask in
                herdjpeg_transcoder_apply_overlay(handle, layer, stride, mask, Int32(canvas.tilesX), Int32(canvas.tilesY))
            }
            guard rc == 0 else { throw .fromShim(rc, message) }
        }
        marks.append(clock.now)
        let rc = herdjpeg_transcoder_write(handle, optimizeCoding ? 1 : 0)
        guard rc == 0 else { throw .fromShim(rc, message) }
        var length = 0
        let output = herdjpeg_transcoder_output(handle, &length)!
        let bytes = Array(UnsafeBufferPointer(start: output, count: length))
        marks.append(clock.now)
        lastTimes = PhaseTimes(read: readTime, blend: marks[1] - marks[0], write: marks[2] - marks[1])
        var counts: (Int64, Int64, Int64) = (0, 0, 0)
        withUnsafeMutablePointer(to: &counts) {
            $0.withMemoryRebound(to: Int64.self, capacity: 3) { herdjpeg_transcoder_stats(handle, $0) }
        }
        lastCounts = canvas.isEmpty
            ? BlockCounts(untouched: 0, coefficientBlend: 0, retransformed: 0)
            : BlockCounts(untouched: Int(counts.0), coefficientBlend: Int(counts.1), retransformed: Int(counts.2))
        return bytes
    }
}
