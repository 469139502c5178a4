import Foundation
import HerdCodecs
import HerdTesting
import Testing

/// Every hostile file throws its documented code (the prefix of its name) and the process lives on.
@Suite("Malformed input", .timeLimit(.minutes(3)))
struct MalformedInputTests {
    @Test("decoder rejects", arguments: SampleFrames.malformedNames)
    func rejects(name: String) throws {
        let expected = String(name.split(separator: "-", maxSplits: 1)[0])
        let data = try SampleFrames.bytes("malformed", name)
        let decoder = try ImageDecoder()
        do {
            let image = try decoder.decode(data)
            Issue.record("\(name) decoded to \(image.width)x\(image.height) instead of failing with \(expected)")
        } catch {
            #expect(error.code == expected, "\(name): \(error.message)")
            #expect(!error.message.isEmpty)
        }
        // The same decoder still decodes a good frame afterwards.
        let good = try decoder.decode(try SampleFrames.bytes("variants", "jpeg-420-baseline.jpg"))
        #expect(good.width == 320 && good.height == 180)
    }

    @Test("huge header is refused before allocating pixels")
    func hugeHeaderCostsNothing() throws {
        let decoder = try ImageDecoder()
        let jpeg = try SampleFrames.bytes("malformed", "tooLarge--jpeg-20000x20000-header.jpg")
        let jpegInfo = try decoder.readInfo(jpeg)
        #expect(jpegInfo.width == 20000 && jpegInfo.height == 20000)
        #expect(throws: CodecError.tooLarge()) { try decoder.decode(jpeg) }
        let png = try SampleFrames.bytes("malformed", "tooLarge--png-bomb-100000x100000.png")
        let pngInfo = try decoder.readInfo(png)
        #expect(pngInfo.width == 100000 && pngInfo.height == 100000)
        #expect(throws: CodecError.tooLarge()) { try decoder.decode(png) }
    }

    @Test("limits are configurable")
    func configurableLimit() throws {
        let decoder = try ImageDecoder(limits: DecodeLimits(maxPixels: 320 * 179))
        let data = try SampleFrames.bytes("variants", "jpeg-420-baseline.jpg")
        #expect(throws: CodecError.tooLarge()) { try decoder.decode(data) }
        let png = try SampleFrames.bytes("variants", "png-rgb8.png")
        let pngDecoder = try PNGDecoder(limits: DecodeLimits(maxPixels: 100))
        #expect(throws: CodecError.tooLarge()) { try pngDecoder.decode(png) }
    }

    @Test("every truncation point of a JPEG fails cleanly or decodes")
    func everyTruncation() throws {
        let data = try SampleFrames.bytes("variants", "jpeg-progressive.jpg")
        let decoder = try JPEGDecoder()
        var failures = 0
        for cut in stride(from: 0, to: data.count - 2, by: 97) {
            do {
                _ = try decoder.decode(Array(data[..<cut]))
            } catch {
                failures += 1
                #expect(["empty", "unknownFormat", "truncated", "corrupt"].contains(error.code), "cut \(cut): \(error)")
            }
        }
        #expect(failures == (data.count - 2 + 96) / 97)
    }
}
