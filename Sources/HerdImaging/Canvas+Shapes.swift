import Foundation

/// Marker glyphs for `Canvas.drawMarker`.
public enum MarkerShape: String, Sendable, Codable, CaseIterable {
    case dot
    case cross
    case diamond
    case ring
}

/// Drawing primitives. Every shape is built as polygons and filled in one rasterizer pass, so a stroke's
/// overlapping pieces never double-blend and every edge is anti-aliased. Everything clips to the
/// canvas; NaN or infinite input throws `DrawingError` and draws nothing.
extension Canvas {
    /// Largest stroke width, radius or size accepted; beyond it the shape covers any frame anyway.
    public static let maximumExtent = 1_000_000.0

    private func validate(_ points: [Point], _ what: String) throws(DrawingError) {
        for p in points where !p.isFinite { throw .nonFiniteCoordinate(what) }
    }

    private func validate(extent value: Double, _ what: String) throws(DrawingError) {
        guard value.isFinite else { throw .nonFiniteCoordinate(what) }
        guard value >= 0 else { throw .invalidSize("\(what) is negative") }
    }

    /// Coordinates are clamped to ±this before rasterizing: far beyond any frame, and small enough that
    /// clipping keeps its precision (at 1e300, `1e300 - 32 == 1e300`).
    public static let coordinateGuard = 10_000_000.0

    /// Fills the union of `polygons` (same orientation adds, opposite subtracts) with `color`.
    public func fill(polygons: [[Point]], color: Color) throws(DrawingError) {
        for polygon in polygons { try validate(polygon, "polygon vertex") }
        guard color.alpha > 0 else { return }
        rasterizer.reset(width: width, height: height)
        let g = Self.coordinateGuard
        for polygon in polygons {
            rasterizer.addPolygon(polygon.map { Point(x: min(max($0.x, -g), g), y: min(max($0.y, -g), g)) })
        }
        rasterizer.sweep { y, x0, x1, coverage in
            blendSpan(row: y, from: x0, to: x1, color: color, coverage: coverage)
        }
    }

    public func fillRect(_ rect: Rect, color: Color) throws(DrawingError) {
        guard rect.isFinite else { throw .nonFiniteCoordinate("rectangle") }
        if rect.isEmpty || color.alpha == 0 { return }
        fillAxisAligned(outer: guarded(rect), inner: nil, color: color)
    }

    private func guarded(_ r: Rect) -> Rect {
        let g = Self.coordinateGuard
        let x0 = min(max(r.minX, -g), g), y0 = min(max(r.minY, -g), g)
        let x1 = min(max(r.maxX, -g), g), y1 = min(max(r.maxY, -g), g)
        return Rect(x: x0, y: y0, width: x1 - x0, height: y1 - y0)
    }

    /// Exact area of pixel `p`'s unit interval inside [lo, hi).
    @inline(__always)
    private static func overlap(_ p: Int, _ lo: Double, _ hi: Double) -> Float {
        Float(max(0, min(Double(p + 1), hi) - max(Double(p), lo)))
    }

    /// An axis-aligned rectangle, or the ring between `outer` and `inner`, without the general
    /// rasterizer: coverage is separable, `cover(x) * cover(y)`, and a ring's is outer minus inner, so
    /// corners and band joins are exact and nothing blends twice.
    private func fillAxisAligned(outer: Rect, inner: Rect?, color: Color) {
        let rowStart = max(0, Int(outer.minY.rounded(.down))), rowEnd = min(height, Int(outer.maxY.rounded(.up)))
        let colStart = max(0, Int(outer.minX.rounded(.down))), colEnd = min(width, Int(outer.maxX.rounded(.up)))
        guard rowStart < rowEnd, colStart < colEnd else { return }
        let hole = inner.flatMap { $0.isEmpty ? nil : $0 }
        // Columns where the outer rectangle covers the whole pixel width.
        let fullStart = max(colStart, Int(outer.minX.rounded(.up))), fullEnd = min(colEnd, Int(outer.maxX.rounded(.down)))
        for y in rowStart..<rowEnd {
            let outerY = Self.overlap(y, outer.minY, outer.maxY)
            let innerY = hole.map { Self.overlap(y, $0.minY, $0.maxY) } ?? 0
            if innerY == 0 {
                if fullStart < fullEnd {
                    for x in colStart..<fullStart { emit(y, x, outerY * Self.overlap(x, outer.minX, outer.maxX), color) }
                    blendSpan(row: y, from: fullStart, to: fullEnd, color: color, coverage: outerY)
                    for x in max(fullEnd, fullStart)..<colEnd { emit(y, x, outerY * Self.overlap(x, outer.minX, outer.maxX), color) }
                } else {
                    for x in colStart..<colEnd { emit(y, x, outerY * Self.overlap(x, outer.minX, outer.maxX), color) }
                }
                continue
            }
            let hole = hole!
            // Pixels fully inside the hole horizontally see only the rows' difference.
            let holeStart = max(colStart, Int(hole.minX.rounded(.up))), holeEnd = min(colEnd, Int(hole.maxX.rounded(.down)))
            let bandEnd = max(colStart, min(holeStart, colEnd)), bandStart = max(bandEnd, min(colEnd, max(holeEnd, holeStart)))
            for x in colStart..<bandEnd {
                emit(y, x, outerY * Self.overlap(x, outer.minX, outer.maxX) - innerY * Self.overlap(x, hole.minX, hole.maxX), color)
            }
            if holeStart < holeEnd {
                let middle = outerY - innerY
                if middle > 0.002 { blendSpan(row: y, from: holeStart, to: holeEnd, color: color, coverage: middle) }
            }
            for x in bandStart..<colEnd {
                emit(y, x, outerY * Self.overlap(x, outer.minX, outer.maxX) - innerY * Self.overlap(x, hole.minX, hole.maxX), color)
            }
        }
    }

    @inline(__always)
    private func emit(_ y: Int, _ x: Int, _ coverage: Float, _ color: Color) {
        if coverage > 0.002 { blendSpan(row: y, from: x, to: x + 1, color: color, coverage: min(1, coverage)) }
    }

    /// Strokes a rectangle's outline centred on its edges.
    public func strokeRect(_ rect: Rect, width strokeWidth: Double, color: Color) throws(DrawingError) {
        guard rect.isFinite else { throw .nonFiniteCoordinate("rectangle") }
        try validate(extent: strokeWidth, "stroke width")
        if strokeWidth == 0 || rect.width < 0 || rect.height < 0 { return }
        guard color.alpha > 0 else { return }
        let half = min(strokeWidth, Self.maximumExtent) / 2
        fillAxisAligned(outer: guarded(rect.insetBy(-half)), inner: guarded(rect.insetBy(half)), color: color)
    }

    /// Fills a rectangle with circular corners (a label plate).
    public func fillRoundedRect(_ rect: Rect, radius: Double, color: Color) throws(DrawingError) {
        guard rect.isFinite else { throw .nonFiniteCoordinate("rectangle") }
        try validate(extent: radius, "corner radius")
        if rect.isEmpty { return }
        try fill(polygons: [Self.roundedRectPath(rect, radius: radius)], color: color)
    }

    public func fillPolygon(_ points: [Point], color: Color) throws(DrawingError) {
        guard points.count >= 3 else { throw .tooFewPoints("polygon needs 3 points, has \(points.count)") }
        try fill(polygons: [points], color: color)
    }

    /// Strokes a polyline (closed: a polygon outline) with round joins and butt ends.
    public func strokePolyline(_ points: [Point], width strokeWidth: Double, closed: Bool = false, color: Color)
        throws(DrawingError)
    {
        guard points.count >= 2 else { throw .tooFewPoints("polyline needs 2 points, has \(points.count)") }
        try validate(points, "polyline vertex")
        try validate(extent: strokeWidth, "stroke width")
        if strokeWidth == 0 { return }
        let half = min(strokeWidth, Self.maximumExtent) / 2
        var pieces: [[Point]] = []
        let count = closed ? points.count : points.count - 1
        for i in 0..<count {
            let a = points[i], b = points[(i + 1) % points.count]
            let d = b - a
            let length = d.length
            if length == 0 { continue }
            let n = Point(x: -d.y / length * half, y: d.x / length * half)
            pieces.append(Self.oriented([a + n, b + n, b - n, a - n]))
        }
        let joints = closed ? Array(points) : Array(points.dropFirst().dropLast())
        if half >= 0.75 {
            for p in joints { pieces.append(Self.circlePath(center: p, radius: half)) }
        }
        if pieces.isEmpty { return }
        try fill(polygons: pieces, color: color)
    }

    public func fillCircle(center: Point, radius: Double, color: Color) throws(DrawingError) {
        try validate([center], "circle centre")
        try validate(extent: radius, "radius")
        if radius == 0 { return }
        try fill(polygons: [Self.circlePath(center: center, radius: min(radius, Self.maximumExtent))], color: color)
    }

    public func strokeCircle(center: Point, radius: Double, width strokeWidth: Double, color: Color)
        throws(DrawingError)
    {
        try validate([center], "circle centre")
        try validate(extent: radius, "radius")
        try validate(extent: strokeWidth, "stroke width")
        let r = min(radius, Self.maximumExtent), half = min(strokeWidth, Self.maximumExtent) / 2
        if half == 0 { return }
        var paths = [Self.circlePath(center: center, radius: r + half)]
        if r - half > 0 { paths.append(Self.circlePath(center: center, radius: r - half).reversed()) }
        try fill(polygons: paths, color: color)
    }

    /// An arrow from `from` to `to` with a filled triangular head.
    public func drawArrow(from: Point, to: Point, width strokeWidth: Double, headLength: Double, color: Color)
        throws(DrawingError)
    {
        try validate([from, to], "arrow end")
        try validate(extent: strokeWidth, "stroke width")
        try validate(extent: headLength, "arrow head")
        let d = to - from
        let length = d.length
        if length == 0 || strokeWidth == 0 { return }
        let unit = d * (1 / length)
        let normal = Point(x: -unit.y, y: unit.x)
        let head = min(headLength, length, Self.maximumExtent)
        let half = min(strokeWidth, Self.maximumExtent) / 2
        let base = to - unit * head
        let shaft = Self.oriented([from + normal * half, base + normal * half, base - normal * half, from - normal * half])
        let wing = max(head * 0.6, half * 2)
        let tip = Self.oriented([to, base + normal * wing, base - normal * wing])
        try fill(polygons: [shaft, tip], color: color)
    }

    /// A point marker of edge `size` centred on `center`.
    public func drawMarker(at center: Point, size: Double, shape: MarkerShape, color: Color) throws(DrawingError) {
        try validate([center], "marker centre")
        try validate(extent: size, "marker size")
        let s = min(size, Self.maximumExtent) / 2
        if s == 0 { return }
        switch shape {
        case .dot:
            try fillCircle(center: center, radius: s, color: color)
        case .ring:
            try strokeCircle(center: center, radius: s * 0.8, width: max(1.5, s * 0.35), color: color)
        case .diamond:
            try fill(
                polygons: [[
                    Point(x: center.x, y: center.y - s), Point(x: center.x + s, y: center.y),
                    Point(x: center.x, y: center.y + s), Point(x: center.x - s, y: center.y),
                ]], color: color)
        case .cross:
            let t = max(1, s * 0.25)
            try fill(
                polygons: [
                    Self.oriented(Rect(x: center.x - s, y: center.y - t, width: 2 * s, height: 2 * t).corners),
                    Self.oriented(Rect(x: center.x - t, y: center.y - s, width: 2 * t, height: 2 * s).corners),
                ], color: color)
        }
    }

    // MARK: - Paths

    /// A closed circle approximated finely enough that the chord error stays under 0.05 px, with the
    /// vertices pushed out so the polygon's area equals the circle's.
    static func circlePath(center: Point, radius: Double) -> [Point] {
        let segments = min(256, max(16, Int((Double.pi / acos(max(-1, 1 - 0.05 / max(radius, 0.05)))).rounded(.up))))
        let step = 2 * Double.pi / Double(segments)
        let r = radius * (step / sin(step)).squareRoot()
        return (0..<segments).map { i in
            let angle = Double(i) * step
            return Point(x: center.x + r * cos(angle), y: center.y + r * sin(angle))
        }
    }

    static func roundedRectPath(_ rect: Rect, radius: Double) -> [Point] {
        let r = min(radius, rect.width / 2, rect.height / 2)
        if r <= 0.25 { return rect.corners }
        let steps = max(4, min(32, Int(r.rounded(.up))))
        var path: [Point] = []
        let centres = [
            (Point(x: rect.maxX - r, y: rect.minY + r), -Double.pi / 2),
            (Point(x: rect.maxX - r, y: rect.maxY - r), 0.0),
            (Point(x: rect.minX + r, y: rect.maxY - r), Double.pi / 2),
            (Point(x: rect.minX + r, y: rect.minY + r), Double.pi),
        ]
        for (centre, start) in centres {
            for i in 0...steps {
                let angle = start + Double(i) / Double(steps) * Double.pi / 2
                path.append(Point(x: centre.x + r * cos(angle), y: centre.y + r * sin(angle)))
            }
        }
        return path
    }

    /// The polygon with positive signed area (screen orientation), so pieces of one stroke union.
    static func oriented(_ polygon: [Point]) -> [Point] {
        var area = 0.0
        var previous = polygon[polygon.count - 1]
        for p in polygon {
            area += previous.x * p.y - p.x * previous.y
            previous = p
        }
        return area < 0 ? polygon.reversed() : polygon
    }
}
