/// An sRGB colour with straight alpha, 8 bits a channel.
public struct Color: Sendable, Hashable, CustomStringConvertible {
    public var red: UInt8
    public var green: UInt8
    public var blue: UInt8
    public var alpha: UInt8

    public init(red: UInt8, green: UInt8, blue: UInt8, alpha: UInt8 = 255) {
        self.red = red
        self.green = green
        self.blue = blue
        self.alpha = alpha
    }

    /// Parses `#RGB`, `#RRGGBB` or `#RRGGBBAA` (the `#` is optional); nil when malformed.
    public init?(hex: String) {
        var text = Substring(hex)
        if text.hasPrefix("#") { text = text.dropFirst() }
        guard text.allSatisfy(\.isHexDigit), let value = UInt32(text, radix: 16) else { return nil }
        switch text.count {
        case 3:
            func nibble(_ shift: UInt32) -> UInt8 { UInt8((value >> shift) & 0xF) * 17 }
            self.init(red: nibble(8), green: nibble(4), blue: nibble(0))
        case 6:
            self.init(red: UInt8(value >> 16 & 0xFF), green: UInt8(value >> 8 & 0xFF), blue: UInt8(value & 0xFF))
        case 8:
            self.init(
                red: UInt8(value >> 24 & 0xFF), green: UInt8(value >> 16 & 0xFF),
                blue: UInt8(value >> 8 & 0xFF), alpha: UInt8(value & 0xFF))
        default:
            return nil
        }
    }

    /// The same colour with its alpha multiplied by `opacity` (0...1).
    public func withOpacity(_ opacity: Double) -> Color {
        let o = opacity.isFinite ? min(max(opacity, 0), 1) : 1
        var c = self
        c.alpha = UInt8((Double(alpha) * o).rounded())
        return c
    }

    /// Rec. 601 luma, as JPEG uses.
    public var luma: UInt8 {
        let r: UInt32 = 299 * UInt32(red)
        let g: UInt32 = 587 * UInt32(green)
        let b: UInt32 = 114 * UInt32(blue)
        return UInt8((r + g + b + 500) / 1000)
    }

    /// `#RRGGBBAA`.
    public var description: String {
        func hex(_ v: UInt8) -> String {
            let s = String(v, radix: 16, uppercase: true)
            return s.count == 1 ? "0" + s : s
        }
        return "#" + hex(red) + hex(green) + hex(blue) + hex(alpha)
    }

    public static let black = Color(red: 0, green: 0, blue: 0)
    public static let white = Color(red: 255, green: 255, blue: 255)
    public static let clear = Color(red: 0, green: 0, blue: 0, alpha: 0)
}
