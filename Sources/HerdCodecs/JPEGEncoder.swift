import CHerdJPEG
import HerdImaging

/// Chroma subsampling for JPEG encode.
public enum ChromaSubsampling: Int, Sendable, CaseIterable {
    case none = 444
    case horizontal = 422
    case both = 420
}

/// Encodes a `PixelBuffer` as JPEG. Reuses one libjpeg compressor and its output buffer; not thread-safe.
public final class JPEGEncoder {
    private let handle: OpaquePointer

    public init() throws(CodecError) {
        guard let handle = herdjpeg_encoder_create() else { throw .outOfMemory("cannot create JPEG encoder") }
        self.handle = handle
    }

    deinit { herdjpeg_encoder_destroy(handle) }

    /// JPEG bytes for `image`; alpha is ignored. Quality is 1...100.
    public func encode(
        _ image: PixelBuffer, quality: Int = 85, subsampling: ChromaSubsampling = .both, progressive: Bool = false,
        optimizeCoding: Bool = false
    ) throws(CodecError) -> [UInt8] {
        guard (1...100).contains(quality) else { throw .invalidArgument("JPEG quality \(quality) is outside 1...100") }
        let format: Int32 = switch image.format {
        case .gray: Int32(HERDJPEG_PIXEL_GRAY)
        case .rgb: Int32(HERDJPEG_PIXEL_RGB)
        case .rgba: Int32(HERDJPEG_PIXEL_RGBA)
        }
        let rc = image.bytes.withUnsafeBufferPointer { pixels in
            herdjpeg_encoder_encode(
                handle, pixels.baseAddress, Int32(clamping: image.width), Int32(clamping: image.height), image.bytesPerRow,
                format, Int32(quality), Int32(subsampling.rawValue), progressive ? 1 : 0, optimizeCoding ? 1 : 0)
        }
        guard rc == 0 else { throw .fromShim(rc, String(cString: herdjpeg_encoder_message(handle))) }
        var length = 0
        let output = herdjpeg_encoder_output(handle, &length)!
        return Array(UnsafeBufferPointer(start: output, count: length))
    }
}
