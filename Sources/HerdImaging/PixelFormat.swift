/// The memory layout of one pixel: 8-bit samples, interleaved, straight (not premultiplied) alpha.
public enum PixelFormat: Sendable, Hashable, CustomStringConvertible {
    case gray
    case rgb
    case rgba

    /// Bytes per pixel.
    public var bytesPerPixel: Int {
        switch self {
        case .gray: 1
        case .rgb: 3
        case .rgba: 4
        }
    }

    public var description: String {
        switch self {
        case .gray: "gray"
        case .rgb: "rgb"
        case .rgba: "rgba"
        }
    }
}
