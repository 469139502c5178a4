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
        let (labels, count) = mask.labels()
        guard count > 0 else { return [] }
        let distance = mask.distances()
        // Per component: area, widest point, chroma sum, bounds.
        var area = [Int](repeating: 0, count: count + 1)
        var widest = [Float](repeating: 0, count: count + 1)
        var chroma = [Int](repeating: 0, count: count + 1)
        image.rgb.withUnsafeBufferPointer { rgb in
            labels.withUnsafeBufferPointer { labels in
                distance.withUnsafeBufferPointer { distance in
                    area.withUnsafeMutableBufferPointer { area in
                        widest.withUnsafeMutableBufferPointer { widest in
                            chroma.withUnsafeMutableBufferPointer { chroma in
                                for i in 0..<n {
                                    let l = Int(labels[i])
                                    guard l != 0 else { continue }
                                    area[l] += 1
                                    widest[l] = max(widest[l], distance[i])
                                    chroma[l] += Int(rgb[3 * i]) - Int(rgb[3 * i + 2])
                                }
                            }
                        }
                    }
                }
            }
        }
        let minArea = parameters.minAreaFraction * Double(n)
        let maxArea = parameters.maxAreaFraction * Double(n)
        var kept = (1...count).filter { (l: Int) -> Bool in
            let a = Double(area[l])
            guard a >= minArea, a <= maxArea else { return false }
            return infrared || Double(chroma[l]) / a >= parameters.minChroma
        }
        guard !kept.isEmpty else { return [] }
        let typicalHalfWidth = Double(Self.median(kept.map { widest[$0] }))
        kept = kept.filter { Double(widest[$0]) >= parameters.minWidthOfTypical * typicalHalfWidth }
        guard !kept.isEmpty else { return [] }
        let medianArea = Double(Self.median(kept.map { Float(area[$0]) }))
        // Half-width along the bodies' spines (the distance ridge), which merging does not inflate.
        var ridge: [Float] = []
        var keep = [Bool](repeating: false, count: count + 1)
        for l in kept { keep[l] = true }
        distance.withUnsafeBufferPointer { distance in
            labels.withUnsafeBufferPointer { labels in
                for y in 1..<(h - 1) {
                    for i in (y * w + 1)..<(y * w + w - 1) {
                        let d = distance[i]
                        guard d >= 1.5, keep[Int(labels[i])] else { continue }
                        if d >= distance[i - 1] && d >= distance[i + 1] && d >= distance[i - w] && d >= distance[i + w]
                            && d >= distance[i - w - 1] && d >= distance[i - w + 1] && d >= distance[i + w - 1] && d >= distance[i + w + 1] {
                            ridge.append(d)
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
        // Pixels of each kept component, for bounds and splitting.
        var slot = [Int](repeating: -1, count: count + 1)
        for (index, l) in kept.enumerated() { slot[l] = index }
        var pixels = [[Int32]](repeating: [], count: kept.count)
        for (index, l) in kept.enumerated() { pixels[index].reserveCapacity(area[l]) }
        for i in 0..<n {
            let s = slot[Int(labels[i])]
            if s >= 0 { pixels[s].append(Int32(i)) }
        }
        var found: [Detection] = []
        for (index, l) in kept.enumerated() {
            let ratio = Double(area[l]) / typicalArea
            var pigs = max(1, Int((ratio + parameters.splitRounding).rounded(.down)))
            if pigs == 2 && Self.solidity(pixels[index], width: w) > parameters.maxSolidityToSplit { pigs = 1 }
            let parts = pigs == 1 ? [pixels[index]] : Self.kmeans(pixels[index], width: w, k: pigs)
            for part in parts where !part.isEmpty {
                var x0 = w, y0 = h, x1 = 0, y1 = 0
                for p in part {
                    let x = Int(p) % w, y = Int(p) / w
                    x0 = min(x0, x); x1 = max(x1, x)
                    y0 = min(y0, y); y1 = max(y1, y)
                }
                let partRatio = Double(part.count) / typicalArea
                var confidence = 0.95 - 0.4 * abs(log2(max(partRatio, 1e-3)))
                if pigs > 1 { confidence *= 0.8 }
                confidence = min(0.95, max(0.2, confidence))
                let rect = PixelRect(
                    x: Double(x0) * image.scaleX, y: Double(y0) * image.scaleY, width: Double(x1 + 1 - x0) * image.scaleX,
                    height: Double(y1 + 1 - y0) * image.scaleY)
                found.append(Detection(rect: rect, confidence: (confidence * 100).rounded() / 100, source: .detector))
            }
        }
        return found
    }

    /// Area over convex-hull area (1 for a convex blob); the hull of the pixels' row extremes.
    static func solidity(_ pixels: [Int32], width: Int) -> Double {
        var rows: [Int: (Int, Int)] = [:]
        for p in pixels {
            let x = Int(p) % width, y = Int(p) / width
            if let r = rows[y] { rows[y] = (min(r.0, x), max(r.1, x)) } else { rows[y] = (x, x) }
        }
        var points: [(Double, Double)] = []
        for (y, r) in rows {
            points.append((Double(r.0), Double(y)))
            points.append((Double(r.1) + 1, Double(y)))
            points.append((Double(r.0), Double(y) + 1))
            points.append((Double(r.1) + 1, Double(y) + 1))
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
        return hullArea > 0 ? min(1, Double(pixels.count) / hullArea) : 1
    }

    /// Whether the picture has (almost) no colour: an infrared night camera.
    static func isGrey(_ image: AnalysisImage) -> Bool {
        var histogram = [Int](repeating: 0, count: 256)
        let n = image.width * image.height
        image.rgb.withUnsafeBufferPointer { rgb in
            var i = 0
            while i < n {
                let r = rgb[3 * i], g = rgb[3 * i + 1], b = rgb[3 * i + 2]
                histogram[Int(max(r, g, b) - min(r, g, b))] += 1
                i += 1
            }
        }
        var seen = 0
        for (value, count) in histogram.enumerated() {
            seen += count
            if seen * 2 >= n { return value < 12 }
        }
        return true
    }

    static func foreground(_ image: AnalysisImage, infrared: Bool) -> [UInt8] {
        let n = image.width * image.height
        var bits = [UInt8](repeating: 0, count: n)
        image.rgb.withUnsafeBufferPointer { rgb in
            if infrared {
                var histogram = [Int](repeating: 0, count: 256)
                for i in 0..<n { histogram[luma(rgb, i)] += 1 }
                let low = otsu(histogram, from: 0)
                let high = otsu(histogram, from: low + 1)
                for i in 0..<n where luma(rgb, i) > high { bits[i] = 1 }
            } else {
                for i in 0..<n where isPigColour(r: Int(rgb[3 * i]), g: Int(rgb[3 * i + 1]), b: Int(rgb[3 * i + 2])) { bits[i] = 1 }
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

    /// Splits a component's pixels (in raster order) into `k` groups: farthest-point seeds, then 8 rounds of k-means
    /// on pixel coordinates (on every pixel of a subsample when the component is large).
    static func kmeans(_ pixels: [Int32], width: Int, k: Int) -> [[Int32]] {
        let step = max(1, pixels.count / 1200)
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
        func closest(_ p: (Double, Double)) -> Int {
            var best = 0, bestD = Double.infinity
            for (j, c) in centres.enumerated() {
                let d = d2(p, c)
                if d < bestD { bestD = d; best = j }
            }
            return best
        }
        for _ in 0..<8 {
            var sums = [(Double, Double, Int)](repeating: (0, 0, 0), count: k)
            for p in points {
                let j = closest(p)
                sums[j].0 += p.0; sums[j].1 += p.1; sums[j].2 += 1
            }
            for j in 0..<k where sums[j].2 > 0 { centres[j] = (sums[j].0 / Double(sums[j].2), sums[j].1 / Double(sums[j].2)) }
        }
        var groups = [[Int32]](repeating: [], count: k)
        // `pixels` are in raster order: the row advances as they go, with no division per pixel.
        var row = 0, rowStart = 0
        for p in pixels {
            let i = Int(p)
            while i >= rowStart + width { row += 1; rowStart += width }
            groups[closest((Double(i - rowStart), Double(row)))].append(p)
        }
        return groups
    }
}
