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
                for y in 0..<h {
                    let row = y * w
                    for x in 0..<w {
                        let i = row + x
                        // Outside the image counts as background for erosion and dilation alike.
                        let up: UInt8 = y > 0 ? s[i - w] : 0
                        let down: UInt8 = y < h - 1 ? s[i + w] : 0
                        let left: UInt8 = x > 0 ? s[i - 1] : 0
                        let right: UInt8 = x < w - 1 ? s[i + 1] : 0
                        o[i] = erode ? (s[i] & up & down & left & right) : (s[i] | up | down | left | right)
                    }
                }
            }
        }
        return out
    }

    /// Fills holes: background regions not 4-connected to the image border and smaller than
    /// `maxHole` pixels (spots and shadows on a body; not the floor framed by a steel gate).
    mutating func fillHoles(maxHole: Int) {
        let w = width, h = height
        var seen = [UInt8](repeating: 0, count: bits.count)
        var stack: [Int] = []
        var region: [Int] = []
        for start in 0..<bits.count where bits[start] == 0 && seen[start] == 0 {
            seen[start] = 1
            stack.append(start)
            region.removeAll(keepingCapacity: true)
            var touchesBorder = false
            while let i = stack.popLast() {
                region.append(i)
                let x = i % w, y = i / w
                if x == 0 || y == 0 || x == w - 1 || y == h - 1 { touchesBorder = true }
                if x > 0, bits[i - 1] == 0, seen[i - 1] == 0 { seen[i - 1] = 1; stack.append(i - 1) }
                if x < w - 1, bits[i + 1] == 0, seen[i + 1] == 0 { seen[i + 1] = 1; stack.append(i + 1) }
                if y > 0, bits[i - w] == 0, seen[i - w] == 0 { seen[i - w] = 1; stack.append(i - w) }
                if y < h - 1, bits[i + w] == 0, seen[i + w] == 0 { seen[i + w] = 1; stack.append(i + w) }
            }
            if !touchesBorder && region.count <= maxHole {
                for i in region { bits[i] = 1 }
            }
        }
    }

    /// 4-connected components: a label per pixel (0 = background, 1... = component) and the count.
    func labels() -> (labels: [Int32], count: Int) {
        let w = width, h = height
        var labels = [Int32](repeating: 0, count: bits.count)
        var next: Int32 = 0
        var stack: [Int] = []
        for start in 0..<bits.count where bits[start] != 0 && labels[start] == 0 {
            next += 1
            labels[start] = next
            stack.append(start)
            while let i = stack.popLast() {
                let x = i % w, y = i / w
                if x > 0, bits[i - 1] != 0, labels[i - 1] == 0 { labels[i - 1] = next; stack.append(i - 1) }
                if x < w - 1, bits[i + 1] != 0, labels[i + 1] == 0 { labels[i + 1] = next; stack.append(i + 1) }
                if y > 0, bits[i - w] != 0, labels[i - w] == 0 { labels[i - w] = next; stack.append(i - w) }
                if y < h - 1, bits[i + w] != 0, labels[i + w] == 0 { labels[i + w] = next; stack.append(i + w) }
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
        var d = bits.map { $0 != 0 ? far : 0 }
        func at(_ x: Int, _ y: Int) -> Int32 { (x < 0 || y < 0 || x >= w || y >= h) ? far : d[y * w + x] }
        for y in 0..<h {
            for x in 0..<w where d[y * w + x] != 0 {
                let v = min(at(x - 1, y) + 3, at(x, y - 1) + 3, at(x - 1, y - 1) + 4, at(x + 1, y - 1) + 4)
                d[y * w + x] = min(d[y * w + x], v)
            }
        }
        for y in stride(from: h - 1, through: 0, by: -1) {
            for x in stride(from: w - 1, through: 0, by: -1) where d[y * w + x] != 0 {
                let v = min(at(x + 1, y) + 3, at(x, y + 1) + 3, at(x + 1, y + 1) + 4, at(x - 1, y + 1) + 4)
                d[y * w + x] = min(d[y * w + x], v)
            }
        }
        let cap = Int32(3 * max(w, h))
        return d.map { Float(min($0, cap)) / 3 }
    }
}
