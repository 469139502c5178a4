import CHerdPNG
import HerdImaging

/// Decodes PNG (1-16 bit; grey, grey+alpha, RGB, RGBA, palette; interlaced) to 8-bit samples.
/// Not thread-safe: give each task its own.
public final class PNGDecoder {
    private let handle: OpaquePointer
    public var limits: DecodeLimits

    public init(limits: DecodeLimits = .default) throws(CodecError) {
        guard let handle = herdpng_decoder_create() else { throw .outOfMemory("cannot create PNG decoder") }
        self.handle = handle
        self.limits = limits
    }

    deinit { herdpng_decoder_destroy(handle) }

    private var message: String { String(cString: herdpng_decoder_message(handle)) }

    /// Reads the signature and header only.
    public func readInfo(_ data: [UInt8]) throws(CodecError) -> ImageInfo {
        try limits.check(byteCount: data.count)
        let result: Result<ImageInfo, CodecError> = data.withUnsafeBytes { raw in
            var info = herdpng_info()
            let rc = herdpng_decoder_read_header(handle, raw.bindMemory(to: UInt8.self).baseAddress, raw.count, &info)
            defer { herdpng_decoder_abort(handle) }
            guard rc == 0 else { return .failure(.fromShim(rc, message)) }
            return .success(Self.imageInfo(info))
        }
        return try result.get()
    }

    /// Decodes to `format`; without a format, RGBA when the image has alpha, else RGB.
    public func decode(_ data: [UInt8], as format: PixelFormat? = nil) throws(CodecError) -> PixelBuffer {
        try limits.check(byteCount: data.count)
        guard ImageFormat.detect(data) == .png else { throw .unknownFormat("data does not start with the PNG signature") }
        let limits = self.limits
        let result: Result<PixelBuffer, CodecError> = data.withUnsafeBytes { raw in
            var info = herdpng_info()
            var rc = herdpng_decoder_read_header(handle, raw.bindMemory(to: UInt8.self).baseAddress, raw.count, &info)
            guard rc == 0 else { return .failure(.fromShim(rc, message)) }
            do throws(CodecError) {
                try limits.check(width: Int(info.width), height: Int(info.height))
            } catch {
                herdpng_decoder_abort(handle)
                return .failure(error)
            }
            let target = format ?? (info.has_alpha != 0 ? .rgba : .rgb)
            var buffer = PixelBuffer(width: Int(info.width), height: Int(info.height), format: target)
            let shimFormat: Int32 = switch target {
            case .gray: Int32(HERDPNG_PIXEL_GRAY)
            case .rgb: Int32(HERDPNG_PIXEL_RGB)
            case .rgba: Int32(HERDPNG_PIXEL_RGBA)
            }
            let stride = buffer.bytesPerRow
            rc = buffer.bytes.withUnsafeMutableBufferPointer { out in
                herdpng_decoder_decode(handle, shimFormat, out.baseAddress, stride)
            }
            guard rc == 0 else { return .failure(.fromShim(rc, message)) }
            return .success(buffer)
        }
        return try result.get()
    }

    static func imageInfo(_ info: herdpng_info) -> ImageInfo {
        ImageInfo(
            format: .png, width: Int(info.width), height: Int(info.height), orientation: .up,
            components: (info.is_color != 0 ? 3 : 1) + (info.has_alpha != 0 ? 1 : 0), hasAlpha: info.has_alpha != 0,
            isProgressive: false, chromaSubsampling: nil)
    }
}
