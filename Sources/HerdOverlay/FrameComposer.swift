import HerdCodecs
import HerdImaging
import HerdProtocol

/// Decode, annotate, compose, encode: one frame in, one annotated frame out.
///
/// JPEG to JPEG without an explicit quality takes the coefficient path (`JPEGOverlayTranscoder`): no
/// pixel decode or encode, and every block the overlay leaves alone is bit-exact. Anything else
/// (PNG, a requested quality, EXIF rotation, CMYK) decodes to RGB, composites and encodes.
/// Codecs, canvas and glyph cache are reused across frames, so memory stays flat in batch mode; when a
/// frame's annotation set equals the previous frame's (and the size matches), the drawn canvas is reused.
/// Not thread-safe: one composer per worker.
public final class FrameComposer {
    public let renderer: OverlayRenderer
    private let decoder: ImageDecoder
    private let jpegEncoder: JPEGEncoder
    private let pngEncoder: PNGEncoder
    private let transcoder: JPEGOverlayTranscoder
    private var canvas: Canvas?
    /// The set the canvas currently holds, so an unchanged overlay (a static zone layout, one
    /// annotations file for a whole batch) is drawn once rather than once per frame.
    private var drawnSet: AnnotationSet?
    private let clock = ContinuousClock()

    public init(renderer: OverlayRenderer, limits: DecodeLimits = .default) throws {
        self.renderer = renderer
        decoder = try ImageDecoder(limits: limits)
        jpegEncoder = try JPEGEncoder()
        pngEncoder = try PNGEncoder()
        transcoder = try JPEGOverlayTranscoder(limits: limits)
    }

    /// Block statistics of the last coefficient-path frame.
    public var lastBlockCounts: JPEGOverlayTranscoder.BlockCounts { transcoder.lastCounts }

    /// A canvas of this size holding `annotations`; drawn only when the set or the size changed.
    private func overlay(_ annotations: AnnotationSet?, width: Int, height: Int, report: inout ComposeReport) throws -> Canvas {
        let canvas: Canvas
        if let existing = self.canvas, existing.width == width, existing.height == height {
            if drawnSet == annotations {
                report.touchedTiles = existing.touchedTileCount
                return existing
            }
            existing.clear()
            canvas = existing
        } else {
            canvas = try Canvas(width: width, height: height)
            self.canvas = canvas
        }
        drawnSet = nil
        try drawOverlay(annotations, on: canvas, report: &report)
        drawnSet = annotations
        return canvas
    }

    /// Renders `annotations` over `input` (JPEG or PNG bytes). Throws `CodecError` for a bad image.
    public func compose(_ input: [UInt8], annotations: AnnotationSet?, options: ComposeOptions = ComposeOptions())
        throws -> (bytes: [UInt8], report: ComposeReport)
    {
        let format = try ImageDecoder.format(of: input)
        if format == .jpeg, options.outputFormat == .jpeg, options.quality == nil, options.allowCoefficientPath {
            let info = try decoder.jpeg.readInfo(input)
            if transcoder.canCompose(info) {
                do {
                    return try composeCoefficients(input, info: info, annotations: annotations)
                } catch let error as CodecError where error == .unsupported() {
                    // A layout the coefficient path cannot take: fall through to pixels.
                }
            }
        }
        return try composePixels(input, annotations: annotations, options: options)
    }

    /// An image decoded ahead of `compose(prepared:)`: its coefficients (coefficient path) or its pixels.
    /// Preparing is the codec check of the accept stage; composing later decodes nothing again.
    public final class PreparedImage {
        enum Content {
            case coefficients(JPEGOverlayTranscoder, width: Int, height: Int)
            case pixels(PixelBuffer)
        }

        let content: Content
        public let decodeTime: Duration
        /// Bytes held (to bound what a worker keeps).
        public var byteCost: Int {
            switch content {
            case .coefficients(_, let w, let h): w * h * 2 + 64 * 1024
            case .pixels(let p): p.width * p.height * p.format.bytesPerPixel
            }
        }

        /// The decoded pixels when this image took the pixel path (a PNG, say); nil for coefficients.
        public var pixels: PixelBuffer? {
            if case .pixels(let p) = content { return p }
            return nil
        }

        init(_ content: Content, decodeTime: Duration) {
            self.content = content
            self.decodeTime = decodeTime
        }
    }

    /// Decodes `input` once (coefficients where the coefficient path can take it, pixels otherwise) for a
    /// later `compose(prepared:)`. Throws `CodecError` when the image does not decode.
    public func prepare(_ input: [UInt8]) throws -> PreparedImage {
        let start = clock.now
        let format = try ImageDecoder.format(of: input)
        if format == .jpeg {
            let info = try decoder.jpeg.readInfo(input)
            if transcoder.canCompose(info), let held = try readCoefficients(input) {
                let size = held.heldSize!
                return PreparedImage(.coefficients(held, width: size.width, height: size.height), decodeTime: clock.now - start)
            }
        }
        let image = try decoder.decode(input, as: .rgb)
        return PreparedImage(.pixels(image), decodeTime: clock.now - start)
    }

    /// A transcoder holding `input`'s coefficients; nil when the coefficient path cannot take it.
    private func readCoefficients(_ input: [UInt8]) throws(CodecError) -> JPEGOverlayTranscoder? {
        let held = try JPEGOverlayTranscoder(limits: transcoder.limits)
        do {
            try held.read(input)
        } catch {
            if error == .unsupported() { return nil }
            throw error
        }
        return held
    }

    /// Renders `annotations` over a prepared image and encodes it (JPEG). The image is used up.
    public func compose(prepared: PreparedImage, annotations: AnnotationSet?) throws -> (bytes: [UInt8], report: ComposeReport) {
        switch prepared.content {
        case .coefficients(let held, let width, let height):
            var report = ComposeReport(path: .coefficients, width: width, height: height)
            let canvas = try overlay(annotations, width: width, height: height, report: &report)
            let bytes = try held.finish(canvas: canvas)
            report.decode = prepared.decodeTime
            report.composite = held.lastTimes.blend
            report.encode = held.lastTimes.write
            return (bytes, report)
        case .pixels(var image):
            var report = ComposeReport(path: .pixels, width: image.width, height: image.height)
            report.decode = prepared.decodeTime
            let canvas = try overlay(annotations, width: image.width, height: image.height, report: &report)
            var start = clock.now
            try canvas.composite(onto: &image)
            report.composite = clock.now - start
            start = clock.now
            let bytes = try jpegEncoder.encode(image, quality: ComposeOptions.defaultQuality, subsampling: ComposeOptions().subsampling)
            report.encode = clock.now - start
            return (bytes, report)
        }
    }

    private func drawOverlay(_ annotations: AnnotationSet?, on canvas: Canvas, report: inout ComposeReport) throws {
        guard let annotations else { return }
        report.overlayDrawn = true
        var start = clock.now
        try renderer.render(annotations, on: canvas, parts: .shapes)
        report.draw = clock.now - start
        start = clock.now
        try renderer.render(annotations, on: canvas, parts: .text)
        report.text = clock.now - start
        report.touchedTiles = canvas.touchedTileCount
    }

    private func composeCoefficients(_ input: [UInt8], info: ImageInfo, annotations: AnnotationSet?) throws
        -> (bytes: [UInt8], report: ComposeReport)
    {
        var report = ComposeReport(path: .coefficients, width: info.width, height: info.height)
        let canvas = try overlay(annotations, width: info.width, height: info.height, report: &report)
        let bytes = try transcoder.compose(input, canvas: canvas)
        let times = transcoder.lastTimes
        report.decode = times.read
        report.composite = times.blend
        report.encode = times.write
        return (bytes, report)
    }

    private func composePixels(_ input: [UInt8], annotations: AnnotationSet?, options: ComposeOptions) throws
        -> (bytes: [UInt8], report: ComposeReport)
    {
        var start = clock.now
        let wantsAlpha = options.outputFormat == .png
        var image = try decoder.decode(input, as: wantsAlpha ? nil : .rgb)
        var report = ComposeReport(path: .pixels, width: image.width, height: image.height)
        report.decode = clock.now - start
        let canvas = try overlay(annotations, width: image.width, height: image.height, report: &report)
        start = clock.now
        try canvas.composite(onto: &image)
        report.composite = clock.now - start
        start = clock.now
        let bytes: [UInt8]
        switch options.outputFormat {
        case .jpeg:
            bytes = try jpegEncoder.encode(
                image, quality: options.quality ?? ComposeOptions.defaultQuality, subsampling: options.subsampling)
        case .png:
            bytes = try pngEncoder.encode(image)
        }
        report.encode = clock.now - start
        return (bytes, report)
    }
}
