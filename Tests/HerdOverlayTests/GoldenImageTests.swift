import Foundation
import HerdCodecs
import HerdImaging
import HerdOverlay
import HerdProtocol
import HerdTesting
import Testing

/// The renderer's output against committed golden images, within a tolerance (not byte-exact: FreeType
/// and float rounding may differ in the last bit). `HERDLENS_UPDATE_GOLDENS=1 swift test` rewrites them.
@Suite("Golden images", .timeLimit(.minutes(3)))
struct GoldenImageTests {
    static let goldens = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    func annotations(_ name: String) throws -> AnnotationSet {
        try AnnotationSet.decode(json: Data(contentsOf: SampleFrames.repositoryRoot.appendingPathComponent("Protocol/v1/examples/\(name)")))
    }

    func compare(_ image: PixelBuffer, golden name: String, minimumPSNR: Double, maximumDiffering: Double, owner: Bool = true) throws {
        let url = Self.goldens.appendingPathComponent(name)
        if owner, ProcessInfo.processInfo.environment["HERDLENS_UPDATE_GOLDENS"] == "1" {
            try Data(try PNGEncoder().encode(image)).write(to: url)
        }
        let golden = try PNGDecoder().decode([UInt8](Data(contentsOf: url)), as: image.format)
        let psnr = ImageMetrics.psnr(image, golden)
        let differing = ImageMetrics.differingFraction(image, golden, threshold: 24)
        #expect(psnr >= minimumPSNR, "\(name): PSNR \(psnr) dB")
        #expect(differing <= maximumDiffering, "\(name): \(differing * 100)% of pixels differ by more than 24")
        if psnr < minimumPSNR || differing > maximumDiffering {
            let actual = FileManager.default.temporaryDirectory.appendingPathComponent("actual-" + name)
            try Data(try PNGEncoder().encode(image)).write(to: actual)
            Issue.record("wrote the actual image to \(actual.path) for inspection")
        }
    }

    @Test("every annotation kind, composited in pixels")
    func allKindsPixels() throws {
        let frame = try SampleFrames.bytes("variants", "jpeg-420-baseline.jpg")
        var image = try JPEGDecoder().decode(frame)
        let canvas = try Canvas(width: image.width, height: image.height)
        try OverlayRenderer().render(try annotations("annotations-all-kinds.json"), on: canvas)
        try canvas.composite(onto: &image)
        try compare(image, golden: "all-kinds-320x180.png", minimumPSNR: 40, maximumDiffering: 0.002)
    }

    @Test("the coefficient path looks like the same golden")
    func allKindsCoefficients() throws {
        let frame = try SampleFrames.bytes("variants", "jpeg-420-baseline.jpg")
        let composer = try FrameComposer(renderer: OverlayRenderer())
        let (bytes, report) = try composer.compose(frame, annotations: try annotations("annotations-all-kinds.json"))
        #expect(report.path == .coefficients)
        let image = try JPEGDecoder().decode(bytes)
        // Re-quantized at the source's q85 with 4:2:0 chroma (coloured text loses chroma detail): close, not identical.
        try compare(image, golden: "all-kinds-320x180.png", minimumPSNR: 26, maximumDiffering: 0.12, owner: false)
    }

    @Test("a real pen frame with its sidecar annotations")
    func penFrame() throws {
        let frame = try SampleFrames.bytes("frames", "pen-amp0-720p.jpg")
        let set = try AnnotationSet.decode(json: Data(contentsOf: SampleFrames.url("frames", "pen-amp0-720p.annotations.json")))
        var image = try JPEGDecoder().decode(frame, scale: .half)
        // The set says 1280x720; drawn on the half-size decode it must scale down.
        let canvas = try Canvas(width: image.width, height: image.height)
        try OverlayRenderer().render(set, on: canvas)
        try canvas.composite(onto: &image)
        try compare(image, golden: "pen-amp0-640x360.png", minimumPSNR: 40, maximumDiffering: 0.002)
    }
}
