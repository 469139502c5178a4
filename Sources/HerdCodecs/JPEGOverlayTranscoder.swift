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

    deinit { herdjpeg_transcoder_destroy(handle) }

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
        try limits.check(byteCount: jpeg.count)
        guard ImageFormat.detect(jpeg) == .jpeg else { throw .unknownFormat("data does not start with a JPEG SOI marker") }
        let limits = self.limits
        let clock = ContinuousClock()
        var marks = [clock.now]
        let result: Result<[UInt8], CodecError> = jpeg.withUnsafeBytes { raw in
            var info = herdjpeg_info()
            var rc = herdjpeg_transcoder_read(
                handle, raw.bindMemory(to: UInt8.self).baseAddress, raw.count, Int64(limits.maxPixels), &info)
            guard rc == 0 else { return .failure(.fromShim(rc, message)) }
            defer { herdjpeg_transcoder_reset(handle) }
            do throws(CodecError) {
                try limits.check(width: Int(info.width), height: Int(info.height))
            } catch {
                return .failure(error)
            }
            guard info.orientation == 1 else {
                return .failure(.unsupported("coefficient path needs EXIF orientation 1, image has \(info.orientation)"))
            }
            guard Int(info.width) == canvas.width, Int(info.height) == canvas.height else {
                return .failure(
                    .invalidArgument("canvas \(canvas.width)x\(canvas.height) does not match image \(info.width)x\(info.height)"))
            }
            marks.append(clock.now)
            if !canvas.isEmpty {
                rc = canvas.withLayer { layer, stride, mask in
                    herdjpeg_transcoder_apply_overlay(handle, layer, stride, mask, Int32(canvas.tilesX), Int32(canvas.tilesY))
                }
                guard rc == 0 else { return .failure(.fromShim(rc, message)) }
            }
            marks.append(clock.now)
            rc = herdjpeg_transcoder_write(handle, optimizeCoding ? 1 : 0)
            guard rc == 0 else { return .failure(.fromShim(rc, message)) }
            var length = 0
            let output = herdjpeg_transcoder_output(handle, &length)!
            return .success(Array(UnsafeBufferPointer(start: output, count: length)))
        }
        let bytes = try result.get()
        marks.append(clock.now)
        lastTimes = PhaseTimes(read: marks[1] - marks[0], blend: marks[2] - marks[1], write: marks[3] - marks[2])
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
