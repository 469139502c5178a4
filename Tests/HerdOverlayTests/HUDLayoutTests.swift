import HerdImaging
import HerdOverlay
import HerdProtocol
import Testing

/// The HUD strip fits the frame's width: entries wrap onto further rows instead of running off the
/// right edge (a 1280-wide HUD with the analysis entries used to).
@Suite("HUD layout", .timeLimit(.minutes(2)))
struct HUDLayoutTests {
    /// What the server's HUD holds on a loading with every sensor present.
    static let entries: [HUDAnnotation.Entry] = [
        .init(key: "Consignment", value: "HK-2026-11-30-0042"), .init(key: "Plate", value: "粤B·12345"),
        .init(key: "Head", value: "57 / 100 declared"), .init(key: "In view", value: "6"), .init(key: "Temp", value: "31.5 °C"),
        .init(key: "RH", value: "82%"), .init(key: "THI", value: "84.7"), .init(key: "Seal", value: "sealed"),
        .init(key: "GPS", value: "22.54310, 114.05790"), .init(key: "Device time", value: "10:42:17.250+08:00"), .init(key: "Skew", value: "+180 ms"),
    ]

    /// Height of the strip drawn from the top (the plate is translucent, never fully clear), and the
    /// plate's own colour at the right edge.
    func strip(_ canvas: Canvas) -> (height: Int, plate: Color) {
        var y = 0
        while y < canvas.height && canvas.premultipliedPixel(x: canvas.width - 1, y: y).alpha > 0 { y += 1 }
        return (y, canvas.premultipliedPixel(x: canvas.width - 1, y: 0))
    }

    func render(_ entries: [HUDAnnotation.Entry], width: Int, height: Int) throws -> Canvas {
        let canvas = try Canvas(width: width, height: height)
        let set = AnnotationSet(frame: FrameSize(width: width, height: height), items: [.hud(HUDAnnotation(position: .top, entries: entries))])
        try OverlayRenderer().render(set, on: canvas)
        return canvas
    }

    @Test("entries wrap onto rows within the width; nothing is drawn past the right margin; every row has text", arguments: [(1280, 720), (640, 360), (960, 1280)])
    func wraps(width: Int, height: Int) throws {
        let one = strip(try render([Self.entries[0]], width: width, height: height)).height
        let canvas = try render(Self.entries, width: width, height: height)
        let (total, plate) = strip(canvas)
        #expect(one > 0 && total % one == 0, "strip \(total) px is not whole rows of \(one) px")
        let rows = total / max(1, one)
        #expect(rows >= 2 && rows <= 4, "\(rows) rows at \(width) wide")
        // The right margin holds only the plate: no glyph reaches the edge.
        for y in 0..<total {
            for x in (width - 4)..<width {
                #expect(canvas.premultipliedPixel(x: x, y: y) == plate, "text at (\(x), \(y)) of a \(width)-wide HUD")
            }
        }
        for row in 0..<rows {
            let inked = (row * one..<(row + 1) * one).contains { y in (0..<width).contains { canvas.premultipliedPixel(x: $0, y: y) != plate } }
            #expect(inked, "row \(row) of \(rows) is empty at \(width) wide")
        }
        // Entries that fit stay on one row.
        #expect(strip(try render(Array(Self.entries.prefix(2)), width: width, height: height)).height == one)
    }
}
