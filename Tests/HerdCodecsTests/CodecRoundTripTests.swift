import Foundation
import HerdCodecs
import HerdImaging
import HerdTesting
import Testing

@Suite("Codec round trips", .timeLimit(.minutes(3)))
struct CodecRoundTripTests {
    static let jpegFrames = SampleFrames.files(in: "frames", extensions: [".jpg"])

    @Test("JPEG re-encode at q90 keeps PSNR above 38 dB", arguments: jpegFrames)
    func jpegRoundTrip(name: String) throws {
        let original = try JPEGDecoder().decode(try SampleFrames.bytes("frames", name))
        let encoded = try JPEGEncoder().encode(original, quality: 90, subsampling: .both)
        let decoded = try JPEGDecoder().decode(encoded)
        #expect(decoded.width == original.width && decoded.height == original.height)
        let psnr = ImageMetrics.psnr(original, decoded)
        #expect(psnr > 38, "\(name): \(psnr) dB")
    }

    @Test("JPEG quality and subsampling trade size for fidelity")
    func jpegQualityOrdering() throws {
        let original = try JPEGDecoder().decode(try SampleFrames.bytes("variants", "jpeg-444.jpg"))
        let encoder = try JPEGEncoder()
        let low = try encoder.encode(original, quality: 30)
        let high = try encoder.encode(original, quality: 95, subsampling: .none)
        #expect(low.count < high.count)
        let lowPSNR = ImageMetrics.psnr(original, try JPEGDecoder().decode(low))
        let highPSNR = ImageMetrics.psnr(original, try JPEGDecoder().decode(high))
        #expect(highPSNR > lowPSNR + 5)
        #expect(try JPEGDecoder().readInfo(high).chromaSubsampling == 444)
        #expect(try JPEGDecoder().readInfo(try encoder.encode(original, subsampling: .horizontal)).chromaSubsampling == 422)
        let progressive = try encoder.encode(original, progressive: true)
        #expect(try JPEGDecoder().readInfo(progressive).isProgressive)
        #expect(throws: CodecError.invalidArgument("")) { try encoder.encode(original, quality: 0) }
    }

    @Test("PNG round trip is lossless", arguments: [PixelFormat.gray, .rgb, .rgba])
    func pngLossless(format: PixelFormat) throws {
        let source = try PNGDecoder().decode(try SampleFrames.bytes("variants", "png-rgba8.png"), as: .rgba)
        let image = source.converted(to: format)
        let encoded = try PNGEncoder().encode(image)
        let decoded = try PNGDecoder().decode(encoded, as: format)
        let fast = try PNGDecoder().decode(try PNGEncoder().encode(image, fast: true), as: format)
        #expect(decoded == image, "lossless round trip")
        #expect(fast == image, "lossless round trip, fast mode")
    }

    @Test("every JPEG flavour decodes", arguments: SampleFrames.files(in: "variants", extensions: [".jpg"]))
    func jpegVariants(name: String) throws {
        let data = try SampleFrames.bytes("variants", name)
        let image = try ImageDecoder().decode(data)
        let expectedWidth = name.contains("333x187") ? 333 : 320
        let expectedHeight = name.contains("333x187") ? 187 : 180
        #expect(image.width == expectedWidth && image.height == expectedHeight, "\(name)")
        if !name.contains("333x187") {
            // All are the same picture: each decodes close to the 4:4:4 reference (grey compared as luma).
            let reference = try JPEGDecoder().decode(try SampleFrames.bytes("variants", "jpeg-444.jpg"))
            let format: PixelFormat = name.contains("grey") ? .gray : .rgb
            let psnr = ImageMetrics.psnr(reference.converted(to: format), image.converted(to: format))
            #expect(psnr > 28, "\(name): \(psnr) dB against 4:4:4")
        }
    }

    @Test("EXIF orientation is applied")
    func exifOrientation() throws {
        let data = try SampleFrames.bytes("variants", "jpeg-exif-orientation-6.jpg")
        let info = try JPEGDecoder().readInfo(data)
        #expect(info.orientation == .right && info.width == 180 && info.height == 320)
        #expect(info.displayWidth == 320 && info.displayHeight == 180)
        let upright = try JPEGDecoder().decode(data)
        #expect(upright.width == 320 && upright.height == 180)
        let reference = try JPEGDecoder().decode(try SampleFrames.bytes("variants", "jpeg-420-baseline.jpg"))
        #expect(ImageMetrics.psnr(reference, upright) > 30)
        let stored = try JPEGDecoder().decode(data, applyOrientation: false)
        #expect(stored.width == 180 && stored.height == 320)
    }

    @Test("scaled JPEG decode", arguments: JPEGScale.allCases)
    func scaledDecode(scale: JPEGScale) throws {
        let data = try SampleFrames.bytes("frames", "pen-day-1080p.jpg")
        let image = try JPEGDecoder().decode(data, scale: scale)
        #expect(image.width == 1920 / scale.rawValue && image.height == 1080 / scale.rawValue)
    }

    @Test("every PNG flavour decodes to the same picture", arguments: SampleFrames.files(in: "variants", extensions: [".png"]))
    func pngVariants(name: String) throws {
        let image = try PNGDecoder().decode(try SampleFrames.bytes("variants", name), as: .rgba)
        #expect(image.width == 160 && image.height == 120)
        let rgb8 = try PNGDecoder().decode(try SampleFrames.bytes("variants", "png-rgb8.png"), as: .rgba)
        switch name {
        case "png-rgb16.png", "png-rgb8-interlaced.png":
            let identical = image == rgb8
            #expect(identical, "\(name) must equal the 8-bit RGB original exactly (PSNR \(ImageMetrics.psnr(image, rgb8)))")
        case "png-grey8.png", "png-palette.png":
            #expect(ImageMetrics.psnr(rgb8.converted(to: .gray), image.converted(to: .gray)) > 25, "\(name)")
        case "png-rgba8.png", "png-grey-alpha.png", "png-palette2-trns.png":
            let alphas = Set(stride(from: 3, to: image.bytes.count, by: 4).map { image.bytes[$0] })
            #expect(alphas.count > 1, "\(name) must carry transparency")
        default:
            break
        }
    }

    @Test("header-only reads report format facts")
    func infoFacts() throws {
        let decoder = try ImageDecoder()
        let png = try decoder.readInfo(try SampleFrames.bytes("variants", "png-rgba8.png"))
        #expect(png.format == .png && png.hasAlpha && png.width == 160)
        let jpeg = try decoder.readInfo(try SampleFrames.bytes("frames", "pen-day-720p.jpg"))
        #expect(jpeg.format == .jpeg && jpeg.chromaSubsampling == 420 && !jpeg.isProgressive && jpeg.width == 1280)
        #expect(try decoder.readInfo(try SampleFrames.bytes("variants", "jpeg-progressive.jpg")).isProgressive)
    }
}
