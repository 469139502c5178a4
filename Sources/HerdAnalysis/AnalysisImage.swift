import HerdImaging

/// The small RGB picture analysis works on (a scaled decode of the frame, reduced further to at most
/// `maxSide` pixels on its longer side) and the frame size its results map back to.
///
/// Working at one fixed size keeps the detector's pixel parameters (opening radius, minimum area)
/// meaning the same thing for a 720p, a 1080p and a 421-pixel frame.
public struct AnalysisImage: Sendable {
    public let width: Int
    public let height: Int
    /// RGB, 3 bytes a pixel, row-major.
    public let rgb: [UInt8]
    /// The frame (display) size that detections are reported in.
    public let frameWidth: Int
    public let frameHeight: Int

    /// The working size's longer side.
    public static let maxSide = 320

    /// Wraps RGB samples already at the working size (a codec worker's answer).
    public init(rgb: [UInt8], width: Int, height: Int, frameWidth: Int, frameHeight: Int) {
        precondition(rgb.count == width * height * 3, "sample count does not match size")
        self.rgb = rgb
        self.width = width
        self.height = height
        self.frameWidth = frameWidth
        self.frameHeight = frameHeight
    }

    /// Box-filters `buffer` (any format) down to at most `maxSide` on its longer side; a buffer already
    /// that small is only converted to RGB.
    public init(_ buffer: PixelBuffer, frameWidth: Int? = nil, frameHeight: Int? = nil, maxSide: Int = AnalysisImage.maxSide) {
        let fw = frameWidth ?? buffer.width
        let fh = frameHeight ?? buffer.height
        let longer = max(buffer.width, buffer.height)
        let scale = longer > maxSide ? Double(maxSide) / Double(longer) : 1
        let w = max(1, Int((Double(buffer.width) * scale).rounded()))
        let h = max(1, Int((Double(buffer.height) * scale).rounded()))
        self.width = w
        self.height = h
        self.frameWidth = fw
        self.frameHeight = fh
        self.rgb = Self.reduce(buffer, to: w, h)
    }

    /// The libjpeg scale denominator (1, 2, 4 or 8) for a frame whose longer side is `longerSide`: the
    /// smallest decode still at least `maxSide` on that side, reduced the rest of the way by `init`.
    public static func decodeDenominator(longerSide: Int, maxSide: Int = AnalysisImage.maxSide) -> Int {
        [8, 4, 2].first { longerSide / $0 >= maxSide } ?? 1
    }

    /// Frame pixels per working pixel, horizontally and vertically.
    public var scaleX: Double { Double(frameWidth) / Double(width) }
    public var scaleY: Double { Double(frameHeight) / Double(height) }

    /// Area-averaging reduction (each output pixel the mean of the source pixels it covers).
    private static func reduce(_ buffer: PixelBuffer, to w: Int, _ h: Int) -> [UInt8] {
        let bpp = buffer.format.bytesPerPixel
        let sw = buffer.width
        let sh = buffer.height
        if sw == w && sh == h && buffer.format == .rgb { return buffer.bytes }
        var out = [UInt8](repeating: 0, count: w * h * 3)
        guard sw > 0, sh > 0 else { return out }
        buffer.bytes.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<h {
                    let y0 = y * sh / h
                    let y1 = max(y0 + 1, (y + 1) * sh / h)
                    for x in 0..<w {
                        let x0 = x * sw / w
                        let x1 = max(x0 + 1, (x + 1) * sw / w)
                        var r = 0, g = 0, b = 0
                        for sy in y0..<y1 {
                            var i = (sy * sw + x0) * bpp
                            for _ in x0..<x1 {
                                if bpp == 1 {
                                    let v = Int(src[i])
                                    r += v; g += v; b += v
                                } else {
                                    r += Int(src[i]); g += Int(src[i + 1]); b += Int(src[i + 2])
                                }
                                i += bpp
                            }
                        }
                        let n = (y1 - y0) * (x1 - x0)
                        let o = (y * w + x) * 3
                        dst[o] = UInt8(r / n)
                        dst[o + 1] = UInt8(g / n)
                        dst[o + 2] = UInt8(b / n)
                    }
                }
            }
        }
        return out
    }
}
