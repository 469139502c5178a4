import CHerdJPEG
import HerdImaging

/// Scaled JPEG decode: libjpeg skips IDCT work, so 1/4 scale costs a fraction of a full decode.
public enum JPEGScale: Int, Sendable, CaseIterable {
    case full = 1
    case half = 2
    case quarter = 4
    case eighth = 8
}

/// Decodes baseline and progressive JPEG (grey, 4:2:0, 4:2:2, 4:4:4) into a `PixelBuffer`.
///
/// Keeps one libjpeg decompressor and reuses it frame after frame. Not thread-safe: give each task its
/// own. Every failure, including a truncated or damaged stream, is a thrown `CodecError`.
public final class JPEGDecoder {
    private let handle: OpaquePointer
    public var limits: DecodeLimits

    public init(limits: DecodeLimits = .default) throws(CodecError) {
        guard let handle = herdjpeg_decoder_create() else { throw .outOfMemory("cannot create JPEG decoder") }
        self.handle = handle
        self.limits = limits
    }

    deinit { herdjpeg_decoder_destroy(handle) }

    private var message: String { String(cString: herdjpeg_decoder_message(handle)) }

    /// Reads the header only.
    public func readInfo(_ data: [UInt8]) throws(CodecError) -> ImageInfo {
        try limits.check(byteCount: data.count)
        let result: Result<ImageInfo, CodecError> = data.withUnsafeBytes { raw in
            var info = herdjpeg_info()
            let rc = herdjpeg_decoder_read_header(handle, raw.bindMemory(to: UInt8.self).baseAddress, raw.count, 1, &info)
            defer { herdjpeg_decoder_abort(handle) }
            guard rc == 0 else { return .failure(.fromShim(rc, message)) }
            return .success(Self.imageInfo(info))
        }
        return try result.get()
    }

    /// Decodes to `format`, at `scale`, with EXIF orientation applied unless `applyOrientation` is false.
    public func decode(
        _ data: [UInt8], as format: PixelFormat = .rgb, scale: JPEGScale = .full, applyOrientation: Bool = true
    ) throws(CodecError) -> PixelBuffer {
        try limits.check(byteCount: data.count)
        guard ImageFormat.detect(data) == .jpeg else { throw .unknownFormat("data does not start with a JPEG SOI marker") }
        let limits = self.limits
        let result: Result<PixelBuffer, CodecError> = data.withUnsafeBytes { raw in
            var info = herdjpeg_info()
            let base = raw.bindMemory(to: UInt8.self).baseAddress
            var rc = herdjpeg_decoder_read_header(handle, base, raw.count, Int32(scale.rawValue), &info)
            guard rc == 0 else { return .failure(.fromShim(rc, message)) }
            do throws(CodecError) {
                try limits.check(width: Int(info.width), height: Int(info.height))
            } catch {
                herdjpeg_decoder_abort(handle)
                return .failure(error)
            }
            let width = Int(info.output_width), height = Int(info.output_height)
            var buffer = PixelBuffer(width: width, height: height, format: format)
            let shimFormat: Int32 = switch format {
            case .gray: Int32(HERDJPEG_PIXEL_GRAY)
            case .rgb: Int32(HERDJPEG_PIXEL_RGB)
            case .rgba: Int32(HERDJPEG_PIXEL_RGBA)
            }
            let stride = buffer.bytesPerRow
            rc = buffer.bytes.withUnsafeMutableBufferPointer { out in
                herdjpeg_decoder_decode(handle, shimFormat, out.baseAddress, stride)
            }
            guard rc == 0 else { return .failure(.fromShim(rc, message)) }
            let orientation = ImageOrientation(rawValue: Int(info.orientation)) ?? .up
            return .success(applyOrientation ? buffer.applying(orientation) : buffer)
        }
        return try result.get()
    }

    static func imageInfo(_ info: herdjpeg_info) -> ImageInfo {
        var subsampling: Int?
        if info.components == 3 {
            let h = (info.h_samp.0, info.h_samp.1, info.h_samp.2), v = (info.v_samp.0, info.v_samp.1, info.v_samp.2)
            if h.1 == h.2, v.1 == v.2, h.1 > 0, v.1 > 0 {
                switch (h.0 / h.1, v.0 / v.1) {
                case (1, 1): subsampling = 444
                case (2, 1): subsampling = 422
                case (2, 2): subsampling = 420
                case (1, 2): subsampling = 440
                case (4, 1): subsampling = 411
                default: subsampling = nil
                }
            }
        }
        return ImageInfo(
            format: .jpeg, width: Int(info.width), height: Int(info.height),
            orientation: ImageOrientation(rawValue: Int(info.orientation)) ?? .up,
            components: Int(info.components), hasAlpha: false, isProgressive: info.progressive != 0,
            chromaSubsampling: subsampling)
    }
}
