import Foundation
import HerdProtocol

/// The built-in detector for overhead pen and ramp cameras: classical segmentation of pale pigs on a
/// slatted floor, with touching animals split by their expected size.
///
/// 1. **Mask.** Colour frames: pale, pinkish, not saturated (`R−G > −12`, luma > 100, `−5 < R−B < 70`,
///    `B > 110`: excludes green and teal slats, orange plastic floors and grey steel). Infrared frames
///    (median saturation under 12): luma above a two-level Otsu threshold (the upper class of the upper
///    class: warm bodies, not the lit floor).
/// 2. Opening with a 3x3 cross (`openIterations`), holes filled, 4-connected components.
/// 3. Components smaller than `minAreaFraction` of the picture, grey ones (mean `R−B` under
///    `minChroma`, colour frames only) and thin ones (widest point under half the typical) are dropped.
/// 4. **Splitting.** The typical pig's half-width `h` is the median of the components' widest points
///    (chamfer distance), its area `A = √(9h² · median area)` (a pig lying down is about 2.2 widths long
///    by one wide); with fewer than three components whose widest point is over 1.8 times the spines'
///    half-width `s` (a huddle: the median distance on the ridge), `A = 9s²`. A component of area `a` holds `⌊a/A + 0.3⌋` pigs,
///    split by k-means on its pixels.
///
/// Parameters were chosen against `herdlens eval detect` on the labelled frames in ../shared/frames
/// (docs/analysis.md has the figures, the leave-one-out check and the failure cases).
public struct PenDetector: Detector {
    public struct Parameters: Sendable, Hashable, Codable {
        public var openIterations = 2
        public var minAreaFraction = 0.004
        public var minChroma = 10.0
        public var minWidthOfTypical = 0.5
        public var splitRounding = 0.3
        /// Largest hole filled inside a body, as a fraction of the picture.
        public var maxHoleFraction = 0.01
        /// A component split in two only when less solid than this (area over convex hull area): one pig
        /// lying straight is convex, two touching make a notch.
        public var maxSolidityToSplit = 0.75
        /// Components over this fraction of the picture are not pigs (a covered lens, a blown-out frame).
        public var maxAreaFraction = 0.6
        /// With fewer than three bodies, a body is taken for a huddle (and split by its spine's width)
        /// only when it covers at least this fraction of the picture: a lone pig on a ramp is not one.
        public var huddleMinFraction = 0.1
        public init() {}
    }

    public var parameters: Parameters

    public init(parameters: Parameters = Parameters()) {
        self.parameters = parameters
    }

    public func detect(_ frame: DetectorInput) -> [Detection] {
        guard let image = frame.image else { return [] }
        return detect(image)
    }

    public func detect(_ image: AnalysisImage) -> [Detection] {
        let w = image.width, h = image.height
        let n = w * h
        // Under 3x3 there is no pig to find (and no interior for the ridge scan): a 1-pixel-high PNG is
        // valid device input.
        guard w >= 3, h >= 3 else { return [] }
        let infrared = Self.isGrey(image)
        var mask = BinaryMask(width: w, height: h, bits: Self.foreground(image, infrared: infrared))
        mask.open(iterations: parameters.openIterations)
        mask.fillHoles(maxHole: Int(parameters.maxHoleFraction * Double(n)))
        let runs = mask.components()
        let count = runs.componentCount
        guard count > 0 else { return [] }
        let distance = mask.distances()
        let pw = distance.paddedWidth
        // Per component: area, widest point (in thirds of a pixel), chroma sum.
        var area = [Int](repeating: 0, count: count)
        var widestThirds = [Int32](repeating: 0, count: count)
        var chroma = [Int](repeating: 0, count: count)
        image.rgb.withUnsafeBufferPointer { rgb in
            distance.thirds.withUnsafeBufferPointer { thirds in
                for r in 0..<runs.runCount {
                    let c = Int(runs.component[r])
                    let y = Int(runs.row[r]), first = Int(runs.start[r]), last = Int(runs.end[r])
                    var far = widestThirds[c], sum = 0
                    let padded = distance.index(first, y) &- first
                    for x in first..<last { far = max(far, thirds[padded &+ x]) }
                    for i in (y * w + first)..<(y * w + last) { sum &+= Int(rgb[3 &* i]) &- Int(rgb[3 &* i &+ 2]) }
                    area[c] += last - first
                    widestThirds[c] = far
                    chroma[c] += sum
                }
            }
        }
        let widest = widestThirds.map { Float($0) / 3 }
        let minArea = parameters.minAreaFraction * Double(n)
        let maxArea = parameters.maxAreaFraction * Double(n)
        var kept = (0..<count).filter { (c: Int) -> Bool in
            let a = Double(area[c])
            guard a >= minArea, a <= maxArea else { return false }
            return infrared || Double(chroma[c]) / a >= parameters.minChroma
        }
        guard !kept.isEmpty else { return [] }
        let typicalHalfWidth = Double(Self.median(kept.map { widest[$0] }))
        kept = kept.filter { Double(widest[$0]) >= parameters.minWidthOfTypical * typicalHalfWidth }
        guard !kept.isEmpty else { return [] }
        let medianArea = Double(Self.median(kept.map { Float(area[$0]) }))
        let componentRuns = runs.runsByComponent()
        // Half-width along the bodies' spines (the distance ridge), which merging does not inflate.
        var ridge: [Float] = []
        distance.thirds.withUnsafeBufferPointer { d in
            for c in kept {
                for r in componentRuns[c] {
                    let y = Int(runs.row[r])
                    guard y > 0, y < h - 1 else { continue }
                    let first = max(1, Int(runs.start[r])), last = min(w - 1, Int(runs.end[r]))
                    guard first < last else { continue }
                    let start = distance.index(first, y)
                    for i in start..<(start + last - first) {
                        let v = d[i]
                        // Over 1.5 pixels from the background (4.5 thirds), and no neighbour farther.
                        guard v >= 5 else { continue }
                        if v >= d[i - 1] && v >= d[i + 1] && v >= d[i - pw] && v >= d[i + pw]
                            && v >= d[i - pw - 1] && v >= d[i - pw + 1] && v >= d[i + pw - 1] && v >= d[i + pw + 1] {
                            ridge.append(Float(v) / 3)
                        }
                    }
                }
            }
        }
        let spineHalfWidth = ridge.isEmpty ? typicalHalfWidth : Double(Self.median(ridge))
        // With fewer than three bodies there are no peers to take a single pig's area from. A huddle (its
        // widest point far wider than its spines) takes the spine's width; one or two pigs their own.
        let largest = Double(kept.map { area[$0] }.max() ?? 0)
        let huddle = kept.count < 3 && typicalHalfWidth > 1.8 * spineHalfWidth && largest >= parameters.huddleMinFraction * Double(n)
        let typicalArea = huddle
            ? max(1, 9 * spineHalfWidth * spineHalfWidth)
            : max(1, (9 * typicalHalfWidth * typicalHalfWidth * medianArea).squareRoot())
        var found: [Detection] = []
        func report(x0: Int, y0: Int, x1: Int, y1: Int, pixels: Int, split: Bool) {
            let partRatio = Double(pixels) / typicalArea
            var confidence = 0.95 - 0.4 * abs(log2(max(partRatio, 1e-3)))
            if split { confidence *= 0.8 }
            confidence = min(0.95, max(0.2, confidence))
            let rect = PixelRect(
                x: Double(x0) * image.scaleX, y: Double(y0) * image.scaleY, width: Double(x1 + 1 - x0) * image.scaleX,
                height: Double(y1 + 1 - y0) * image.scaleY)
            found.append(Detection(rect: rect, confidence: (confidence * 100).rounded() / 100, source: .detector))
        }
        for c in kept {
            let ratio = Double(area[c]) / typicalArea
            var pigs = max(1, Int((ratio + parameters.splitRounding).rounded(.down)))
            if pigs == 2 && Self.solidity(runs, componentRuns[c], pixels: area[c]) > parameters.maxSolidityToSplit { pigs = 1 }
            if pigs == 1 {
                var x0 = w, y0 = h, x1 = 0, y1 = 0
                for r in componentRuns[c] {
                    x0 = min(x0, Int(runs.start[r])); x1 = max(x1, Int(runs.end[r]) - 1)
                    y0 = min(y0, Int(runs.row[r])); y1 = max(y1, Int(runs.row[r]))
                }
                report(x0: x0, y0: y0, x1: x1, y1: y1, pixels: area[c], split: false)
                continue
            }
            var pixels: [Int32] = []
            pixels.reserveCapacity(area[c])
            for r in componentRuns[c] {
                let base = Int32(Int(runs.row[r]) * w)
                for x in runs.start[r]..<runs.end[r] { pixels.append(base + x) }
            }
            for part in Self.kmeans(pixels, width: w, k: pigs) where part.pixels > 0 {
                report(x0: part.x0, y0: part.y0, x1: part.x1, y1: part.y1, pixels: part.pixels, split: true)
            }
        }
        return found
    }

    /// Area over convex-hull area (1 for a convex blob); the hull of the rows' extremes.
    static func solidity(_ runs: MaskRuns, _ componentRuns: [Int], pixels: Int) -> Double {
        // The component's runs are in raster order: each row's first run starts it, its last ends it.
        var points: [(Double, Double)] = []
        var index = 0
        while index < componentRuns.count {
            let y = runs.row[componentRuns[index]]
            let first = Double(runs.start[componentRuns[index]])
            var last = index
            while last + 1 < componentRuns.count && runs.row[componentRuns[last + 1]] == y { last += 1 }
            let right = Double(runs.end[componentRuns[last]])
            let top = Double(y)
            points.append((first, top)); points.append((right, top))
            points.append((first, top + 1)); points.append((right, top + 1))
            index = last + 1
        }
        points.sort { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
        func cross(_ o: (Double, Double), _ a: (Double, Double), _ b: (Double, Double)) -> Double {
            (a.0 - o.0) * (b.1 - o.1) - (a.1 - o.1) * (b.0 - o.0)
        }
        var hull: [(Double, Double)] = []
        for p in points {
            while hull.count >= 2 && cross(hull[hull.count - 2], hull[hull.count - 1], p) <= 0 { hull.removeLast() }
            hull.append(p)
        }
        let lower = hull.count + 1
        for p in points.reversed() {
            while hull.count >= lower && cross(hull[hull.count - 2], hull[hull.count - 1], p) <= 0 { hull.removeLast() }
            hull.append(p)
        }
        hull.removeLast()
        var twice = 0.0
        for i in hull.indices {
            let a = hull[i], b = hull[(i + 1) % hull.count]
            twice += a.0 * b.1 - b.0 * a.1
        }
        let hullArea = abs(twice) / 2
        return hullArea > 0 ? min(1, Double(pixels) / hullArea) : 1
    }

    /// Whether the picture has (almost) no colour: an infrared night camera. The median saturation
    /// (max − min of R, G, B) is under 12 when at least half the pixels are.
    static func isGrey(_ image: AnalysisImage) -> Bool {
        let n = image.width * image.height
        var grey = 0
        image.rgb.withUnsafeBufferPointer { rgb in
            for i in 0..<n {
                let r = rgb[3 &* i], g = rgb[3 &* i &+ 1], b = rgb[3 &* i &+ 2]
                grey &+= max(r, g, b) &- min(r, g, b) < 12 ? 1 : 0
            }
        }
        return 2 * grey >= n
    }

    static func foreground(_ image: AnalysisImage, infrared: Bool) -> [UInt8] {
        let n = image.width * image.height
        var bits = [UInt8](repeating: 0, count: n)
        image.rgb.withUnsafeBufferPointer { rgb in
            bits.withUnsafeMutableBufferPointer { bits in
                if infrared {
                    var histogram = [Int](repeating: 0, count: 256)
                    for i in 0..<n { histogram[luma(rgb, i)] += 1 }
                    let low = otsu(histogram, from: 0)
                    let high = otsu(histogram, from: low + 1)
                    for i in 0..<n { bits[i] = luma(rgb, i) > high ? 1 : 0 }
                } else {
                    for i in 0..<n {
                        // isPigColour without a branch: each test as a difference that is negative when it
                        // passes, all four passing when their AND is.
                        let r = Int(rgb[3 &* i]), g = Int(rgb[3 &* i &+ 1]), b = Int(rgb[3 &* i &+ 2])
                        let tests = (-12 &- (r &- g)) & (1009 &- (r &* 3 &+ g &* 6 &+ b)) & (-5 &- (r &- b)) & (90 &- b)
                        bits[i] = UInt8(truncatingIfNeeded: tests >> 63) & 1
                    }
                }
            }
        }
        return bits
    }

    /// The colour-frame mask test: pale, pinkish, not saturated (step 1 above).
    @inline(__always) public static func isPigColour(r: Int, g: Int, b: Int) -> Bool {
        r - g > -12 && (r * 3 + g * 6 + b) / 10 > 100 && r - b > -5 && b > 90
    }

    @inline(__always) static func luma(_ rgb: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int {
        (Int(rgb[3 * i]) * 3 + Int(rgb[3 * i + 1]) * 6 + Int(rgb[3 * i + 2])) / 10
    }

    /// Otsu's threshold over the histogram's bins `from...255`.
    static func otsu(_ histogram: [Int], from start: Int) -> Int {
        guard start < 255 else { return 255 }
        var total = 0.0, sum = 0.0
        for v in start...255 {
            total += Double(histogram[v])
            sum += Double(v * histogram[v])
        }
        guard total > 0 else { return start }
        var weight = 0.0, partial = 0.0, best = start, bestScore = -1.0
        for v in start...255 {
            weight += Double(histogram[v])
            partial += Double(v * histogram[v])
            let rest = total - weight
            guard weight > 0, rest > 0 else { continue }
            let between = (sum * weight - partial * total) * (sum * weight - partial * total) / (weight * rest)
            if between > bestScore {
                bestScore = between
                best = v
            }
        }
        return best
    }

    static func median(_ values: [Float]) -> Float {
        let sorted = values.sorted()
        let m = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2
    }

    /// One part of a split component: its pixel count and bounds (inclusive), in working pixels.
    struct Part {
        var pixels = 0
        var x0 = Int.max, y0 = Int.max, x1 = Int.min, y1 = Int.min
    }

    /// Splits a component's pixels (in raster order) into `k` parts: farthest-point seeds, then 8 rounds of
    /// k-means on pixel coordinates (on a subsample of at most 1,200 pixels when the component is large).
    static func kmeans(_ pixels: [Int32], width: Int, k: Int) -> [Part] {
        let step = max(1, (pixels.count + 1199) / 1200)
        let sample = stride(from: 0, to: pixels.count, by: step).map { pixels[$0] }
        func point(_ p: Int32) -> (Double, Double) { (Double(Int(p) % width), Double(Int(p) / width)) }
        let points = sample.map(point)
        let mean = points.reduce((0.0, 0.0)) { ($0.0 + $1.0, $0.1 + $1.1) }
        let centre = (mean.0 / Double(points.count), mean.1 / Double(points.count))
        func d2(_ a: (Double, Double), _ b: (Double, Double)) -> Double { (a.0 - b.0) * (a.0 - b.0) + (a.1 - b.1) * (a.1 - b.1) }
        var centres = [points.max { d2($0, centre) < d2($1, centre) }!]
        var nearest = points.map { d2($0, centres[0]) }
        while centres.count < k {
            let far = nearest.indices.max { nearest[$0] < nearest[$1] }!
            centres.append(points[far])
            for i in points.indices { nearest[i] = min(nearest[i], d2(points[i], points[far])) }
        }
        centres = lloyd(points, centres: centres, rounds: 8)
        var parts = [Part](repeating: Part(), count: k)
        NearestCentre.assign(pixels, width: width, centres: centres) { n, j in
            let i = Int(pixels[n])
            let y = i / width, x = i - y * width
            parts[j].pixels += 1
            parts[j].x0 = min(parts[j].x0, x); parts[j].x1 = max(parts[j].x1, x)
            parts[j].y0 = min(parts[j].y0, y); parts[j].y1 = max(parts[j].y1, y)
        }
        return parts
    }

    /// Up to `rounds` rounds of Lloyd's k-means from `centres`: each point to its nearest centre (the first
    /// of equals), each centre to the mean of its points; it stops early when a round assigns every point
    /// as the one before (the centres would not move again).
    ///
    /// With Hamerly's bounds: a point keeps its centre without a scan while its distance to it (an upper
    /// bound, grown by that centre's move) is under both a lower bound on its distance to every other
    /// centre (shrunk by the largest move) and half the gap from its centre to the nearest other one. A
    /// point is scanned again only near a boundary, with the same assignments as a scan of every centre.
    static func lloyd(_ points: [(Double, Double)], centres start: [(Double, Double)], rounds: Int) -> [(Double, Double)] {
        var centres = start
        let k = centres.count, n = points.count
        guard k > 0, n > 0, rounds > 0 else { return centres }
        var assigned = [Int](repeating: 0, count: n)
        var upper = [Double](repeating: 0, count: n)
        var lower = [Double](repeating: 0, count: n)
        func scan(_ i: Int) {
            let p = points[i]
            var best = 0, nearest = Double.infinity, second = Double.infinity
            for j in 0..<k {
                let d = (p.0 - centres[j].0) * (p.0 - centres[j].0) + (p.1 - centres[j].1) * (p.1 - centres[j].1)
                if d < nearest {
                    second = nearest
                    nearest = d
                    best = j
                } else if d < second {
                    second = d
                }
            }
            assigned[i] = best
            upper[i] = nearest.squareRoot()
            lower[i] = second.squareRoot()
        }
        for i in 0..<n { scan(i) }
        var moved = [Double](repeating: 0, count: k)
        var halfGap = [Double](repeating: 0, count: k)
        for round in 1...rounds {
            // The centres from this round's assignment, and how far each moved.
            var sums = [(Double, Double, Int)](repeating: (0, 0, 0), count: k)
            for i in 0..<n {
                let j = assigned[i]
                sums[j].0 += points[i].0; sums[j].1 += points[i].1; sums[j].2 += 1
            }
            for j in 0..<k {
                guard sums[j].2 > 0 else { moved[j] = 0; continue }
                let next = (sums[j].0 / Double(sums[j].2), sums[j].1 / Double(sums[j].2))
                moved[j] = ((next.0 - centres[j].0) * (next.0 - centres[j].0) + (next.1 - centres[j].1) * (next.1 - centres[j].1)).squareRoot()
                centres[j] = next
            }
            guard round < rounds else { break }
            // The next round's assignment.
            var largest = 0.0, runnerUp = 0.0, largestAt = -1
            for j in 0..<k {
                if moved[j] > largest {
                    runnerUp = largest
                    largest = moved[j]
                    largestAt = j
                } else if moved[j] > runnerUp {
                    runnerUp = moved[j]
                }
            }
            for j in 0..<k {
                var gap = Double.infinity
                for other in 0..<k where other != j {
                    gap = min(gap, (centres[j].0 - centres[other].0) * (centres[j].0 - centres[other].0) + (centres[j].1 - centres[other].1) * (centres[j].1 - centres[other].1))
                }
                halfGap[j] = gap.squareRoot() / 2
            }
            var changed = false
            for i in 0..<n {
                let a = assigned[i]
                upper[i] += moved[a]
                lower[i] -= a == largestAt ? runnerUp : largest
                let bound = max(halfGap[a], lower[i])
                guard upper[i] >= bound else { continue }
                let p = points[i]
                upper[i] = ((p.0 - centres[a].0) * (p.0 - centres[a].0) + (p.1 - centres[a].1) * (p.1 - centres[a].1)).squareRoot()
                guard upper[i] >= bound else { continue }
                scan(i)
                if assigned[i] != a { changed = true }
            }
            guard changed else { break }
        }
        return centres
    }
}
