import HerdProtocol

/// One animal found in a frame, in frame (display) pixels.
public struct Detection: Sendable, Hashable {
    public var rect: PixelRect
    /// 0...1: how sure the detector is (the tracker takes high-confidence boxes first).
    public var confidence: Double
    public var source: Source

    public enum Source: String, Sendable, Hashable {
        /// Sent in the frame header by an edge-AI camera.
        case device
        /// Found by the built-in pen detector.
        case detector
    }

    public init(rect: PixelRect, confidence: Double, source: Source) {
        self.rect = rect
        self.confidence = confidence
        self.source = source
    }

    /// Intersection over union of two rectangles (0 when either is empty).
    public static func iou(_ a: PixelRect, _ b: PixelRect) -> Double {
        let ix = max(0, min(a.x + a.width, b.x + b.width) - max(a.x, b.x))
        let iy = max(0, min(a.y + a.height, b.y + b.height) - max(a.y, b.y))
        let inter = ix * iy
        let union = a.width * a.height + b.width * b.height - inter
        return union > 0 ? inter / union : 0
    }

    /// One-to-one pairs of `a` and `b` by IoU, highest first, each used once, at `minIoU` or more: the
    /// matching the tracker, the detection score and the track evaluation all use.
    public static func greedyMatch(_ a: [PixelRect], _ b: [PixelRect], minIoU: Double) -> [(a: Int, b: Int)] {
        var pairs: [(Double, Int, Int)] = []
        for (i, x) in a.enumerated() {
            for (j, y) in b.enumerated() {
                let v = iou(x, y)
                if v >= minIoU { pairs.append((v, i, j)) }
            }
        }
        pairs.sort { $0.0 > $1.0 }
        var usedA = Set<Int>(), usedB = Set<Int>()
        var out: [(a: Int, b: Int)] = []
        for (_, i, j) in pairs where !usedA.contains(i) && !usedB.contains(j) {
            usedA.insert(i)
            usedB.insert(j)
            out.append((i, j))
        }
        return out
    }
}
