/// A binary image with the operations the pen detector needs: opening, hole filling, 4-connected
/// labelling and a chamfer distance transform. Row-major, one byte a pixel (0 or 1).
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

    /// Fills holes: background regions not 4-connected to the image border and smaller than
    /// `maxHole` pixels (spots and shadows on a body; not the floor framed by a steel gate).
    mutating func fillHoles(maxHole: Int) {
        let w = width, n = bits.count
        var seen = [UInt8](repeating: 0, count: n)
        // The stack holds a pixel and its column (no division per pixel); a region is kept only while it
        // could still be a hole, so the floor (most of the picture) is walked but never stored.
        var stack: [(Int32, Int32)] = []
        var region: [Int32] = []
        bits.withUnsafeMutableBufferPointer { b in
            seen.withUnsafeMutableBufferPointer { s in
                for start in 0..<n where b[start] == 0 && s[start] == 0 {
                    s[start] = 1
                    stack.append((Int32(start), Int32(start % w)))
                    region.removeAll(keepingCapacity: true)
                    var size = 0
                    var touchesBorder = false
                    while let (packed, column) = stack.popLast() {
                        let i = Int(packed), x = Int(column)
                        size += 1
                        if size <= maxHole { region.append(packed) }
                        if x == 0 || x == w - 1 || i < w || i >= n - w { touchesBorder = true }
                        if x > 0, b[i - 1] == 0, s[i - 1] == 0 { s[i - 1] = 1; stack.append((packed - 1, column - 1)) }
                        if x < w - 1, b[i + 1] == 0, s[i + 1] == 0 { s[i + 1] = 1; stack.append((packed + 1, column + 1)) }
                        if i >= w, b[i - w] == 0, s[i - w] == 0 { s[i - w] = 1; stack.append((packed - Int32(w), column)) }
                        if i < n - w, b[i + w] == 0, s[i + w] == 0 { s[i + w] = 1; stack.append((packed + Int32(w), column)) }
                    }
                    if !touchesBorder && size <= maxHole {
                        for i in region { b[Int(i)] = 1 }
                    }
                }
            }
        }
    }

    /// 4-connected components of the foreground: a label per pixel (0 for background, 1... for
    /// components) and the number of components.
    func labels() -> (labels: [Int32], count: Int) {
        let w = width, n = bits.count
        var labels = [Int32](repeating: 0, count: n)
        var next: Int32 = 0
        var stack: [(Int32, Int32)] = []
        bits.withUnsafeBufferPointer { b in
            labels.withUnsafeMutableBufferPointer { l in
                for start in 0..<n where b[start] != 0 && l[start] == 0 {
                    next += 1
                    l[start] = next
                    stack.append((Int32(start), Int32(start % w)))
                    while let (packed, column) = stack.popLast() {
                        let i = Int(packed), x = Int(column)
                        if x > 0, b[i - 1] != 0, l[i - 1] == 0 { l[i - 1] = next; stack.append((packed - 1, column - 1)) }
                        if x < w - 1, b[i + 1] != 0, l[i + 1] == 0 { l[i + 1] = next; stack.append((packed + 1, column + 1)) }
                        if i >= w, b[i - w] != 0, l[i - w] == 0 { l[i - w] = next; stack.append((packed - Int32(w), column)) }
                        if i < n - w, b[i + w] != 0, l[i + w] == 0 { l[i + w] = next; stack.append((packed + Int32(w), column)) }
                    }
                }
            }
        }
        return (labels, Int(next))
    }

    /// Distance of each foreground pixel to the nearest background pixel, in pixels (the image border is
    /// not background: a pig cut by the frame edge keeps its width): the two-pass 3-4 chamfer, within
    /// 8% of the Euclidean distance.
    func distances() -> [Float] {
        let w = width, h = height
        let far = Int32.max / 4
        // A padded copy (one pixel of `far` all round: the border is not background), so the passes
        // need no bounds checks.
        let pw = w + 2
        var d = [Int32](repeating: far, count: pw * (h + 2))
        var out = [Float](repeating: 0, count: w * h)
        bits.withUnsafeBufferPointer { b in
            d.withUnsafeMutableBufferPointer { d in
                for y in 0..<h {
                    for x in 0..<w where b[y * w + x] == 0 { d[(y + 1) * pw + x + 1] = 0 }
                }
                for y in 1...h {
                    for i in (y * pw + 1)..<(y * pw + 1 + w) where d[i] != 0 {
                        d[i] = min(d[i], d[i - 1] + 3, d[i - pw] + 3, d[i - pw - 1] + 4, d[i - pw + 1] + 4)
                    }
                }
                for y in stride(from: h, through: 1, by: -1) {
                    for i in stride(from: y * pw + w, through: y * pw + 1, by: -1) where d[i] != 0 {
                        d[i] = min(d[i], d[i + 1] + 3, d[i + pw] + 3, d[i + pw + 1] + 4, d[i + pw - 1] + 4)
                    }
                }
                let cap = Int32(3 * max(w, h))
                out.withUnsafeMutableBufferPointer { o in
                    for y in 0..<h {
                        for x in 0..<w { o[y * w + x] = Float(min(d[(y + 1) * pw + x + 1], cap)) / 3 }
                    }
                }
            }
        }
        return out
    }
}
