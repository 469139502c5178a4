import HerdProtocol

/// The benchmark's realistic overlay: 10 labelled boxes, 3 translucent zones, a HUD strip and an alert
/// banner, laid out for any frame size. `scripts/bench-overlay.py` prints the same layout as JSON for
/// the side-by-side script.
enum BenchmarkOverlay {
    /// `frame` appears in the HUD, so a changing value forces a redraw per frame, as live video does.
    static func make(width: Int, height: Int, frame: Int? = nil) -> AnnotationSet {
        let sx = Double(width) / 1280, sy = Double(height) / 720
        func p(_ x: Double, _ y: Double) -> PixelPoint { PixelPoint(x: x * sx, y: y * sy) }
        var items: [Annotation] = []
        for i in 0..<10 {
            let x = 60 + Double(i) * 113, y = 90 + Double(i % 3) * 170
            items.append(.box(BoxAnnotation(
                rect: PixelRect(x: x * sx, y: y * sy, width: 150 * sx, height: 170 * sy), label: "pig #\(i + 1)",
                objectClass: "pig", confidence: 0.9, trackId: i + 1)))
        }
        let zones: [(String, [PixelPoint])] = [
            ("Loading ramp", [p(64, 446), p(435, 396), p(538, 684), p(102, 698)]),
            ("Pen gate", [p(800, 60), p(1000, 60), p(1010, 200), p(790, 210)]),
            ("Truck door", [p(1050, 300), p(1250, 280), p(1260, 520), p(1060, 540)]),
        ]
        for (label, points) in zones { items.append(.polygon(PolygonAnnotation(points: points, label: label))) }
        items.append(.hud(HUDAnnotation(position: .top, entries: [
            .init(key: "Consignment", value: "HK-2026-11-20-0042"), .init(key: "Plate", value: "粤B·12345"),
            .init(key: "Count", value: "57 / 100"), .init(key: "Temp", value: "21.4 °C"), .init(key: "Seal", value: "locked"),
        ] + (frame.map { [.init(key: "Frame", value: "\($0)")] } ?? []))))
        items.append(.alert(AlertAnnotation(severity: .warning, message: "Counted 57 of 100 declared head", code: "count.mismatch")))
        return AnnotationSet(frame: FrameSize(width: width, height: height), items: items)
    }
}
