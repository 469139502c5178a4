import Foundation
import HerdCodecs
import HerdImaging
import HerdOverlay
import HerdProtocol
import HerdTesting
import Testing

@Suite("Frame composer", .timeLimit(.minutes(3)))
struct FrameComposerTests {
    let box = AnnotationSet(frame: FrameSize(width: 640, height: 360), items: [
        .box(BoxAnnotation(rect: PixelRect(x: 100, y: 100, width: 200, height: 100), style: AnnotationStyle(stroke: "#FF0000", strokeWidth: 8))),
    ])

    @Test("the path follows input, output and quality")
    func paths() throws {
        let composer = try FrameComposer(renderer: OverlayRenderer())
        let jpeg = try SampleFrames.bytes("variants", "jpeg-420-baseline.jpg")
        #expect(try composer.compose(jpeg, annotations: box).report.path == .coefficients)
        #expect(try composer.compose(jpeg, annotations: box, options: ComposeOptions(quality: 70)).report.path == .pixels)
        #expect(try composer.compose(jpeg, annotations: box, options: ComposeOptions(allowCoefficientPath: false)).report.path == .pixels)
        let png = try composer.compose(jpeg, annotations: box, options: ComposeOptions(outputFormat: .png))
        #expect(png.report.path == .pixels && ImageFormat.detect(png.bytes) == .png)
        let fromPNG = try composer.compose(try SampleFrames.bytes("variants", "png-rgb8.png"), annotations: box)
        #expect(fromPNG.report.path == .pixels && ImageFormat.detect(fromPNG.bytes) == .jpeg)
        let rotated = try composer.compose(try SampleFrames.bytes("variants", "jpeg-exif-orientation-6.jpg"), annotations: box)
        #expect(rotated.report.path == .pixels)
        let upright = try JPEGDecoder().decode(rotated.bytes)
        #expect(upright.width == 320 && upright.height == 180)
    }

    @Test("annotations scale to the frame they are drawn on")
    func scaling() throws {
        let composer = try FrameComposer(renderer: OverlayRenderer())
        let jpeg = try SampleFrames.bytes("variants", "jpeg-444.jpg")
        let out = try JPEGDecoder().decode(try composer.compose(jpeg, annotations: box, options: ComposeOptions(quality: 95, subsampling: .none)).bytes)
        // Box (100,100)-(300,200) at 640x360 is (50,50)-(150,100) at 320x180: red on its left edge.
        let edge = out.pixel(x: 50, y: 75)
        #expect(edge.red > 200 && edge.green < 80 && edge.blue < 80)
        let inside = out.pixel(x: 100, y: 75)
        #expect(!(inside.red > 200 && inside.green < 80))
    }

    @Test("a bad frame is a CodecError and the composer carries on")
    func badFrame() throws {
        let composer = try FrameComposer(renderer: OverlayRenderer())
        #expect(throws: CodecError.truncated()) {
            try composer.compose(try SampleFrames.bytes("malformed", "truncated--jpeg-half.jpg"), annotations: box)
        }
        #expect(throws: CodecError.unknownFormat()) { try composer.compose(Array("hello".utf8), annotations: box) }
        #expect(try composer.compose(try SampleFrames.bytes("variants", "jpeg-422.jpg"), annotations: box).bytes.count > 1000)
    }
}
