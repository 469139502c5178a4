import HerdProtocol

/// Detections scored against ground truth: greedy one-to-one matching by IoU (highest pairs first,
/// each box used once, a pair counts at IoU ≥ `minIoU`), summed over frames; a frame without boxes
/// scores its count only.
public struct DetectionScore: Sendable, Hashable {
    public var truePositives = 0
    public var falsePositives = 0
    public var falseNegatives = 0
    /// Frames with box truth (precision and recall) and with count truth (count error).
    public var boxFrames = 0
    public var countFrames = 0
    public var countErrorSum = 0.0

    public static let minIoU = 0.5

    public init() {}

    /// Matches one frame and adds it; returns the frame's own score.
    @discardableResult
    public mutating func add(detected: [PixelRect], truth: [PixelRect]?, truthCount: Int?) -> DetectionScore {
        var frame = DetectionScore()
        if let truth {
            let matched = Detection.greedyMatch(detected, truth, minIoU: Self.minIoU).count
            frame.truePositives = matched
            frame.falsePositives = detected.count - matched
            frame.falseNegatives = truth.count - matched
            frame.boxFrames = 1
        }
        if let count = truthCount ?? truth?.count {
            frame.countFrames = 1
            frame.countErrorSum = Double(abs(detected.count - count))
        }
        self += frame
        return frame
    }

    public var precision: Double { truePositives + falsePositives == 0 ? 0 : Double(truePositives) / Double(truePositives + falsePositives) }
    public var recall: Double { truePositives + falseNegatives == 0 ? 0 : Double(truePositives) / Double(truePositives + falseNegatives) }
    /// Mean absolute count error per frame.
    public var countMAE: Double { countFrames == 0 ? 0 : countErrorSum / Double(countFrames) }

    public static func += (a: inout DetectionScore, b: DetectionScore) {
        a.truePositives += b.truePositives
        a.falsePositives += b.falsePositives
        a.falseNegatives += b.falseNegatives
        a.boxFrames += b.boxFrames
        a.countFrames += b.countFrames
        a.countErrorSum += b.countErrorSum
    }
}
