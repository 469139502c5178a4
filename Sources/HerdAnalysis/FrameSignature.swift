/// A frame's few numbers for the integrity checks, from the analysis picture: mean and spread of
/// luma, sharpness (mean absolute Laplacian), and a 32x18 grey thumbnail to compare frames by.
public struct FrameSignature: Sendable, Hashable {
    public static let thumbWidth = 32
    public static let thumbHeight = 18

    public var meanLuma: Double
    public var lumaSpread: Double
    public var sharpness: Double
    public var thumbnail: [UInt8]

    public init(_ image: AnalysisImage) {
        let w = image.width, h = image.height
        var luma = [UInt8](repeating: 0, count: w * h)
        // Integer sums (exact, as the doubles they replaced were): no conversion per pixel.
        var sum = 0, sumSq = 0, laplacian = 0
        var thumb = [UInt8](repeating: 0, count: Self.thumbWidth * Self.thumbHeight)
        image.rgb.withUnsafeBufferPointer { rgb in
            luma.withUnsafeMutableBufferPointer { luma in
                for i in 0..<(w * h) {
                    let v = (Int(rgb[3 * i]) &* 3 &+ Int(rgb[3 * i + 1]) &* 6 &+ Int(rgb[3 * i + 2])) / 10
                    luma[i] = UInt8(truncatingIfNeeded: v)
                    sum &+= v
                    sumSq &+= v &* v
                }
                if w > 2 && h > 2 {
                    for y in 1..<(h - 1) {
                        for i in (y * w + 1)..<(y * w + w - 1) {
                            let l = 4 &* Int(luma[i]) &- Int(luma[i - 1]) &- Int(luma[i + 1]) &- Int(luma[i - w]) &- Int(luma[i + w])
                            laplacian &+= abs(l)
                        }
                    }
                }
                for ty in 0..<Self.thumbHeight {
                    let y0 = ty * h / Self.thumbHeight, y1 = max(y0 + 1, (ty + 1) * h / Self.thumbHeight)
                    for tx in 0..<Self.thumbWidth {
                        let x0 = tx * w / Self.thumbWidth, x1 = max(x0 + 1, (tx + 1) * w / Self.thumbWidth)
                        var s = 0, c = 0
                        for y in y0..<min(y1, h) {
                            for x in x0..<min(x1, w) {
                                s &+= Int(luma[y * w + x])
                                c &+= 1
                            }
                        }
                        thumb[ty * Self.thumbWidth + tx] = UInt8(c > 0 ? s / c : 0)
                    }
                }
            }
        }
        let n = Double(max(1, w * h))
        meanLuma = Double(sum) / n
        lumaSpread = max(0, Double(sumSq) / n - meanLuma * meanLuma).squareRoot()
        sharpness = w > 2 && h > 2 ? Double(laplacian) / Double((w - 2) * (h - 2)) : 0
        thumbnail = thumb
    }

    /// Mean absolute difference of two thumbnails (0: the same picture), on the 0…255 scale.
    public func difference(_ other: FrameSignature) -> Double {
        var s = 0
        for (a, b) in zip(thumbnail, other.thumbnail) { s += abs(Int(a) - Int(b)) }
        return Double(s) / Double(max(1, thumbnail.count))
    }
}
