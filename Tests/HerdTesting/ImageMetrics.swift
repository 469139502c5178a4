import Foundation
import HerdImaging

/// Image comparison for codec and golden tests.
public enum ImageMetrics {
    /// Peak signal-to-noise ratio over all samples, in dB (infinity when identical).
    public static func psnr(_ a: PixelBuffer, _ b: PixelBuffer) -> Double {
        precondition(a.width == b.width && a.height == b.height && a.format == b.format, "images differ in shape")
        var sum = 0.0
        for i in 0..<a.bytes.count {
            let d = Double(a.bytes[i]) - Double(b.bytes[i])
            sum += d * d
        }
        if sum == 0 { return .infinity }
        let mse = sum / Double(a.bytes.count)
        return 10 * log10(255 * 255 / mse)
    }

    /// Fraction of pixels whose largest channel difference exceeds `threshold`.
    public static func differingFraction(_ a: PixelBuffer, _ b: PixelBuffer, threshold: Int) -> Double {
        precondition(a.width == b.width && a.height == b.height && a.format == b.format, "images differ in shape")
        let bpp = a.format.bytesPerPixel
        var count = 0
        for p in 0..<(a.width * a.height) {
            var worst = 0
            for c in 0..<bpp { worst = max(worst, abs(Int(a.bytes[p * bpp + c]) - Int(b.bytes[p * bpp + c]))) }
            if worst > threshold { count += 1 }
        }
        return Double(count) / Double(a.width * a.height)
    }
}
