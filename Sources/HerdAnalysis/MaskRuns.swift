/// The horizontal runs of one value in a binary mask, grouped into 4-connected components.
///
/// Labelling by runs instead of by pixels: one scan of the pixels, then a union-find over the runs (a
/// few thousand at the working size). The flood fill it replaced pushed every pixel of the floor on a
/// stack, and was the detector's hottest code in `perf` (docs/performance.md).
struct MaskRuns {
    /// The row, first column and one past the last column of each run, in raster order.
    private(set) var row: [Int32] = []
    private(set) var start: [Int32] = []
    private(set) var end: [Int32] = []
    /// Each run's component, numbered from 0 in the raster order of the components' first pixels
    /// (the order a raster-scan flood fill would find them in).
    private(set) var component: [Int32] = []
    private(set) var componentCount = 0

    /// The runs of pixels equal to `value` in a mask of 0s and 1s.
    init(_ bits: UnsafeBufferPointer<UInt8>, width w: Int, height h: Int, value: UInt8) {
        precondition(bits.count == w * h)
        var rowFirst = [Int](repeating: 0, count: h + 1)
        let expected = max(16, w * h / 16)
        row.reserveCapacity(expected); start.reserveCapacity(expected); end.reserveCapacity(expected)
        // Eight pixels at a time while they are all the same (the floor, the inside of a body).
        let allOther: UInt64 = value == 0 ? 0x0101_0101_0101_0101 : 0
        let allValue: UInt64 = value == 0 ? 0 : 0x0101_0101_0101_0101
        let raw = UnsafeRawPointer(bits.baseAddress)
        for y in 0..<h {
            rowFirst[y] = start.count
            let base = y * w
            var x = 0
            while x < w {
                if let raw { while x &+ 8 <= w && raw.loadUnaligned(fromByteOffset: base &+ x, as: UInt64.self) == allOther { x &+= 8 } }
                while x < w && bits[base &+ x] != value { x &+= 1 }
                guard x < w else { break }
                let first = x
                if let raw { while x &+ 8 <= w && raw.loadUnaligned(fromByteOffset: base &+ x, as: UInt64.self) == allValue { x &+= 8 } }
                while x < w && bits[base &+ x] == value { x &+= 1 }
                row.append(Int32(y)); start.append(Int32(first)); end.append(Int32(x))
            }
        }
        rowFirst[h] = start.count
        let count = start.count
        // Union-find; a set's root is its smallest run, so the roots come in raster order.
        var parent = [Int32](unsafeUninitializedCapacity: count) { buffer, initialized in
            for i in 0..<count { buffer[i] = Int32(i) }
            initialized = count
        }
        parent.withUnsafeMutableBufferPointer { parent in
            func find(_ i: Int) -> Int {
                var i = i
                while Int(parent[i]) != i {
                    parent[i] = parent[Int(parent[i])]
                    i = Int(parent[i])
                }
                return i
            }
            start.withUnsafeBufferPointer { start in
                end.withUnsafeBufferPointer { end in
                    for y in 1..<max(1, h) {
                        var above = rowFirst[y - 1]
                        let aboveEnd = rowFirst[y]
                        for r in rowFirst[y]..<rowFirst[y + 1] {
                            // Runs of the row above that end before this one starts touch no later run either.
                            while above < aboveEnd && end[above] <= start[r] { above += 1 }
                            var q = above
                            while q < aboveEnd && start[q] < end[r] {
                                let a = find(r), b = find(q)
                                if a < b { parent[b] = Int32(a) } else if b < a { parent[a] = Int32(b) }
                                q += 1
                            }
                        }
                    }
                }
            }
            var component = [Int32](repeating: 0, count: count)
            var next: Int32 = 0
            for r in 0..<count {
                let root = find(r)
                if root == r {
                    component[r] = next
                    next += 1
                } else {
                    component[r] = component[root]
                }
            }
            self.component = component
            self.componentCount = Int(next)
        }
    }

    var runCount: Int { start.count }

    /// Pixels in each component.
    func areas() -> [Int] {
        var area = [Int](repeating: 0, count: componentCount)
        for r in 0..<runCount { area[Int(component[r])] += Int(end[r] - start[r]) }
        return area
    }

    /// Whether each component touches the picture's border.
    func touchesBorder(width w: Int, height h: Int) -> [Bool] {
        var touches = [Bool](repeating: false, count: componentCount)
        for r in 0..<runCount where row[r] == 0 || Int(row[r]) == h - 1 || start[r] == 0 || Int(end[r]) == w {
            touches[Int(component[r])] = true
        }
        return touches
    }

    /// Each component's runs (indices into the run arrays), in raster order.
    func runsByComponent() -> [[Int]] {
        var runs = [[Int]](repeating: [], count: componentCount)
        for r in 0..<runCount { runs[Int(component[r])].append(r) }
        return runs
    }
}
