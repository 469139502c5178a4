import ArgumentParser
import Foundation
import HerdAnalysis
import HerdCodecs
import HerdWorker

/// `herdlens bench analysis`: the analysis stage's cost per frame on one core, the scaled decode that
/// feeds it reported apart (the codec workers do that part).
struct AnalysisBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analysis",
        abstract: "Per-frame cost of the scaled decode and of the pen detector, median and p99.",
        discussion: """
            For each frame: the analysis decode (JPEG at libjpeg's 1/4 or 1/8, PNG whole; reduced to the \
            320-pixel working size) and the detector on its result, --iterations times each, on this thread.
            """)

    @Option(help: "Frames to measure.") var frames: [String] = [
        "SampleFrames/frames/pen-day-720p.jpg", "SampleFrames/frames/pen-night-720p.jpg", "SampleFrames/frames/pen-amp0-720p.jpg",
        "SampleFrames/frames/pen-day-1080p.jpg", "SampleFrames/frames/pen-amp2-720p-png.png",
    ]
    @Option(help: "Runs per measurement.") var iterations: Int = 300

    func run() throws {
        let decoder = try ImageDecoder()
        let detector = PenDetector()
        print("frame                          decode ms (p50/p99)   detect ms (p50/p99)   pigs")
        for path in frames {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            var decodes: [Double] = [], detects: [Double] = []
            var image = try AnalysisDecode.image(bytes, decoder: decoder)
            var pigs = 0
            for _ in 0..<(iterations + 5) {
                let t0 = ContinuousClock.now
                image = try AnalysisDecode.image(bytes, decoder: decoder)
                let t1 = ContinuousClock.now
                pigs = detector.detect(image).count
                let t2 = ContinuousClock.now
                decodes.append(Self.ms(t1 - t0))
                detects.append(Self.ms(t2 - t1))
            }
            let name = (path as NSString).lastPathComponent.padding(toLength: 30, withPad: " ", startingAt: 0)
            print(String(format: "%@ %6.2f / %6.2f       %6.3f / %6.3f       %d", name, Self.p(decodes, 0.5), Self.p(decodes, 0.99), Self.p(detects, 0.5), Self.p(detects, 0.99), pigs))
        }
    }

    static func ms(_ d: Duration) -> Double { Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15 }
    /// Percentile after the 5 warm-up runs.
    static func p(_ v: [Double], _ q: Double) -> Double { WorkerBench.percentile(Array(v.dropFirst(5)), q) }
}
