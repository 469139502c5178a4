import Foundation
import HerdCodecs
import HerdImaging
import HerdTesting
import Testing

@Suite("Coefficient path", .timeLimit(.minutes(3)))
struct CoefficientPathTests {
    /// Reference: decode, composite the same canvas in RGB (no re-encode).
    func reference(_ jpeg: [UInt8], _ canvas: Canvas) throws -> PixelBuffer {
        var image = try JPEGDecoder().decode(jpeg)
        try canvas.composite(onto: &image)
        return image
    }

    func region(_ image: PixelBuffer, _ r: (Int, Int, Int, Int)) -> PixelBuffer {
        var out = PixelBuffer(width: r.2, height: r.3, format: .rgb)
        for y in 0..<r.3 { for x in 0..<r.2 { out.setPixel(x: x, y: y, image.pixel(x: r.0 + x, y: r.1 + y)) } }
        return out
    }

    @Test("fast DCTs agree with the orthonormal DCT")
    func dctSelfTest() {
        #expect(JPEGOverlayTranscoder.dctSelfTestError() < 0.01)
    }

    @Test("shapes match the pixel path", arguments: ["opaque-rect", "translucent-rect", "triangle", "ring"])
    func matchesPixelPath(shape: String) throws {
        let jpeg = try SampleFrames.bytes("frames", "pen-night-720p.jpg")
        let canvas = try Canvas(width: 1280, height: 720)
        let purple = Color(red: 0xA8, green: 0x55, blue: 0xF7)
        switch shape {
        case "opaque-rect": try canvas.fillRect(Rect(x: 101.5, y: 99.25, width: 200, height: 120), color: purple)
        case "translucent-rect": try canvas.fillRect(Rect(x: 101.5, y: 99.25, width: 200, height: 120), color: purple.withOpacity(0.3))
        case "triangle": try canvas.fillPolygon([Point(x: 120, y: 100), Point(x: 300, y: 160), Point(x: 120, y: 220)], color: purple)
        default: try canvas.strokeCircle(center: Point(x: 200, y: 160), radius: 50, width: 6, color: purple)
        }
        let transcoder = try JPEGOverlayTranscoder()
        let composed = try JPEGDecoder().decode(try transcoder.compose(jpeg, canvas: canvas))
        let expected = try reference(jpeg, canvas)
        let original = try JPEGDecoder().decode(jpeg)
        let psnr = ImageMetrics.psnr(region(composed, (80, 80, 240, 160)), region(expected, (80, 80, 240, 160)))
        #expect(psnr > 30, "\(shape): PSNR \(psnr)")
        // Far from the overlay nothing changes at all.
        #expect(region(composed, (600, 300, 400, 300)) == region(original, (600, 300, 400, 300)))
        #expect(transcoder.lastCounts.untouched > 0)
    }

    @Test("a reused canvas leaves no trace of the previous frame")
    func reusedCanvas() throws {
        let jpeg = try SampleFrames.bytes("frames", "pen-day-720p.jpg")
        let canvas = try Canvas(width: 1280, height: 720)
        let transcoder = try JPEGOverlayTranscoder()
        // Frame 1 draws a big zone; frame 2 draws one thin line through the zone's tiles.
        try canvas.fillRect(Rect(x: 100, y: 100, width: 500, height: 300), color: Color(red: 0, green: 200, blue: 220, alpha: 120))
        _ = try transcoder.compose(jpeg, canvas: canvas)
        canvas.clear()
        try canvas.fillRect(Rect(x: 301, y: 90, width: 3, height: 400), color: .white)
        let composed = try JPEGDecoder().decode(try transcoder.compose(jpeg, canvas: canvas))
        let expected = try reference(jpeg, canvas)
        // Compare a band around the line but away from its edges' ringing: only the line may differ.
        let left = ImageMetrics.psnr(region(composed, (200, 120, 90, 300)), region(expected, (200, 120, 90, 300)))
        #expect(left > 40, "PSNR beside the line \(left)")
        let around = ImageMetrics.psnr(region(composed, (280, 100, 48, 380)), region(expected, (280, 100, 48, 380)))
        #expect(around > 30, "PSNR around the line \(around)")
    }
}
