@testable import HerdAnalysis
import Testing

/// The detector's fast paths against the plain algorithms they replace, on random pictures.
@Suite("Mask runs, hole filling and nearest centres against plain pixel algorithms")
struct MaskTests {
    /// A reproducible pseudo-random generator (SplitMix64).
    struct Seeded: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Blobby random masks: random rectangles and specks, so that components touch, nest and hold holes.
    static func mask(_ w: Int, _ h: Int, _ random: inout Seeded) -> [UInt8] {
        var bits = [UInt8](repeating: 0, count: w * h)
        for _ in 0..<Int.random(in: 1...25, using: &random) {
            let x0 = Int.random(in: 0..<w, using: &random), y0 = Int.random(in: 0..<h, using: &random)
            let x1 = min(w, x0 + Int.random(in: 1...max(1, w / 3), using: &random))
            let y1 = min(h, y0 + Int.random(in: 1...max(1, h / 3), using: &random))
            let value: UInt8 = Int.random(in: 0..<4, using: &random) == 0 ? 0 : 1
            for y in y0..<y1 { for x in x0..<x1 { bits[y * w + x] = value } }
        }
        for _ in 0..<(w * h / 20) { bits[Int.random(in: 0..<(w * h), using: &random)] ^= 1 }
        return bits
    }

    /// 4-connected labels by flood fill, numbered in raster order of each component's first pixel (-1 elsewhere).
    static func floodLabels(_ bits: [UInt8], _ w: Int, _ h: Int, value: UInt8) -> [Int] {
        var labels = [Int](repeating: -1, count: w * h)
        var next = 0
        for start in 0..<(w * h) where bits[start] == value && labels[start] < 0 {
            labels[start] = next
            var stack = [start]
            while let i = stack.popLast() {
                let x = i % w, y = i / w
                for (nx, ny) in [(x - 1, y), (x + 1, y), (x, y - 1), (x, y + 1)] where nx >= 0 && nx < w && ny >= 0 && ny < h {
                    let j = ny * w + nx
                    if bits[j] == value && labels[j] < 0 { labels[j] = next; stack.append(j) }
                }
            }
            next += 1
        }
        return labels
    }

    @Test("runs label the same 4-connected components, in the same order, as a flood fill (both values, 200 random masks, sizes down to 1x1)")
    func runsMatchFloodFill() {
        var random = Seeded(state: 12)
        for round in 0..<200 {
            let w = round < 10 ? round % 3 + 1 : Int.random(in: 1...90, using: &random)
            let h = round < 10 ? round / 3 + 1 : Int.random(in: 1...60, using: &random)
            let bits = Self.mask(w, h, &random)
            for value: UInt8 in [0, 1] {
                let expected = Self.floodLabels(bits, w, h, value: value)
                let runs = bits.withUnsafeBufferPointer { MaskRuns($0, width: w, height: h, value: value) }
                var labels = [Int](repeating: -1, count: w * h)
                for r in 0..<runs.runCount {
                    for x in Int(runs.start[r])..<Int(runs.end[r]) { labels[Int(runs.row[r]) * w + x] = Int(runs.component[r]) }
                }
                #expect(labels == expected, "round \(round), \(w)x\(h), value \(value)")
                #expect(runs.componentCount == (expected.max() ?? -1) + 1)
                #expect(runs.areas().reduce(0, +) == bits.filter { $0 == value }.count)
            }
        }
    }

    @Test("holes are filled when enclosed and small enough; regions touching the border and large ones are left")
    func fillsHoles() {
        var random = Seeded(state: 7)
        for _ in 0..<100 {
            let w = Int.random(in: 3...80, using: &random), h = Int.random(in: 3...50, using: &random)
            let bits = Self.mask(w, h, &random)
            let maxHole = Int.random(in: 0...40, using: &random)
            var mask = BinaryMask(width: w, height: h, bits: bits)
            mask.fillHoles(maxHole: maxHole)
            // The plain rule: a background component is filled when it does not touch the border and has at most maxHole pixels.
            let labels = Self.floodLabels(bits, w, h, value: 0)
            var size: [Int: Int] = [:], border: Set<Int> = []
            for i in 0..<(w * h) where labels[i] >= 0 {
                size[labels[i], default: 0] += 1
                let x = i % w, y = i / w
                if x == 0 || y == 0 || x == w - 1 || y == h - 1 { border.insert(labels[i]) }
            }
            var expected = bits
            for i in 0..<(w * h) where labels[i] >= 0 && !border.contains(labels[i]) && size[labels[i]]! <= maxHole { expected[i] = 1 }
            #expect(mask.bits == expected)
        }
        // A ring's inside is a hole; a notch open to the border is not.
        var ring = BinaryMask(width: 7, height: 5, bits: [UInt8](repeating: 0, count: 35))
        for y in 1...3 { for x in 1...5 where y != 2 || x == 1 || x == 5 { ring.bits[y * 7 + x] = 1 } }
        ring.fillHoles(maxHole: 3)
        #expect(ring.bits[2 * 7 + 3] == 1 && ring.bits[0] == 0)
        // Opened on the right: the inside and the gap reach the border.
        for x in 2...5 { ring.bits[2 * 7 + x] = 0 }
        ring.fillHoles(maxHole: 3)
        #expect(ring.bits[2 * 7 + 3] == 0)
    }

    @Test("the nearest centre along rows is the one a scan of every centre finds, first of equals (ties from symmetric centres included)")
    func nearestCentreMatchesScan() {
        var random = Seeded(state: 99)
        for round in 0..<300 {
            let w = Int.random(in: 1...120, using: &random), h = Int.random(in: 1...80, using: &random)
            let k = Int.random(in: 1...35, using: &random)
            // Half the rounds on whole and half coordinates, where pixels lie exactly between centres.
            let centres: [(Double, Double)] = (0..<k).map { _ in
                round % 2 == 0
                    ? (Double.random(in: 0..<Double(w), using: &random), Double.random(in: 0..<Double(h), using: &random))
                    : (Double(Int.random(in: 0..<(2 * w), using: &random)) / 2, Double(Int.random(in: 0..<(2 * h), using: &random)) / 2)
            }
            let pixels = (0..<(w * h)).filter { _ in Int.random(in: 0..<3, using: &random) > 0 }.map(Int32.init)
            var got = [Int](repeating: -1, count: pixels.count)
            NearestCentre.assign(pixels, width: w, centres: centres) { n, j in got[n] = j }
            let expected = pixels.map { p -> Int in
                let x = Double(Int(p) % w), y = Double(Int(p) / w)
                var best = 0, bestDistance = Double.infinity
                for (j, c) in centres.enumerated() {
                    let d = (x - c.0) * (x - c.0) + (y - c.1) * (y - c.1)
                    if d < bestDistance { bestDistance = d; best = j }
                }
                return best
            }
            #expect(got == expected, "round \(round): \(w)x\(h), \(k) centres")
        }
    }

    @Test("the branch-free colour mask is the colour test, pixel for pixel (200,000 random colours and every colour near the thresholds)")
    func colourMaskMatchesTest() {
        var random = Seeded(state: 5)
        var rgb: [UInt8] = []
        for _ in 0..<200_000 { for _ in 0..<3 { rgb.append(UInt8.random(in: 0...255, using: &random)) } }
        // Around the thresholds: b near 90, r − b near −5, r − g near −12, luma near 100.
        for b in 85...95 { for r in stride(from: 60, through: 255, by: 3) { for g in stride(from: r - 20, through: r + 20, by: 1) where g >= 0 && g <= 255 { rgb += [UInt8(r), UInt8(g), UInt8(b)] } } }
        for r in 95...110 { for g in 95...125 { for b in 95...120 { rgb += [UInt8(r), UInt8(g), UInt8(b)] } } }
        let n = rgb.count / 3
        let image = AnalysisImage(rgb: rgb, width: n, height: 1, frameWidth: n, frameHeight: 1)
        let bits = PenDetector.foreground(image, infrared: false)
        var mismatches = 0
        for i in 0..<n where (bits[i] == 1) != PenDetector.isPigColour(r: Int(rgb[3 * i]), g: Int(rgb[3 * i + 1]), b: Int(rgb[3 * i + 2])) { mismatches += 1 }
        #expect(mismatches == 0)
        #expect(bits.contains(1) && bits.contains(0))
    }

    @Test("k-means with Hamerly's bounds moves the centres exactly as plain Lloyd rounds scanning every centre (random blobs, 1 to 35 centres)")
    func boundedKMeansMatchesPlain() {
        var random = Seeded(state: 31)
        for round in 0..<120 {
            let k = Int.random(in: 1...35, using: &random)
            let count = Int.random(in: 1...1500, using: &random)
            // Points in a few clusters, on whole pixels as the detector's are (ties happen).
            let clusters = (0..<max(1, k / 2)).map { _ in (Double.random(in: 0...300, using: &random), Double.random(in: 0...170, using: &random)) }
            let points: [(Double, Double)] = (0..<count).map { _ in
                let c = clusters[Int.random(in: 0..<clusters.count, using: &random)]
                return ((c.0 + Double.random(in: -25...25, using: &random)).rounded(), (c.1 + Double.random(in: -15...15, using: &random)).rounded())
            }
            let seeds = (0..<k).map { _ in points[Int.random(in: 0..<count, using: &random)] }
            // Plain Lloyd: every point scans every centre, every round.
            var plain = seeds
            var assigned = [Int](repeating: -1, count: count)
            for _ in 0..<8 {
                var sums = [(Double, Double, Int)](repeating: (0, 0, 0), count: k)
                var changed = false
                for (n, p) in points.enumerated() {
                    var best = 0, bestDistance = Double.infinity
                    for (j, c) in plain.enumerated() {
                        let d = (p.0 - c.0) * (p.0 - c.0) + (p.1 - c.1) * (p.1 - c.1)
                        if d < bestDistance { bestDistance = d; best = j }
                    }
                    sums[best].0 += p.0; sums[best].1 += p.1; sums[best].2 += 1
                    if assigned[n] != best { assigned[n] = best; changed = true }
                }
                guard changed else { break }
                for j in 0..<k where sums[j].2 > 0 { plain[j] = (sums[j].0 / Double(sums[j].2), sums[j].1 / Double(sums[j].2)) }
            }
            let bounded = PenDetector.lloyd(points, centres: seeds, rounds: 8)
            #expect(bounded.map(\.0) == plain.map(\.0) && bounded.map(\.1) == plain.map(\.1), "round \(round): \(count) points, \(k) centres")
        }
    }
}
