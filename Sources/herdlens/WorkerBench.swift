import ArgumentParser
import Foundation
import HerdCodecs
import HerdOverlay
import HerdProtocol
import HerdWorker
import Logging

/// `herdlens bench workers`: what moving compose into codec worker processes costs per frame, side by
/// side with the in-process compose it replaced.
struct WorkerBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workers",
        abstract: "Per-frame cost of composing in codec worker processes vs in process.",
        discussion: """
            For each frame (with its NAME.annotations.json sidecar when there is one): the median and p99
            wall time of FrameComposer.compose in this process, and of open + render through a pool of one
            worker (header parse, annotated JPEG, bytes both ways over the pipes), the difference being
            the price of isolation. Then throughput: --workers workers fed by as many concurrent callers.
            Needs herdlens-codec-worker beside herdlens (swift build -c release --product herdlens-codec-worker).
            """
    )

    @Option(help: "Frames to measure (JPEG or PNG).") var frames: [String] = ["SampleFrames/frames/pen-day-720p.jpg", "SampleFrames/frames/pen-amp2-720p-png.png"]
    @Option(help: "Compositions per measurement.") var iterations: Int = 200
    @Option(help: "Workers (and concurrent callers) in the throughput run.") var workers: Int = 2

    func run() async throws {
        let logger = Logger(label: "bench")
        let executable = CodecWorkerPool.Configuration.defaultExecutable()
        guard FileManager.default.isExecutableFile(atPath: executable) else { throw ValidationError("\(executable) not found") }
        print("frame                          in-process ms (p50/p99)   worker ms (p50/p99)   overhead p50")
        for path in frames {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            let sidecar = ((path as NSString).deletingPathExtension) + ".annotations.json"
            let annotations = try? JSONDecoder().decode(AnnotationSet.self, from: Data(contentsOf: URL(fileURLWithPath: sidecar)))
            let composer = try FrameComposer(renderer: OverlayRenderer())
            var local: [Double] = []
            for i in 0..<(iterations + 10) {
                let start = ContinuousClock.now
                _ = try composer.compose(bytes, annotations: changed(annotations, i))
                if i >= 10 { local.append(ComposeBench.ms(ContinuousClock.now - start)) }
            }
            let pool = CodecWorkerPool(configuration: .init(executable: executable, workers: 1), logger: logger)
            var remote: [Double] = [], opens: [Double] = [], inWorker: [Double] = []
            for i in 0..<(iterations + 10) {
                let start = ContinuousClock.now
                let image = try await pool.open(bytes)
                let opened = ContinuousClock.now
                let rendered = try await pool.render(image, annotations: changed(annotations, i))
                if i >= 10 {
                    remote.append(ComposeBench.ms(ContinuousClock.now - start))
                    opens.append(ComposeBench.ms(opened - start))
                    inWorker.append(ComposeBench.ms(rendered.report.total))
                }
            }
            pool.shutdown()
            let (l50, l99, r50, r99) = (Self.percentile(local, 0.5), Self.percentile(local, 0.99), Self.percentile(remote, 0.5), Self.percentile(remote, 0.99))
            let name = (path as NSString).lastPathComponent
            let padded = name.count < 30 ? name + String(repeating: " ", count: 30 - name.count) : name
            print(padded + String(format: " %8.2f / %-8.2f         %8.2f / %-8.2f     %+.2f ms (%+.0f%%)", l50, l99, r50, r99, r50 - l50, (r50 - l50) / l50 * 100))
            print(String(format: "%30@   of which: open round trip %.2f ms, compose inside the worker %.2f ms", "" as NSString,
                         Self.percentile(opens, 0.5), Self.percentile(inWorker, 0.5)))
        }
        // Throughput: the first frame, `workers` callers at once.
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: frames[0])))
        let pool = CodecWorkerPool(configuration: .init(executable: executable, workers: workers), logger: logger)
        for _ in 0..<workers { _ = try await pool.render(try await pool.open(bytes), annotations: nil) } // start them
        let total = iterations * workers
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<workers {
                group.addTask {
                    for _ in 0..<iterations { _ = try await pool.render(try await pool.open(bytes), annotations: nil) }
                }
            }
            try await group.waitForAll()
        }
        let seconds = ComposeBench.ms(ContinuousClock.now - start) / 1000
        pool.shutdown()
        print(String(format: "throughput, %d workers, %d callers: %.0f frames/s (%@, no overlay)", workers, workers, Double(total) / seconds,
                     (frames[0] as NSString).lastPathComponent as NSString))
    }

    /// The set with its HUD changed each frame (as live video has), so neither path reuses a drawn canvas.
    private func changed(_ set: AnnotationSet?, _ i: Int) -> AnnotationSet? {
        guard var set else { return nil }
        set.items.append(.hud(HUDAnnotation(position: .bottom, entries: [.init(key: "Frame", value: "\(i)")])))
        return set
    }

    static func percentile(_ values: [Double], _ p: Double) -> Double {
        let s = values.sorted()
        return s.isEmpty ? 0 : s[min(s.count - 1, Int(Double(s.count) * p))]
    }
}
