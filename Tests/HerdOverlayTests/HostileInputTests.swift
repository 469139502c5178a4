import HerdCodecs
import HerdImaging
import HerdOverlay
import HerdProtocol
import HerdTesting
import Testing

/// Inputs that other decoders open but that once crashed the coefficient path (issue 7): each is
/// refused by the transcoder as `unsupported` before any blending, and the composer renders it through
/// the pixel path exactly as the pixel path renders it on its own.
@Suite("Hostile inputs compose", .timeLimit(.minutes(1)))
struct HostileInputTests {
    static let annotations = AnnotationSet(
        frame: FrameSize(width: 320, height: 180),
        items: [
            .box(BoxAnnotation(rect: PixelRect(x: 20, y: 20, width: 120, height: 90), label: "pig 0.91")),
            .polygon(PolygonAnnotation(points: [PixelPoint(x: 160, y: 30), PixelPoint(x: 300, y: 40), PixelPoint(x: 280, y: 160)])),
        ])

    @Test("the transcoder refuses it as unsupported", arguments: SampleFrames.hostileNames)
    func transcoderRefuses(name: String) throws {
        let jpeg = try SampleFrames.bytes("hostile", name)
        let canvas = try Canvas(width: 320, height: 180)
        try canvas.fillRect(Rect(x: 10, y: 10, width: 100, height: 60), color: Color(red: 200, green: 40, blue: 40, alpha: 160))
        let transcoder = try JPEGOverlayTranscoder()
        #expect(throws: CodecError.unsupported()) { try transcoder.compose(jpeg, canvas: canvas) }
        // The same transcoder still composes a good frame afterwards.
        let good = try SampleFrames.bytes("variants", "jpeg-420-baseline.jpg")
        let out = try JPEGDecoder().decode(try transcoder.compose(good, canvas: canvas))
        #expect(out.width == 320 && out.height == 180)
    }

    @Test("the composer renders it through the pixel path", arguments: SampleFrames.hostileNames)
    func composerRenders(name: String) throws {
        let jpeg = try SampleFrames.bytes("hostile", name)
        let composer = try FrameComposer(renderer: OverlayRenderer())
        let (bytes, report) = try composer.compose(jpeg, annotations: Self.annotations)
        #expect(report.path == .pixels)
        let composed = try JPEGDecoder().decode(bytes)
        #expect(composed.width == 320 && composed.height == 180)
        // The pixel path on its own gives the same picture (up to JPEG re-encoding).
        let (reference, _) = try composer.compose(jpeg, annotations: Self.annotations, options: ComposeOptions(allowCoefficientPath: false))
        let psnr = ImageMetrics.psnr(composed, try JPEGDecoder().decode(reference))
        #expect(psnr > 45, "\(name): PSNR \(psnr)")
    }

    /// libjpeg-turbo installs its standard Huffman tables only into empty slots: after an optimized
    /// write the slots held that frame's tables and the next plain write produced a JPEG that stopped
    /// decoding at the first symbol they lacked (found by the jpeg_transcode fuzzer).
    @Test("an optimized write leaves no tables behind for the next frame")
    func optimizedThenPlain() throws {
        let canvas = try Canvas(width: 320, height: 180)
        try canvas.fillRect(Rect(x: 0, y: 0, width: 320, height: 180), color: Color(red: 250, green: 250, blue: 250, alpha: 128))
        let transcoder = try JPEGOverlayTranscoder()
        let frames = ["jpeg-grey.jpg", "jpeg-420-baseline.jpg", "jpeg-444.jpg"]
        for (i, name) in (frames + frames).enumerated() {
            let jpeg = try SampleFrames.bytes("variants", name)
            let out = try transcoder.compose(jpeg, canvas: canvas, optimizeCoding: i % 2 == 0)
            let decoded = try JPEGDecoder().decode(out)
            #expect(decoded.width == 320, "\(name) after \(i) frames")
        }
        let encoder = try JPEGEncoder()
        let image = try JPEGDecoder().decode(try SampleFrames.bytes("variants", "jpeg-444.jpg"))
        for i in 0..<4 {
            let out = try encoder.encode(image, quality: 90, optimizeCoding: i % 2 == 0)
            #expect(try JPEGDecoder().decode(out).height == 180, "encode \(i)")
        }
    }
}
