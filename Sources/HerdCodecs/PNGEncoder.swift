import CHerdPNG
import HerdImaging

/// Encodes a `PixelBuffer` as 8-bit PNG, losslessly. Reuses its output buffer; not thread-safe.
public final class PNGEncoder {
    private let handle: OpaquePointer

    public init() throws(CodecError) {
        guard let handle = herdpng_encoder_create() else { throw .outOfMemory("cannot create PNG encoder") }
        self.handle = handle
    }

    deinit { herdpng_encoder_destroy(handle) }

    /// PNG bytes for `image`; `fast` trades file size for speed.
    public func encode(_ image: PixelBuffer, fast: Bool = false) throws(CodecError) -> [UInt8] {
        let format: Int32 = switch image.format {
        case .gray: Int32(HERDPNG_PIXEL_GRAY)
        case .rgb: Int32(HERDPNG_PIXEL_RGB)
        case .rgba: Int32(HERDPNG_PIXEL_RGBA)
        }
        let rc = image.bytes.withUnsafeBufferPointer { pixels in
            herdpng_encoder_encode(
                handle, pixels.baseAddress, Int32(clamping: image.width), Int32(clamping: image.height), image.bytesPerRow,
                format, fast ? 1 : 0)
        }
        guard rc == 0 else { throw .fromShim(rc, String(cString: herdpng_encoder_message(handle))) }
        var length = 0
        let output = herdpng_encoder_output(handle, &length)!
        return Array(UnsafeBufferPointer(start: output, count: length))
    }
}
