import ArgumentParser
import Foundation
import HerdAnalysis
import HerdCodecs
import HerdProtocol
import HerdWorker

/// `herdlens bench analysis`: the analysis stage's cost per frame on one core, the scaled decode that
/// feeds it reported apart (the codec workers do that part).
struct AnalysisBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analysis",
        abstract: "Per-frame cost of the scaled decode, the pen detector and the whole analysis stage, median and p99.",
        discussion: """
            For each frame: the analysis decode (JPEG at libjpeg's 1/4 or 1/8, PNG whole; reduced to the \
            320-pixel working size), the detector on its result, and the whole analysis stage \
            (`StreamAnalyzer.frame`: detector, tracker, counting line and zone, frame-integrity checks, \
            sensor rules and alerts) on the same picture as a stream of frames, --iterations times each, \
            on this thread.
            """)

    @Option(help: "Frames to measure.") var frames: [String] = [
        "SampleFrames/frames/pen-day-720p.jpg", "SampleFrames/frames/pen-night-720p.jpg", "SampleFrames/frames/pen-amp0-720p.jpg",
        "SampleFrames/frames/pen-day-1080p.jpg", "SampleFrames/frames/pen-amp2-720p-png.png",
    ]
    @Option(help: "Runs per measurement.") var iterations: Int = 300

    func run() throws {
        let decoder = try ImageDecoder()
        let detector = PenDetector()
        print("frame                          decode ms (p50/p99)   detect ms (p50/p99)   analysis ms (p50/p99)   pigs")
        for path in frames {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            var decodes: [Double] = [], detects: [Double] = [], analyses: [Double] = []
            var image = try AnalysisDecode.image(bytes, decoder: decoder)
            var analyzer = Self.analyzer(width: image.frameWidth, height: image.frameHeight)
            var pigs = 0
            for run in 0..<(iterations + 5) {
                let t0 = ContinuousClock.now
                image = try AnalysisDecode.image(bytes, decoder: decoder)
                let t1 = ContinuousClock.now
                pigs = detector.detect(image).count
                let t2 = ContinuousClock.now
                _ = analyzer.frame(Self.input(run, image: image))
                let t3 = ContinuousClock.now
                decodes.append(Self.ms(t1 - t0))
                detects.append(Self.ms(t2 - t1))
                analyses.append(Self.ms(t3 - t2))
            }
            let name = (path as NSString).lastPathComponent.padding(toLength: 30, withPad: " ", startingAt: 0)
            print(String(
                format: "%@ %6.2f / %6.2f       %6.3f / %6.3f       %6.3f / %6.3f         %d", name, Self.p(decodes, 0.5), Self.p(decodes, 0.99),
                Self.p(detects, 0.5), Self.p(detects, 0.99), Self.p(analyses, 0.5), Self.p(analyses, 0.99), pigs))
        }
    }

    /// A stream as the demo's ramp has it: the built-in detector, a counting line across the middle and
    /// a pen zone over the left half, with a crowding limit.
    static func analyzer(width: Int, height: Int) -> StreamAnalyzer {
        var config = AnalysisConfig()
        config.detector = .builtin
        let w = Double(width), h = Double(height)
        config.lines = [CountingLine(id: "ramp", from: PixelPoint(x: w / 2, y: 0), to: PixelPoint(x: w / 2, y: h))]
        config.zones = [Zone(id: "pen", points: [PixelPoint(x: 0, y: 0), PixelPoint(x: w / 2, y: 0), PixelPoint(x: w / 2, y: h), PixelPoint(x: 0, y: h)], maxOccupancy: 15)]
        return StreamAnalyzer(stream: "bench.ramp", config: config) { "al-" + UUID().uuidString.prefix(8).lowercased() }
    }

    /// Frame `run` of the stream at 15 fps, with the truck's readings (heat, seal, GPS) every rule reads.
    static func input(_ run: Int, image: AnalysisImage) -> StreamAnalyzer.FrameInput {
        let at = Timestamp(date: Date(timeIntervalSince1970: 1_800_000_000 + Double(run) / 15))
        var sensors = Sensors()
        sensors.truck = Sensors.Truck(temperatureC: 31, humidityPct: 70)
        sensors.seal = Sensors.Seal(id: "EL-1", state: .locked)
        sensors.gps = Sensors.GPS(lat: 22.5, lon: 114.1)
        return StreamAnalyzer.FrameInput(
            seq: UInt64(run + 1), capturedAt: at, receivedAt: at, now: Double(run) / 15, image: image, deviceBoxes: [], sensors: sensors,
            session: "bench-session", declaredHeadCount: 100)
    }

    static func ms(_ d: Duration) -> Double { Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15 }
    /// Percentile after the 5 warm-up runs.
    static func p(_ v: [Double], _ q: Double) -> Double { WorkerBench.percentile(Array(v.dropFirst(5)), q) }
}
