import HerdImaging
import HerdProtocol
import HerdText

/// Draws an `AnnotationSet` onto a `Canvas`: boxes with label plates, zones, counting lines, markers,
/// arrows, text, the HUD strip and alert banners, scaled from the set's frame size to the canvas.
///
/// Not thread-safe (it owns a `TextRenderer`); one per pipeline or compose worker.
public final class OverlayRenderer {
    /// Named in every recorded session, so a replay knows which drawing rules made the live view.
    public static let version = "herdlens-overlay/1"

    /// Which parts of a set to draw; the benchmark times shapes and text separately.
    public struct Parts: OptionSet, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        public static let shapes = Parts(rawValue: 1)
        public static let text = Parts(rawValue: 2)
        public static let all: Parts = [.shapes, .text]
    }

    public let text: TextRenderer
    public var theme: OverlayTheme

    public init(text: TextRenderer, theme: OverlayTheme = .standard) {
        self.text = text
        self.theme = theme
    }

    /// A renderer with the system's default fonts.
    public convenience init() throws {
        self.init(text: try TextRenderer())
    }

    private struct Frame {
        var sx: Double
        var sy: Double
        /// Pixels per theme unit (frame height / 720).
        var unit: Double

        func point(_ p: PixelPoint) -> Point { Point(x: p.x * sx, y: p.y * sy) }
        func rect(_ r: PixelRect) -> Rect { Rect(x: r.x * sx, y: r.y * sy, width: r.width * sx, height: r.height * sy) }
    }

    /// Draws `set` (already validated) onto `canvas`; later items land on top.
    public func render(_ set: AnnotationSet, on canvas: Canvas, parts: Parts = .all) throws {
        let sx = Double(canvas.width) / Double(max(1, set.frame.width))
        let sy = Double(canvas.height) / Double(max(1, set.frame.height))
        let frame = Frame(sx: sx, sy: sy, unit: Double(canvas.height) / 720)
        var hudHeight = [HUDAnnotation.Position.top: 0.0, .bottom: 0.0]
        var alertOffset = 0.0
        for item in set.items {
            switch item {
            case .box(let box): try draw(box, frame, canvas, parts)
            case .polygon(let zone): try draw(zone, frame, canvas, parts)
            case .polyline(let line): try draw(line, frame, canvas, parts)
            case .point(let point): try draw(point, frame, canvas, parts)
            case .arrow(let arrow): try draw(arrow, frame, canvas, parts)
            case .text(let note): try draw(note, frame, canvas, parts)
            case .hud(let hud):
                let position = hud.position ?? .top
                hudHeight[position, default: 0] += try draw(hud, frame, canvas, parts, offset: hudHeight[position, default: 0])
            case .alert(let alert):
                alertOffset += try draw(alert, frame, canvas, parts, offset: alertOffset + hudHeight[.bottom, default: 0])
            }
        }
    }

    // MARK: - Style resolution

    private func colour(_ hex: String?, _ fallback: Color, _ style: AnnotationStyle?) -> Color {
        let base = hex.flatMap(Color.init(hex:)) ?? fallback
        return style?.opacity.map { base.withOpacity($0) } ?? base
    }

    /// Smallest default text and stroke, so a thumbnail-sized frame stays legible.
    static let minimumFontSize = 10.0
    static let minimumStrokeWidth = 1.5

    private func width(_ style: AnnotationStyle?, _ base: Double, _ frame: Frame) -> Double {
        style?.strokeWidth.map { $0 * frame.sy } ?? max(Self.minimumStrokeWidth, base * frame.unit)
    }

    private func fontSize(_ style: AnnotationStyle?, _ base: Double, _ frame: Frame) -> Double {
        style?.fontSize.map { $0 * frame.sy } ?? max(Self.minimumFontSize, base * frame.unit)
    }

    /// A label on a rounded translucent plate. `anchor` is the plate's top-left; returns the plate size.
    @discardableResult
    private func plate(
        _ label: String, at anchor: Point, size: Double, textColour: Color, plateColour: Color, canvas: Canvas,
        parts: Parts, keepInside: Bool = true
    ) throws -> (width: Double, height: Double) {
        let metrics = try text.measure(label, size: size)
        let padX = size * 0.4, padY = size * 0.22
        let w = metrics.width + 2 * padX, h = metrics.height + 2 * padY
        var origin = anchor
        if keepInside {
            origin.x = min(max(origin.x, 0), max(0, Double(canvas.width) - w))
            origin.y = min(max(origin.y, 0), max(0, Double(canvas.height) - h))
        }
        if parts.contains(.shapes) {
            try canvas.fillRoundedRect(Rect(x: origin.x, y: origin.y, width: w, height: h), radius: size * 0.3, color: plateColour)
        }
        if parts.contains(.text) {
            try text.draw(label, at: Point(x: origin.x + padX, y: origin.y + padY + metrics.ascent), size: size, color: textColour, on: canvas)
        }
        return (w, h)
    }

    // MARK: - Items

    private func draw(_ box: BoxAnnotation, _ frame: Frame, _ canvas: Canvas, _ parts: Parts) throws {
        let r = frame.rect(box.rect)
        let stroke = colour(box.style?.stroke, theme.color(forClass: box.objectClass), box.style)
        let lineWidth = width(box.style, theme.strokeWidth, frame)
        if parts.contains(.shapes) {
            if let fill = box.style?.fill.flatMap(Color.init(hex:)) {
                try canvas.fillRect(r, color: box.style?.opacity.map { fill.withOpacity($0) } ?? fill)
            }
            try canvas.strokeRect(r, width: lineWidth, color: stroke)
        }
        var label = box.label ?? box.objectClass ?? ""
        if let track = box.trackId, box.label == nil { label += label.isEmpty ? "#\(track)" : " #\(track)" }
        if let confidence = box.confidence { label += (label.isEmpty ? "" : " ") + "\(Int((confidence * 100).rounded()))%" }
        guard !label.isEmpty else { return }
        let size = fontSize(box.style, theme.fontSize, frame)
        let plateHeight = size * 1.6
        let above = r.minY - lineWidth / 2 - plateHeight
        let anchor = Point(x: r.minX - lineWidth / 2, y: above >= 0 ? above : r.minY + lineWidth / 2)
        try plate(
            label, at: anchor, size: size, textColour: colour(box.style?.text, theme.textColor, box.style),
            plateColour: stroke.withOpacity(0.85), canvas: canvas, parts: parts)
    }

    private func draw(_ zone: PolygonAnnotation, _ frame: Frame, _ canvas: Canvas, _ parts: Parts) throws {
        let points = zone.points.map(frame.point)
        let stroke = colour(zone.style?.stroke, theme.zoneColor, zone.style)
        if parts.contains(.shapes) {
            let fill = colour(zone.style?.fill, theme.zoneColor.withOpacity(theme.zoneFillOpacity), zone.style)
            try canvas.fillPolygon(points, color: fill)
            try canvas.strokePolyline(points, width: width(zone.style, theme.strokeWidth, frame), closed: true, color: stroke)
        }
        if let label = zone.label, let first = points.min(by: { $0.y < $1.y }) {
            let size = fontSize(zone.style, theme.fontSize, frame)
            try plate(
                label, at: Point(x: first.x + size * 0.3, y: first.y + size * 0.3), size: size,
                textColour: colour(zone.style?.text, theme.textColor, zone.style), plateColour: stroke.withOpacity(0.8),
                canvas: canvas, parts: parts)
        }
    }

    private func draw(_ line: PolylineAnnotation, _ frame: Frame, _ canvas: Canvas, _ parts: Parts) throws {
        let points = line.points.map(frame.point)
        let stroke = colour(line.style?.stroke, theme.lineColor, line.style)
        if parts.contains(.shapes) {
            try canvas.strokePolyline(points, width: width(line.style, theme.lineWidth, frame), color: stroke)
            for end in [points[0], points[points.count - 1]] {
                try canvas.fillCircle(center: end, radius: width(line.style, theme.lineWidth, frame) * 1.4, color: stroke)
            }
        }
        if let label = line.label {
            let size = fontSize(line.style, theme.fontSize, frame)
            try plate(
                label, at: Point(x: points[0].x + size * 0.6, y: points[0].y + size * 0.2), size: size,
                textColour: Color.black, plateColour: stroke.withOpacity(0.9), canvas: canvas, parts: parts)
        }
    }

    private func draw(_ mark: PointAnnotation, _ frame: Frame, _ canvas: Canvas, _ parts: Parts) throws {
        let at = frame.point(mark.at)
        let fill = colour(mark.style?.stroke ?? mark.style?.fill, theme.markerColor, mark.style)
        let size = max(8, width(mark.style, theme.markerSize, frame))
        let radius = mark.radius.map { $0 * (frame.sx + frame.sy) / 2 }
        if parts.contains(.shapes) {
            if let radius {
                try canvas.strokeCircle(center: at, radius: radius, width: width(mark.style, theme.lineWidth, frame), color: fill)
            } else {
                let shape = MarkerShape(rawValue: (mark.shape ?? .ring).rawValue) ?? .ring
                try canvas.drawMarker(at: at, size: size, shape: shape, color: fill)
            }
        }
        if let label = mark.label {
            let at = radius.map { Point(x: at.x + $0 * 0.7, y: at.y - $0 * 0.7) } ?? at
            let fs = fontSize(mark.style, theme.fontSize, frame)
            try plate(
                label, at: Point(x: at.x + size * 0.7, y: at.y - fs * 0.8), size: fs,
                textColour: colour(mark.style?.text, theme.textColor, mark.style), plateColour: theme.plateColor,
                canvas: canvas, parts: parts)
        }
    }

    private func draw(_ arrow: ArrowAnnotation, _ frame: Frame, _ canvas: Canvas, _ parts: Parts) throws {
        let from = frame.point(arrow.from), to = frame.point(arrow.to)
        let stroke = colour(arrow.style?.stroke, theme.arrowColor, arrow.style)
        let w = width(arrow.style, theme.lineWidth, frame)
        if parts.contains(.shapes) {
            try canvas.drawArrow(from: from, to: to, width: w, headLength: max(w * 4, 10 * frame.unit), color: stroke)
        }
        if let label = arrow.label {
            let size = fontSize(arrow.style, theme.fontSize, frame)
            try plate(
                label, at: Point(x: from.x, y: from.y + w + size * 0.3), size: size,
                textColour: colour(arrow.style?.text, theme.textColor, arrow.style), plateColour: stroke.withOpacity(0.85),
                canvas: canvas, parts: parts)
        }
    }

    private func draw(_ note: TextAnnotation, _ frame: Frame, _ canvas: Canvas, _ parts: Parts) throws {
        let size = fontSize(note.style, theme.fontSize * 1.1, frame)
        try plate(
            note.text, at: frame.point(note.at), size: size, textColour: colour(note.style?.text, theme.textColor, note.style),
            plateColour: colour(note.style?.fill, theme.plateColor, note.style), canvas: canvas, parts: parts)
    }

    /// A full-width strip; returns its height so further strips stack. Entries wrap onto further rows
    /// rather than run off the right edge (an entry is never split; one wider than the frame is cut at
    /// the edge), at most `maxHUDRows` rows.
    private func draw(_ hud: HUDAnnotation, _ frame: Frame, _ canvas: Canvas, _ parts: Parts, offset: Double) throws -> Double {
        let size = fontSize(hud.style, theme.hudFontSize, frame)
        let rowHeight = (size * 1.9).rounded()
        let rows = try hudRows(hud.entries, size: size, width: Double(canvas.width))
        let height = rowHeight * Double(max(1, rows.count))
        let top = (hud.position ?? .top) == .top ? offset : Double(canvas.height) - offset - height
        if parts.contains(.shapes) {
            try canvas.fillRect(
                Rect(x: 0, y: top, width: Double(canvas.width), height: height),
                color: colour(hud.style?.fill, theme.plateColor, hud.style))
        }
        if parts.contains(.text) {
            let metrics = try text.measure("Ag", size: size)
            let valueColour = colour(hud.style?.text, theme.textColor, hud.style)
            for (index, row) in rows.enumerated() {
                let baseline = top + Double(index) * rowHeight + (rowHeight - metrics.height) / 2 + metrics.ascent
                for placed in row {
                    let x = placed.x + (try text.draw(placed.entry.key + " ", at: Point(x: placed.x, y: baseline), size: size * 0.85, color: theme.hudKeyColor, on: canvas))
                    try text.draw(placed.entry.value, at: Point(x: x, y: baseline), size: size, color: valueColour, on: canvas)
                }
            }
        }
        return height
    }

    static let maxHUDRows = 4

    /// The HUD's entries placed left to right in rows no wider than `width`.
    private func hudRows(_ entries: [HUDAnnotation.Entry], size: Double, width: Double) throws -> [[(entry: HUDAnnotation.Entry, x: Double)]] {
        let margin = size * 0.6, gap = size * 1.4
        var rows: [[(entry: HUDAnnotation.Entry, x: Double)]] = []
        var row: [(entry: HUDAnnotation.Entry, x: Double)] = []
        var x = margin
        for entry in entries {
            let w = try text.measure(entry.key + " ", size: size * 0.85).width + (try text.measure(entry.value, size: size).width)
            if !row.isEmpty && x + w > width - margin {
                rows.append(row)
                if rows.count == Self.maxHUDRows { return rows }
                row = []
                x = margin
            }
            row.append((entry, x))
            x += w + gap
        }
        if !row.isEmpty { rows.append(row) }
        return rows
    }

    /// A full-width banner stacked up from the bottom; returns its height.
    private func draw(_ alert: AlertAnnotation, _ frame: Frame, _ canvas: Canvas, _ parts: Parts, offset: Double) throws -> Double {
        let size = fontSize(alert.style, theme.alertFontSize, frame)
        let height = (size * 2).rounded()
        let top = Double(canvas.height) - offset - height
        if parts.contains(.shapes) {
            try canvas.fillRect(
                Rect(x: 0, y: top, width: Double(canvas.width), height: height),
                color: colour(alert.style?.fill, theme.color(for: alert.severity), alert.style))
        }
        if parts.contains(.text) {
            let metrics = try text.measure("Ag", size: size)
            let baseline = top + (height - metrics.height) / 2 + metrics.ascent
            var line = "⚠ " + alert.severity.rawValue.uppercased()
            if let code = alert.code { line += " · " + code }
            line += "  " + alert.message
            try text.draw(line, at: Point(x: size * 0.7, y: baseline), size: size, color: colour(alert.style?.text, theme.textColor, alert.style), on: canvas)
        }
        return height
    }
}
