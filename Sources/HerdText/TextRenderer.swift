import HerdImaging

/// Lays out and draws single lines of UTF-8 text onto a `Canvas`, anti-aliased by FreeType.
///
/// Each character comes from the first face that has it (DejaVu Sans, then a CJK face), so labels like
/// `粤B·12345` mix scripts; a character no face has is drawn as a hollow box. Rendered glyphs are
/// cached per face, size and glyph. Not thread-safe: one renderer per task.
public final class TextRenderer {
    /// Longest line drawn, in Unicode scalars; the rest is cut off.
    public static let maximumLength = 512
    /// Pixel sizes are clamped into this range.
    public static let sizeRange: ClosedRange<Double> = 4...400

    private let faces: [FontFace]
    private var cache: GlyphCache

    public init(fonts: FontSet, cacheCapacity: Int = 4096) throws(FontError) {
        var faces = [try FontFace(path: fonts.primary.path, index: fonts.primary.index)]
        for source in fonts.fallbacks { faces.append(try FontFace(path: source.path, index: source.index)) }
        self.faces = faces
        self.cache = GlyphCache(capacity: cacheCapacity)
    }

    /// A renderer over `FontSet.systemDefault()`.
    public convenience init() throws(FontError) {
        try self.init(fonts: try FontSet.systemDefault())
    }

    /// Family names of the faces in fallback order.
    public var families: [String] { faces.map(\.family) }

    /// Whether some face has a glyph for `scalar`.
    public func canRender(_ scalar: Unicode.Scalar) -> Bool {
        faces.contains { $0.glyphIndex(for: scalar) != 0 }
    }

    /// Cached glyphs and hit/miss counts, for benchmarks.
    public var cacheStatistics: (count: Int, hits: Int, misses: Int) { (cache.count, cache.hits, cache.misses) }

    private struct Placed {
        var face: Int
        var glyph: UInt32
        var x: Double
        var missing: Bool
    }

    private static func pixelSize(_ size: Double) -> Int32 {
        Int32(min(max(size.isFinite ? size : 12, sizeRange.lowerBound), sizeRange.upperBound).rounded())
    }

    private func layout(_ text: String, size: Int32) throws(FontError) -> (glyphs: [Placed], width: Double) {
        var placed: [Placed] = []
        var pen = 0.0
        var previous: (face: Int, glyph: UInt32)?
        let missingAdvance = Double(size) * 0.7
        for var scalar in text.unicodeScalars.prefix(Self.maximumLength) {
            if scalar == "\t" { scalar = " " }
            if scalar.value < 0x20 || (0x7F..<0xA0).contains(scalar.value) { continue }
            var found: (Int, UInt32)?
            for (i, face) in faces.enumerated() {
                let g = face.glyphIndex(for: scalar)
                if g != 0 {
                    found = (i, g)
                    break
                }
            }
            guard let (faceIndex, glyph) = found else {
                placed.append(Placed(face: 0, glyph: 0, x: pen, missing: true))
                pen += missingAdvance
                previous = nil
                continue
            }
            if let previous, previous.face == faceIndex {
                pen += try faces[faceIndex].kerning(size: size, previous.glyph, glyph)
            }
            placed.append(Placed(face: faceIndex, glyph: glyph, x: pen, missing: false))
            pen += try cachedGlyph(face: faceIndex, glyph: glyph, size: size).advance
            previous = (faceIndex, glyph)
        }
        return (placed, pen)
    }

    private func cachedGlyph(face: Int, glyph: UInt32, size: Int32) throws(FontError) -> Glyph {
        let faces = self.faces
        return try cache.glyph(GlyphCache.Key(face: face, size: size, glyph: glyph)) { () throws(FontError) -> Glyph in
            try faces[face].render(glyph: glyph, size: size)
        }
    }

    /// Width, ascent and descent of `text` at `size` pixels (the primary face's line metrics).
    public func measure(_ text: String, size: Double) throws(FontError) -> TextMetrics {
        let px = Self.pixelSize(size)
        let line = try faces[0].lineMetrics(size: px)
        return TextMetrics(width: try layout(text, size: px).width, ascent: line.ascender, descent: -line.descender)
    }

    /// Draws `text` with its baseline starting at `origin`; returns the advance width.
    @discardableResult
    public func draw(_ text: String, at origin: Point, size: Double, color: Color, on canvas: Canvas) throws -> Double {
        guard origin.isFinite else { throw DrawingError.nonFiniteCoordinate("text origin") }
        let px = Self.pixelSize(size)
        let (glyphs, width) = try layout(text, size: px)
        for placed in glyphs {
            let penX = origin.x + placed.x
            if placed.missing {
                let box = Rect(x: penX + Double(px) * 0.1, y: origin.y - Double(px) * 0.7, width: Double(px) * 0.5, height: Double(px) * 0.7)
                try canvas.strokeRect(box, width: max(1, Double(px) / 14), color: color)
                continue
            }
            let glyph = try cachedGlyph(face: placed.face, glyph: placed.glyph, size: px)
            if glyph.width == 0 || glyph.height == 0 { continue }
            let x = Int((penX).rounded()) + glyph.left
            let y = Int(origin.y.rounded()) - glyph.top
            glyph.coverage.withUnsafeBufferPointer { mask in
                canvas.blendMask(mask, width: glyph.width, height: glyph.height, pitch: glyph.width, x: x, y: y, color: color)
            }
        }
        return width
    }
}
