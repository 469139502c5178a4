import HerdImaging
import HerdText
import Testing

@Suite("Text", .timeLimit(.minutes(3)))
struct TextRendererTests {
    /// Drawn pixels (alpha > 0) inside a rectangle of the canvas.
    func inked(_ canvas: Canvas, _ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int) -> Int {
        var n = 0
        for y in max(0, y0)..<min(canvas.height, y1) {
            for x in max(0, x0)..<min(canvas.width, x1) where canvas.premultipliedPixel(x: x, y: y).alpha > 0 { n += 1 }
        }
        return n
    }

    @Test("Latin text produces anti-aliased glyph coverage inside its measured box")
    func latin() throws {
        let text = try TextRenderer()
        let canvas = try Canvas(width: 300, height: 60)
        let metrics = try text.measure("Pig 42 seal", size: 24)
        #expect(metrics.width > 100 && metrics.width < 200)
        let advance = try text.draw("Pig 42 seal", at: Point(x: 10, y: 40), size: 24, color: .white, on: canvas)
        #expect(abs(advance - metrics.width) < 0.001)
        let inside = inked(canvas, 10, 40 - Int(metrics.ascent), 10 + Int(metrics.width) + 1, 40 + Int(metrics.descent) + 1)
        #expect(inside > 300)
        #expect(inked(canvas, 0, 0, 300, 60) == inside)  // nothing outside the box
        var partial = 0
        for y in 0..<60 { for x in 0..<300 where (1..<255).contains(canvas.premultipliedPixel(x: x, y: y).alpha) { partial += 1 } }
        #expect(partial > 50, "edges are anti-aliased")
        #expect(text.families.first == "DejaVu Sans")
    }

    @Test("Chinese labels render when a CJK font is installed")
    func cjk() throws {
        let text = try TextRenderer()
        try #require(text.canRender("粤"), "no CJK font installed (fonts-wqy-zenhei or fonts-noto-cjk)")
        let canvas = try Canvas(width: 240, height: 50)
        try text.draw("粤B·12345 供港活猪", at: Point(x: 4, y: 34), size: 22, color: .white, on: canvas)
        // The first glyph, 粤, is dense: many inked pixels in its em square.
        #expect(inked(canvas, 4, 12, 26, 38) > 120)
    }

    @Test("a character no font has draws a hollow box")
    func missingGlyph() throws {
        let text = try TextRenderer()
        let scalar = Unicode.Scalar(0x10FFFD)!
        #expect(!text.canRender(scalar))
        let canvas = try Canvas(width: 40, height: 40)
        try text.draw(String(Character(scalar)), at: Point(x: 5, y: 30), size: 20, color: .white, on: canvas)
        #expect(inked(canvas, 0, 0, 40, 40) > 30)
        #expect(canvas.premultipliedPixel(x: 12, y: 23).alpha == 0, "the box is hollow")
    }

    @Test("glyphs are cached")
    func cache() throws {
        let text = try TextRenderer(fonts: try FontSet.systemDefault(), cacheCapacity: 64)
        let canvas = try Canvas(width: 200, height: 40)
        try text.draw("aaaa", at: Point(x: 0, y: 30), size: 16, color: .white, on: canvas)
        let stats = text.cacheStatistics
        #expect(stats.misses == 1 && stats.hits >= 3)
        for scalar in UInt32(0x41)...UInt32(0x41 + 100) {
            try text.draw(String(Character(Unicode.Scalar(scalar)!)), at: Point(x: 0, y: 30), size: 16, color: .white, on: canvas)
        }
        #expect(text.cacheStatistics.count <= 64)
    }

    @Test("a missing font file is a clear error")
    func missingFont() {
        #expect(throws: FontError.notFound("")) {
            try TextRenderer(fonts: FontSet(primary: .init(path: "/nonexistent/font.ttf")))
        }
        #expect(throws: FontError.unreadable("")) {
            try TextRenderer(fonts: FontSet(primary: .init(path: "/etc/hostname")))
        }
    }
}
