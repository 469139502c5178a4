/// Anti-aliased scanline rasterizer with exact area coverage.
///
/// Each edge deposits signed area into sparse cells `(row, x, delta)`; a running sum of the deltas along
/// a row is the winding-weighted coverage, clamped to 1. Between two cells coverage is constant, so a
/// filled interior is emitted as one span however wide it is. Edges are clipped to the target first
/// (the part left of x = 0 becomes a vertical edge on the boundary), so absurd coordinates cost no
/// more than sane ones. Sub-paths with the same orientation union; opposite orientation subtracts
/// (a ring is an outer path plus a reversed inner one).
struct Rasterizer {
    private struct Cell {
        var row: Int32
        var x: Int32
        var delta: Float
    }

    private(set) var width = 0
    private(set) var height = 0
    private var cells: [Cell] = []
    private var sorted: [Cell] = []
    private var rowStarts: [Int32] = []
    private var minRow = Int.max
    private var maxRow = Int.min

    mutating func reset(width: Int, height: Int) {
        self.width = width
        self.height = height
        cells.removeAll(keepingCapacity: true)
        minRow = Int.max
        maxRow = Int.min
    }

    /// Adds a closed polygon (the last point joins the first).
    mutating func addPolygon(_ points: [Point]) {
        guard points.count >= 2 else { return }
        var previous = points[points.count - 1]
        for point in points {
            addEdge(previous, point)
            previous = point
        }
    }

    /// Adds one edge, clipped to the target.
    mutating func addEdge(_ a: Point, _ b: Point) {
        let h = Double(height), w = Double(width)
        if a.y == b.y { return }
        if (a.y <= 0 && b.y <= 0) || (a.y >= h && b.y >= h) { return }
        // Clip in y (Liang-Barsky on one axis).
        var t0 = 0.0, t1 = 1.0
        let dy = b.y - a.y
        let ta = (0 - a.y) / dy, tb = (h - a.y) / dy
        t0 = max(t0, min(ta, tb))
        t1 = min(t1, max(ta, tb))
        if t0 >= t1 { return }
        let dx = b.x - a.x
        let p0 = Point(x: a.x + dx * t0, y: t0 == 0 ? a.y : a.y + dy * t0)
        let p1 = Point(x: a.x + dx * t1, y: t1 == 1 ? b.y : a.y + dy * t1)
        // Split where the edge crosses x = 0 and x = width; pieces outside lie on the boundary.
        var cuts: [Double] = [0, 1]
        let ex = p1.x - p0.x
        if ex != 0 {
            for boundary in [0.0, w] {
                let t = (boundary - p0.x) / ex
                if t > 0 && t < 1 { cuts.append(t) }
            }
        }
        if cuts.count > 2 { cuts.sort() }
        let ey = p1.y - p0.y
        for i in 0..<(cuts.count - 1) {
            let ta = cuts[i], tb = cuts[i + 1]
            var qa = Point(x: p0.x + ex * ta, y: p0.y + ey * ta)
            var qb = Point(x: p0.x + ex * tb, y: p0.y + ey * tb)
            if tb == 1 { qb = p1 }
            if ta == 0 { qa = p0 }
            let mid = (qa.x + qb.x) / 2
            if mid <= 0 {
                qa.x = 0
                qb.x = 0
            } else if mid >= w {
                qa.x = w
                qb.x = w
            } else {
                qa.x = min(max(qa.x, 0), w)
                qb.x = min(max(qb.x, 0), w)
            }
            drawLine(qa, qb)
        }
    }

    private mutating func deposit(_ row: Int, _ x: Int, _ delta: Float) {
        if x > width || delta == 0 { return }
        cells.append(Cell(row: Int32(row), x: Int32(max(x, 0)), delta: delta))
    }

    /// Area deposit for a line already inside [0, width] x [0, height].
    private mutating func drawLine(_ p0: Point, _ p1: Point) {
        if p0.y == p1.y { return }
        let (a, b, direction): (Point, Point, Float) = p0.y < p1.y ? (p0, p1, 1) : (p1, p0, -1)
        let dxdy = (b.x - a.x) / (b.y - a.y)
        var x = a.x
        let rowStart = max(0, Int(a.y.rounded(.down)))
        let rowEnd = min(height, Int(b.y.rounded(.up)))
        if rowStart >= rowEnd { return }
        minRow = min(minRow, rowStart)
        maxRow = max(maxRow, rowEnd - 1)
        for row in rowStart..<rowEnd {
            let dy = min(Double(row + 1), b.y) - max(Double(row), a.y)
            let xNext = x + dxdy * dy
            let d = Float(dy) * direction
            let (x0, x1) = x < xNext ? (x, xNext) : (xNext, x)
            let x0Floor = x0.rounded(.down)
            let x0i = Int(x0Floor)
            let x1Ceil = x1.rounded(.up)
            let x1i = Int(x1Ceil)
            if x1i <= x0i + 1 {
                let xmf = Float(0.5 * (x + xNext) - x0Floor)
                deposit(row, x0i, d - d * xmf)
                deposit(row, x0i + 1, d * xmf)
            } else {
                let s = Float(1 / (x1 - x0))
                let x0f = Float(x0 - x0Floor)
                let a0 = 0.5 * s * (1 - x0f) * (1 - x0f)
                let x1f = Float(x1 - x1Ceil + 1)
                let am = 0.5 * s * x1f * x1f
                deposit(row, x0i, d * a0)
                if x1i == x0i + 2 {
                    deposit(row, x0i + 1, d * (1 - a0 - am))
                } else {
                    let a1 = s * (1.5 - x0f)
                    deposit(row, x0i + 1, d * (a1 - a0))
                    if x0i + 2 < x1i - 1 {
                        for xi in (x0i + 2)..<(x1i - 1) { deposit(row, xi, d * s) }
                    }
                    let a2 = a1 + Float(x1i - x0i - 3) * s
                    deposit(row, x1i - 1, d * (1 - a2 - am))
                }
                deposit(row, x1i, d * am)
            }
            x = xNext
        }
    }

    /// Calls `emit(row, x0, x1, coverage)` for every run of pixels with constant non-zero coverage.
    mutating func sweep(_ emit: (Int, Int, Int, Float) -> Void) {
        guard !cells.isEmpty, minRow <= maxRow else { return }
        let rows = maxRow - minRow + 1
        rowStarts.removeAll(keepingCapacity: true)
        rowStarts.append(contentsOf: repeatElement(0, count: rows + 1))
        for cell in cells { rowStarts[Int(cell.row) - minRow + 1] += 1 }
        for r in 0..<rows { rowStarts[r + 1] += rowStarts[r] }
        if sorted.count < cells.count {
            sorted = [Cell](repeating: Cell(row: 0, x: 0, delta: 0), count: cells.count)
        }
        var fill = rowStarts
        for cell in cells {
            let r = Int(cell.row) - minRow
            sorted[Int(fill[r])] = cell
            fill[r] += 1
        }
        let w = width
        sorted.withUnsafeMutableBufferPointer { s in
            for r in 0..<rows {
                let start = Int(rowStarts[r]), end = Int(rowStarts[r + 1])
                if start == end { continue }
                // Insertion sort by x: a row holds a handful of cells.
                if end - start > 1 {
                    for i in (start + 1)..<end {
                        let c = s[i]
                        var j = i - 1
                        while j >= start && s[j].x > c.x {
                            s[j + 1] = s[j]
                            j -= 1
                        }
                        s[j + 1] = c
                    }
                }
                var accumulated: Float = 0
                var i = start
                while i < end {
                    let x = Int(s[i].x)
                    while i < end && Int(s[i].x) == x {
                        accumulated += s[i].delta
                        i += 1
                    }
                    if x >= w { break }
                    let next = i < end ? min(Int(s[i].x), w) : w
                    var coverage = min(1, abs(accumulated))
                    if coverage < 0.002 { continue }
                    if coverage > 0.998 { coverage = 1 }
                    emit(r + minRow, x, next, coverage)
                }
            }
        }
    }
}
