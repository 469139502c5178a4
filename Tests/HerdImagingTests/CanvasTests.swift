import HerdImaging
import HerdTesting
import Testing

@Suite("Canvas drawing", .timeLimit(.minutes(3)))
struct CanvasTests {
    let red = Color(red: 255, green: 0, blue: 0)

    /// Sum of alpha over the canvas, in pixels of full coverage.
    func coverage(_ canvas: Canvas) -> Double {
        var total = 0.0
        for y in 0..<canvas.height { for x in 0..<canvas.width { total += Double(canvas.premultipliedPixel(x: x, y: y).alpha) } }
        return total / 255
    }

    @Test("an opaque rectangle covers exactly its area, with anti-aliased fractional edges")
    func rectangleArea() throws {
        let canvas = try Canvas(width: 64, height: 48)
        try canvas.fillRect(Rect(x: 10.5, y: 8.25, width: 20, height: 10), color: red)
        #expect(abs(coverage(canvas) - 200) < 0.5)
        #expect(canvas.premultipliedPixel(x: 20, y: 12).alpha == 255)
        #expect(canvas.premultipliedPixel(x: 10, y: 12).alpha == 128)  // half-covered column
        #expect(canvas.premultipliedPixel(x: 9, y: 12).alpha == 0)
        #expect(canvas.premultipliedPixel(x: 20, y: 8).alpha == 191)  // three-quarters covered row
    }

    @Test("shapes half outside draw their visible part")
    func clipping() throws {
        let canvas = try Canvas(width: 40, height: 30)
        try canvas.fillRect(Rect(x: -10, y: -5, width: 20, height: 10), color: red)
        #expect(abs(coverage(canvas) - 50) < 0.5)
        canvas.clear()
        try canvas.fillRect(Rect(x: 30, y: 25, width: 100, height: 100), color: red)
        #expect(abs(coverage(canvas) - 50) < 0.5)
        canvas.clear()
        try canvas.fillRect(Rect(x: 100, y: 100, width: 10, height: 10), color: red)
        #expect(canvas.isEmpty)
    }

    @Test("absurd coordinates are clipped, not crashed on", arguments: [1e6, 1e12, 1e300])
    func absurdCoordinates(magnitude: Double) throws {
        let canvas = try Canvas(width: 32, height: 32)
        try canvas.fillPolygon([Point(x: -magnitude, y: -magnitude), Point(x: magnitude, y: -magnitude), Point(x: 0, y: magnitude)], color: red)
        #expect(canvas.premultipliedPixel(x: 16, y: 16).alpha == 255)
        try canvas.strokePolyline([Point(x: -magnitude, y: 5), Point(x: magnitude, y: 5)], width: 2, color: red)
        try canvas.fillCircle(center: Point(x: 16, y: 16), radius: magnitude, color: red)
        #expect(abs(coverage(canvas) - 1024) < 1)
    }

    @Test("NaN and infinity are refused with an error and draw nothing")
    func nonFinite() throws {
        let canvas = try Canvas(width: 32, height: 32)
        #expect(throws: DrawingError.nonFiniteCoordinate()) {
            try canvas.fillRect(Rect(x: .nan, y: 0, width: 10, height: 10), color: red)
        }
        #expect(throws: DrawingError.nonFiniteCoordinate()) {
            try canvas.fillPolygon([Point(x: 0, y: 0), Point(x: .infinity, y: 0), Point(x: 5, y: 5)], color: red)
        }
        #expect(throws: DrawingError.nonFiniteCoordinate()) {
            try canvas.strokeRect(Rect(x: 0, y: 0, width: 10, height: 10), width: .nan, color: red)
        }
        #expect(throws: DrawingError.invalidSize()) { try canvas.fillCircle(center: Point(x: 1, y: 1), radius: -3, color: red) }
        #expect(throws: DrawingError.tooFewPoints()) { try canvas.fillPolygon([Point(x: 0, y: 0), Point(x: 1, y: 1)], color: red) }
        #expect(canvas.isEmpty)
        #expect(throws: DrawingError.invalidSize()) { try Canvas(width: 0, height: 10) }
    }

    @Test("a circle covers pi r squared")
    func circleArea() throws {
        let canvas = try Canvas(width: 64, height: 64)
        try canvas.fillCircle(center: Point(x: 32, y: 32), radius: 20, color: red)
        #expect(abs(coverage(canvas) - Double.pi * 400) < 2)
        canvas.clear()
        try canvas.strokeCircle(center: Point(x: 32, y: 32), radius: 20, width: 4, color: red)
        #expect(canvas.premultipliedPixel(x: 32, y: 32).alpha == 0)  // hollow
        #expect(abs(coverage(canvas) - Double.pi * (22 * 22 - 18 * 18)) < 2)
    }

    @Test("a translucent stroke does not darken where its pieces overlap")
    func strokeUnion() throws {
        let canvas = try Canvas(width: 64, height: 64)
        let half = red.withOpacity(0.5)
        try canvas.strokePolyline([Point(x: 5, y: 30), Point(x: 30, y: 30), Point(x: 30, y: 5)], width: 6, color: half)
        let joint = canvas.premultipliedPixel(x: 30, y: 30).alpha
        let middle = canvas.premultipliedPixel(x: 15, y: 30).alpha
        #expect(joint == middle && middle == 128)
        canvas.clear()
        try canvas.strokeRect(Rect(x: 10, y: 10, width: 40, height: 30), width: 4, color: half)
        #expect(canvas.premultipliedPixel(x: 10, y: 10).alpha == 128)  // corner, not 192
        #expect(canvas.premultipliedPixel(x: 30, y: 25).alpha == 0)
    }

    @Test("source-over onto RGB, grey and RGBA buffers")
    func composite() throws {
        let canvas = try Canvas(width: 16, height: 16)
        try canvas.fillRect(Rect(x: 0, y: 0, width: 8, height: 16), color: Color(red: 255, green: 255, blue: 255, alpha: 128))
        var rgb = PixelBuffer(width: 16, height: 16, format: .rgb, fill: Color(red: 0, green: 0, blue: 200))
        try canvas.composite(onto: &rgb)
        let mixed = rgb.pixel(x: 2, y: 2)
        #expect(abs(Int(mixed.red) - 128) <= 1 && abs(Int(mixed.blue) - 227) <= 1)
        #expect(rgb.pixel(x: 12, y: 2) == Color(red: 0, green: 0, blue: 200))
        var grey = PixelBuffer(width: 16, height: 16, format: .gray)
        try canvas.composite(onto: &grey)
        #expect(abs(Int(grey.pixel(x: 2, y: 2).red) - 128) <= 1)
        var clear = PixelBuffer(width: 16, height: 16, format: .rgba, fill: .clear)
        try canvas.composite(onto: &clear)
        #expect(clear.pixel(x: 2, y: 2) == Color(red: 255, green: 255, blue: 255, alpha: 128))
        var wrong = PixelBuffer(width: 8, height: 8, format: .rgb)
        #expect(throws: DrawingError.invalidSize()) { try canvas.composite(onto: &wrong) }
    }

    @Test("rounded plates, arrows, markers and icons land where asked")
    func otherPrimitives() throws {
        let canvas = try Canvas(width: 100, height: 60)
        try canvas.fillRoundedRect(Rect(x: 10, y: 10, width: 40, height: 20), radius: 8, color: red)
        #expect(canvas.premultipliedPixel(x: 10, y: 10).alpha < 40)  // rounded corner
        #expect(canvas.premultipliedPixel(x: 30, y: 20).alpha == 255)
        canvas.clear()
        try canvas.drawArrow(from: Point(x: 5, y: 40), to: Point(x: 90, y: 40), width: 3, headLength: 12, color: red)
        #expect(canvas.premultipliedPixel(x: 50, y: 40).alpha == 255)
        #expect(canvas.premultipliedPixel(x: 84, y: 42).alpha > 200)  // head wider than the shaft
        #expect(canvas.premultipliedPixel(x: 50, y: 42).alpha == 0)
        for shape in MarkerShape.allCases {
            canvas.clear()
            try canvas.drawMarker(at: Point(x: 50, y: 30), size: 16, shape: shape, color: red)
            #expect(!canvas.isEmpty, "\(shape)")
        }
        canvas.clear()
        var icon = PixelBuffer(width: 4, height: 4, format: .rgba, fill: Color(red: 0, green: 0, blue: 255, alpha: 255))
        icon.setPixel(x: 0, y: 0, .clear)
        try canvas.drawImage(icon, x: 98, y: 58, opacity: 0.5)  // clipped to 2x2
        #expect(canvas.premultipliedPixel(x: 99, y: 59).alpha == 128)
        #expect(canvas.premultipliedPixel(x: 98, y: 58).alpha == 0)
    }

    @Test("hex colours parse and print")
    func colours() {
        #expect(Color(hex: "#22C55E") == Color(red: 0x22, green: 0xC5, blue: 0x5E))
        #expect(Color(hex: "fff") == .white)
        #expect(Color(hex: "#00000080")?.alpha == 0x80)
        #expect(Color(hex: "green") == nil && Color(hex: "#12345") == nil)
        #expect(Color(red: 1, green: 2, blue: 255).description == "#0102FFFF")
    }

    @Test("orientation transforms are consistent", arguments: ImageOrientation.allCases)
    func orientation(orientation: ImageOrientation) {
        var image = PixelBuffer(width: 3, height: 2, format: .gray)
        for y in 0..<2 { for x in 0..<3 { image.setPixel(x: x, y: y, Color(red: UInt8(y * 3 + x), green: 0, blue: 0)) } }
        let turned = image.applying(orientation)
        #expect(turned.width == (orientation.swapsAxes ? 2 : 3))
        #expect(Set(turned.bytes) == Set(image.bytes))
        if orientation == .right {
            // Rotating 90 degrees clockwise: the stored bottom-left pixel becomes the top-left.
            #expect(turned.pixel(x: 0, y: 0) == image.pixel(x: 0, y: 1))
        }
    }
}
