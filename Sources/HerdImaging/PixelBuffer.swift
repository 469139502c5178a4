/// An image in memory: `height` rows of `width` pixels, tightly packed, in `format`.
///
/// Value semantics (copy on write). The codecs decode into it, the canvas composites onto it, and the
/// encoders read from it.
public struct PixelBuffer: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let format: PixelFormat
    /// The samples, row-major, `bytesPerRow` bytes a row.
    public var bytes: [UInt8]

    /// Bytes in one row.
    public var bytesPerRow: Int { width * format.bytesPerPixel }

    /// A buffer filled with one colour.
    public init(width: Int, height: Int, format: PixelFormat, fill: Color = .black) {
        precondition(width >= 0 && height >= 0, "negative image size")
        self.width = width
        self.height = height
        self.format = format
        let count = width * height * format.bytesPerPixel
        let channels = [fill.red, fill.green, fill.blue, fill.alpha].prefix(format == .rgba ? 4 : 3)
        if format != .gray, channels.allSatisfy({ $0 == fill.red }) {
            // One byte value everywhere (black, white, clear): a plain memset.
            self.bytes = [UInt8](repeating: fill.red, count: count)
            return
        }
        switch format {
        case .gray:
            self.bytes = [UInt8](repeating: fill.luma, count: count)
        case .rgb:
            var bytes = [UInt8](repeating: 0, count: count)
            var i = 0
            while i < count {
                bytes[i] = fill.red
                bytes[i + 1] = fill.green
                bytes[i + 2] = fill.blue
                i += 3
            }
            self.bytes = bytes
        case .rgba:
            var bytes = [UInt8](repeating: 0, count: count)
            var i = 0
            while i < count {
                bytes[i] = fill.red
                bytes[i + 1] = fill.green
                bytes[i + 2] = fill.blue
                bytes[i + 3] = fill.alpha
                i += 4
            }
            self.bytes = bytes
        }
    }

    /// Wraps existing samples; `bytes.count` must equal `width * height * bytesPerPixel`.
    public init(width: Int, height: Int, format: PixelFormat, bytes: [UInt8]) {
        precondition(bytes.count == width * height * format.bytesPerPixel, "sample count does not match size")
        self.width = width
        self.height = height
        self.format = format
        self.bytes = bytes
    }

    /// The colour at (x, y); grey and RGB read as opaque.
    public func pixel(x: Int, y: Int) -> Color {
        precondition(x >= 0 && x < width && y >= 0 && y < height, "pixel out of bounds")
        let i = (y * width + x) * format.bytesPerPixel
        switch format {
        case .gray: return Color(red: bytes[i], green: bytes[i], blue: bytes[i])
        case .rgb: return Color(red: bytes[i], green: bytes[i + 1], blue: bytes[i + 2])
        case .rgba: return Color(red: bytes[i], green: bytes[i + 1], blue: bytes[i + 2], alpha: bytes[i + 3])
        }
    }

    /// Sets the colour at (x, y), ignoring alpha for formats without it.
    public mutating func setPixel(x: Int, y: Int, _ color: Color) {
        precondition(x >= 0 && x < width && y >= 0 && y < height, "pixel out of bounds")
        let i = (y * width + x) * format.bytesPerPixel
        switch format {
        case .gray:
            bytes[i] = color.luma
        case .rgb:
            bytes[i] = color.red
            bytes[i + 1] = color.green
            bytes[i + 2] = color.blue
        case .rgba:
            bytes[i] = color.red
            bytes[i + 1] = color.green
            bytes[i + 2] = color.blue
            bytes[i + 3] = color.alpha
        }
    }

    /// This image in another pixel format (alpha dropped onto black, grey expanded, colour weighted to luma).
    public func converted(to target: PixelFormat) -> PixelBuffer {
        if target == format { return self }
        var out = PixelBuffer(width: width, height: height, format: target)
        let n = width * height
        let sb = format.bytesPerPixel, db = target.bytesPerPixel
        bytes.withUnsafeBufferPointer { src in
            out.bytes.withUnsafeMutableBufferPointer { dst in
                for p in 0..<n {
                    let s = p * sb, d = p * db
                    var r: UInt8, g: UInt8, b: UInt8, a: UInt8 = 255
                    if sb == 1 {
                        r = src[s]; g = r; b = r
                    } else {
                        r = src[s]; g = src[s + 1]; b = src[s + 2]
                        if sb == 4 {
                            a = src[s + 3]
                            if target != .rgba {
                                r = UInt8((UInt32(r) * UInt32(a) + 127) / 255)
                                g = UInt8((UInt32(g) * UInt32(a) + 127) / 255)
                                b = UInt8((UInt32(b) * UInt32(a) + 127) / 255)
                            }
                        }
                    }
                    switch target {
                    case .gray: dst[d] = Color(red: r, green: g, blue: b).luma
                    case .rgb: dst[d] = r; dst[d + 1] = g; dst[d + 2] = b
                    case .rgba: dst[d] = r; dst[d + 1] = g; dst[d + 2] = b; dst[d + 3] = a
                    }
                }
            }
        }
        return out
    }
}
