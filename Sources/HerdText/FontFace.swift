import CHerdFreeType
import Foundation

/// One font face opened with FreeType. Not thread-safe (FreeType faces are not); a `TextRenderer`
/// owns its faces.
public final class FontFace {
    private static let sharedLibraryLock = NSLock()

    private let library: OpaquePointer
    private let handle: OpaquePointer
    private var currentSize: Int32 = 0
    /// The file the face came from.
    public let path: String
    /// Family name as the font states it.
    public let family: String

    /// Opens face `index` of the font file at `path` (a .ttc holds several).
    public init(path: String, index: Int = 0) throws(FontError) {
        guard FileManager.default.isReadableFile(atPath: path) else { throw .notFound("no readable font file at \(path)") }
        var error: Int32 = 0
        guard let library = herdft_library_create(&error) else {
            throw .freeType("FreeType init failed: \(String(cString: herdft_error_string(error)))")
        }
        guard let handle = herdft_face_open(library, path, Int32(index), &error) else {
            herdft_library_destroy(library)
            throw .unreadable("\(path): \(String(cString: herdft_error_string(error)))")
        }
        self.library = library
        self.handle = handle
        self.path = path
        self.family = String(cString: herdft_face_family(handle))
    }

    deinit {
        herdft_face_destroy(handle)
        herdft_library_destroy(library)
    }

    /// The face's glyph for a Unicode scalar; 0 when the face has none.
    public func glyphIndex(for scalar: Unicode.Scalar) -> UInt32 {
        herdft_face_glyph_index(handle, scalar.value)
    }

    func setPixelSize(_ size: Int32) throws(FontError) {
        if size == currentSize { return }
        let error = herdft_face_set_pixel_size(handle, size)
        guard error == 0 else { throw .freeType("cannot size \(family) at \(size) px: \(String(cString: herdft_error_string(error)))") }
        currentSize = size
    }

    /// Ascender, descender (negative) and line height at `size` pixels.
    func lineMetrics(size: Int32) throws(FontError) -> (ascender: Double, descender: Double, height: Double) {
        try setPixelSize(size)
        var metrics = herdft_metrics()
        herdft_face_metrics(handle, &metrics)
        return (Double(metrics.ascender) / 64, Double(metrics.descender) / 64, Double(metrics.height) / 64)
    }

    func kerning(size: Int32, _ left: UInt32, _ right: UInt32) throws(FontError) -> Double {
        try setPixelSize(size)
        return Double(herdft_face_kerning(handle, left, right)) / 64
    }

    /// Renders one glyph to an 8-bit coverage bitmap.
    func render(glyph: UInt32, size: Int32) throws(FontError) -> Glyph {
        try setPixelSize(size)
        var out = herdft_glyph()
        let error = herdft_face_render(handle, glyph, &out)
        guard error == 0 else { throw .freeType("cannot render glyph \(glyph) of \(family): \(String(cString: herdft_error_string(error)))") }
        var coverage = [UInt8](repeating: 0, count: Int(out.width) * Int(out.rows))
        if out.width > 0, out.rows > 0, let buffer = out.buffer {
            let pitch = Int(out.pitch)
            for row in 0..<Int(out.rows) {
                let src = pitch >= 0 ? buffer + row * pitch : buffer + (Int(out.rows) - 1 - row) * -pitch
                for col in 0..<Int(out.width) { coverage[row * Int(out.width) + col] = src[col] }
            }
        }
        return Glyph(
            width: Int(out.width), height: Int(out.rows), left: Int(out.left), top: Int(out.top),
            advance: Double(out.advance_x) / 64, coverage: coverage)
    }
}
