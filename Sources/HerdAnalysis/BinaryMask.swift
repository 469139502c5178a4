/// A binary image with the operations the pen detector needs: opening, hole filling, 4-connected
/// components and a chamfer distance transform. Row-major, one byte a pixel (0 or 1).
struct BinaryMask {
    let width: Int
    let height: Int
    var bits: [UInt8]

    init(width: Int, height: Int, bits: [UInt8]) {
        precondition(bits.count == width * height)
        self.width = width
        self.height = height
        self.bits = bits
    }

    var count: Int { bits.reduce(0) { $0 + Int($1) } }

    /// Erosion then dilation, each `iterations` times with the 3x3 cross: removes specks, slats and
    /// bars thinner than about 2 × `iterations` pixels.
    mutating func open(iterations: Int) {
        for _ in 0..<iterations { bits = Self.cross(bits, width, height, erode: true) }
        for _ in 0..<iterations { bits = Self.cross(bits, width, height, erode: false) }
    }

    private static func cross(_ src: [UInt8], _ w: Int, _ h: Int, erode: Bool) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: src.count)
        src.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { o in
                guard let s = s.baseAddress, let o = o.baseAddress else { return }
                // Outside the image counts as background for erosion and dilation alike.
                func edge(_ x: Int, _ y: Int) {
                    let i = y &* w &+ x
                    let up: UInt8 = y > 0 ? s[i &- w] : 0
                    let down: UInt8 = y < h - 1 ? s[i &+ w] : 0
                    let left: UInt8 = x > 0 ? s[i &- 1] : 0
                    let right: UInt8 = x < w - 1 ? s[i &+ 1] : 0
                    o[i] = erode ? (s[i] & up & down & left & right) : (s[i] | up | down | left | right)
                }
                for x in 0..<w { edge(x, 0); if h > 1 { edge(x, h - 1) } }
                guard h > 2 else { return }
                for y in 1..<(h - 1) {
                    edge(0, y)
                    if w > 1 { edge(w - 1, y) }
                    guard w > 2 else { continue }
                    // The interior without a bounds test: a loop the compiler vectorizes.
                    let row = y &* w
                    if erode {
                        for i in (row &+ 1)..<(row &+ w &- 1) { o[i] = s[i] & s[i &- 1] & s[i &+ 1] & s[i &- w] & s[i &+ w] }
                    } else {
                        for i in (row &+ 1)..<(row &+ w &- 1) { o[i] = s[i] | s[i &- 1] | s[i &+ 1] | s[i &- w] | s[i &+ w] }
                    }
                }
            }
        }
        return out
    }

    /// Fills holes: background regions not 4-connected to the image border and at most `maxHole`
    /// pixels (spots and shadows on a body; not the floor framed by a steel gate).
    mutating func fillHoles(maxHole: Int) {
        let w = width, h = height
        bits.withUnsafeMutableBufferPointer { b in
            let background = MaskRuns(UnsafeBufferPointer(b), width: w, height: h, value: 0)
            let area = background.areas()
            let border = background.touchesBorder(width: w, height: h)
            for r in 0..<background.runCount {
                let c = Int(background.component[r])
                guard !border[c], area[c] <= maxHole else { continue }
                let base = Int(background.row[r]) * w
                for x in Int(background.start[r])..<Int(background.end[r]) { b[base + x] = 1 }
            }
        }
    }

    /// The 4-connected components of the foreground, as runs.
    func components() -> MaskRuns {
        bits.withUnsafeBufferPointer { MaskRuns($0, width: width, height: height, value: 1) }
    }

    /// Distances to the background in thirds of a pixel (the 3-4 chamfer's unit), on a copy padded by one
    /// pixel all round: `thirds[index(x, y)]`; the padding is never background.
    struct Distances {
        let paddedWidth: Int
        /// Capped at three times the picture's longer side (a picture with no background at all).
        let thirds: [Int32]

        @inline(__always) func index(_ x: Int, _ y: Int) -> Int { (y &+ 1) &* paddedWidth &+ x &+ 1 }
    }

    /// Distance of each foreground pixel to the nearest background pixel (the image border is not
    /// background: a pig cut by the frame edge keeps its width): the two-pass 3-4 chamfer, within 8% of
    /// the Euclidean distance.
    func distances() -> Distances {
        let w = width, h = height
        let far = Int32(3 * max(w, h))
        // One pixel of `far` all round, so the passes need no bounds checks.
        let pw = w + 2
        var d = [Int32](repeating: far, count: pw * (h + 2))
        bits.withUnsafeBufferPointer { b in
            d.withUnsafeMutableBufferPointer { d in
                for y in 0..<h {
                    let row = (y + 1) * pw + 1
                    // 0 for background, `far` for a body: no branch.
                    for x in 0..<w { d[row &+ x] = far & (0 &- Int32(b[y &* w &+ x])) }
                }
                // Each pass in two steps: the neighbours of the row before (no dependency: the compiler
                // vectorizes it), then along the row. A background pixel (0) stays 0 without a test.
                for y in 1...h {
                    let row = y * pw + 1
                    for i in row..<(row + w) { d[i] = min(d[i], d[i &- pw] &+ 3, d[i &- pw &- 1] &+ 4, d[i &- pw &+ 1] &+ 4) }
                    for i in (row + 1)..<(row + w) { d[i] = min(d[i], d[i &- 1] &+ 3) }
                }
                for y in stride(from: h, through: 1, by: -1) {
                    let row = y * pw + 1
                    for i in row..<(row + w) { d[i] = min(d[i], d[i &+ pw] &+ 3, d[i &+ pw &+ 1] &+ 4, d[i &+ pw &- 1] &+ 4) }
                    for i in stride(from: row + w - 2, through: row, by: -1) { d[i] = min(d[i], d[i &+ 1] &+ 3) }
                }
            }
        }
        return Distances(paddedWidth: pw, thirds: d)
    }
}
