import HerdCodecs
import HerdImaging
import HerdTesting
import Testing

/// The coefficient path must leave every block the overlay does not touch exactly as received.
@Suite("Coefficient path keeps evidence", .timeLimit(.minutes(3)))
struct TranscoderEvidenceTests {
    @Test("an empty overlay changes no pixel", arguments: ["pen-day-720p.jpg", "pen-night-1080p.jpg"])
    func emptyOverlay(name: String) throws {
        let jpeg = try SampleFrames.bytes("frames", name)
        let info = try JPEGDecoder().readInfo(jpeg)
        let canvas = try Canvas(width: info.width, height: info.height)
        let out = try JPEGOverlayTranscoder().compose(jpeg, canvas: canvas)
        let identical = try JPEGDecoder().decode(out) == (try JPEGDecoder().decode(jpeg))
        #expect(identical)
    }

    @Test("only MCUs under the overlay change")
    func onlyTouchedBlocksChange() throws {
        let jpeg = try SampleFrames.bytes("frames", "pen-day-720p.jpg")
        let canvas = try Canvas(width: 1280, height: 720)
        try canvas.strokeRect(Rect(x: 203.5, y: 101.25, width: 150, height: 90), width: 3, color: Color(red: 0, green: 255, blue: 0))
        let transcoder = try JPEGOverlayTranscoder()
        let out = try JPEGDecoder().decode(try transcoder.compose(jpeg, canvas: canvas))
        let original = try JPEGDecoder().decode(jpeg)
        // 4:2:0 MCUs are 16x16: pixels outside the MCUs the stroke touches must be identical.
        // libjpeg's fancy chroma upsampling reaches one pixel across an MCU edge: allow two.
        let x0 = (202 / 16) * 16 - 2, x1 = ((355 + 15) / 16) * 16 + 2, y0 = (99 / 16) * 16 - 2, y1 = ((193 + 15) / 16) * 16 + 2
        var changedOutside = 0, changedInside = 0
        for y in 0..<720 {
            for x in 0..<1280 where out.pixel(x: x, y: y) != original.pixel(x: x, y: y) {
                if x >= x0 && x < x1 && y >= y0 && y < y1 { changedInside += 1 } else { changedOutside += 1 }
            }
        }
        #expect(changedOutside == 0)
        #expect(changedInside > 1000)
        #expect(transcoder.lastCounts.retransformed > 0 && transcoder.lastCounts.untouched > 20_000)
    }

    @Test("unsupported layouts say so")
    func refusesOrientation() throws {
        let jpeg = try SampleFrames.bytes("variants", "jpeg-exif-orientation-6.jpg")
        let canvas = try Canvas(width: 180, height: 320)
        #expect(throws: CodecError.unsupported()) { try JPEGOverlayTranscoder().compose(jpeg, canvas: canvas) }
        let mismatched = try Canvas(width: 10, height: 10)
        #expect(throws: CodecError.invalidArgument("")) {
            try JPEGOverlayTranscoder().compose(try SampleFrames.bytes("variants", "jpeg-420-baseline.jpg"), canvas: mismatched)
        }
    }

    @Test("malformed input fails cleanly in the coefficient path too", arguments: SampleFrames.malformedNames.filter { $0.hasSuffix(".jpg") })
    func malformed(name: String) throws {
        let data = try SampleFrames.bytes("malformed", name)
        let canvas = try Canvas(width: 320, height: 180)
        let expected = String(name.split(separator: "-", maxSplits: 1)[0])
        do {
            _ = try JPEGOverlayTranscoder().compose(data, canvas: canvas)
            Issue.record("\(name) was accepted")
        } catch {
            // A header the transcoder can read but whose size differs from the canvas is refused as such.
            #expect(error.code == expected || error.code == "invalidArgument", "\(name): \(error)")
        }
    }
}
