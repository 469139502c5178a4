import ArgumentParser
import Foundation
import HerdPipeline
import HerdProtocol
import HerdRecording
import HerdWorker
import Logging
import Synchronization

/// `herdlens bench recording`: what evidence recording costs and how fast it reads back.
struct RecordingBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recording",
        abstract: "Ingest with and without recording, ack latency per commit window, verify speed, crash recovery time.",
        discussion: """
            ingest: --streams pipelines (real codec workers, the server's accept stage) fed 720p frames
            from SampleFrames/frames, first as fast as they go (16 in flight per stream), then paced at
            --fps; once with a no-op record step, once recording (append, group commit, wait for the fsync).
            Reports frames/s, CPU seconds per frame (this process and the workers), and receive-to-durable
            latency p50/p99/max for each --windows value.
            verify: writes a session of --minutes at --fps of 720p frames into --dir, verifies it on one
            thread (GB/s of recording), then cuts it like kill -9 (open session, torn tail) and times
            start-up recovery.
            """)

    @Option(help: "Streams in the ingest runs.") var streams = 8
    @Option(help: "Frames per second per stream in the paced runs and the synthetic session.") var fps = 15.0
    @Option(help: "Seconds per ingest run.") var seconds = 15.0
    @Option(help: "Commit windows (seconds) for the paced latency runs.") var windows: [Double] = [0.1, 0.005]
    @Option(help: "Minutes of the synthetic session for verify and recovery (0 skips).") var minutes = 60.0
    @Option(help: "Directory for the recordings (on the disk to measure).") var dir: String = ".build-bench"
    @Option(help: "Directory of 720p JPEG frames.") var frames: String = "SampleFrames/frames"
    @Flag(help: "Skip the ingest runs.") var skipIngest = false

    func run() async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let images = try ((try? FileManager.default.contentsOfDirectory(atPath: frames)) ?? []).sorted()
            .filter { $0.hasSuffix("720p.jpg") }.map { [UInt8](try Data(contentsOf: URL(fileURLWithPath: frames + "/" + $0))) }
        guard !images.isEmpty else { throw ValidationError("no *720p.jpg in \(frames)") }
        print(String(format: "frames: %d 720p JPEGs, mean %.0f KB; CRC32C %@", images.count,
                     Double(images.reduce(0) { $0 + $1.count }) / Double(images.count) / 1024, CRC32C.usesHardware ? "SSE 4.2" : "table"))
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        if !skipIngest {
            let pool = CodecWorkerPool(configuration: .init(executable: CodecWorkerPool.Configuration.defaultExecutable(), workers: ProcessInfo.processInfo.activeProcessorCount), logger: logger)
            defer { pool.shutdown() }
            for mode in ["no recording", "recording"] {
                let r = try await ingest(pool: pool, images: images, record: mode == "recording", window: 0.1, paced: false, logger: logger)
                print(String(format: "max ingest, %d streams, %@: %.0f frames/s, %.2f ms CPU per frame (server %.2f + workers %.2f)",
                             streams, mode as NSString, r.fps, r.cpuPerFrame * 1000, r.serverCPU * 1000, r.workerCPU * 1000))
            }
            for window in [nil] + windows.map(Optional.some) {
                let r = try await ingest(pool: pool, images: images, record: window != nil, window: window ?? 0.1, paced: true, logger: logger)
                let label = window.map { String(format: "recording, %.0f ms window", $0 * 1000) } ?? "no recording"
                print(String(format: "paced %d x %.0f fps, %@: %.0f frames/s, CPU %.0f%% of one core (server %.0f%%, workers %.0f%%), receive-to-ack p50 %.1f ms p99 %.1f ms max %.1f ms",
                             streams, fps, label as NSString, r.fps, (r.serverCPU + r.workerCPU) * r.fps * 100, r.serverCPU * r.fps * 100,
                             r.workerCPU * r.fps * 100, r.p50, r.p99, r.max))
            }
        }
        if minutes > 0 { try await verifyAndRecover(images: images, logger: logger) }
    }

    struct IngestResult {
        var fps: Double
        var cpuPerFrame: Double
        var serverCPU: Double
        var workerCPU: Double
        var p50: Double
        var p99: Double
        var max: Double
    }

    private func ingest(pool: CodecWorkerPool, images: [[UInt8]], record: Bool, window: Double, paced: Bool, logger: Logger) async throws -> IngestResult {
        let data = dir + "/ingest-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: data) }
        var configuration = RecorderConfiguration(dataDirectory: data)
        configuration.commitWindowSeconds = window
        configuration.minFreeBytes = 0
        let fsyncs = Samples()
        var events = RecorderEvents()
        events.committed = { _, _, d in fsyncs.add(Double(d.components.attoseconds) / 1e15 + Double(d.components.seconds) * 1000) }
        let recorder = try Recorder(configuration: configuration, logger: logger, events: events)
        let hub = LiveHub()
        let latencies = Samples()
        let fps = self.fps
        let workerPIDs = pool.workerPIDs.compactMap { $0 }
        let cpuStart = LiveBench.cpuSeconds(getpid()), workerStart = workerPIDs.reduce(0) { $0 + LiveBench.cpuSeconds($1) }
        let start = ContinuousClock.now
        let end = start + .milliseconds(Int(seconds * 1000))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for s in 0..<streams {
                group.addTask {
                    let stream = StreamID("bench-\(s)")!
                    let pipeline = StreamPipeline(stream: stream, hub: hub, codecs: pool, logger: logger)
                    try await withThrowingTaskGroup(of: Void.self) { acks in
                        var seq: UInt64 = 0
                        var inFlight = 0
                        var next = ContinuousClock.now
                        while ContinuousClock.now < end {
                            if paced {
                                try await Task.sleep(until: next)
                                next = next.advanced(by: .milliseconds(Int(1000 / fps)))
                            }
                            if inFlight >= 16 {
                                try await acks.next()
                                inFlight -= 1
                            }
                            seq += 1
                            let thisSeq = seq
                            let image = images[Int(seq) % images.count]
                            let header = DeviceFrameHeader(stream: stream, seq: seq, capturedAt: .now())
                            let headerBytes = WireJSON.encode(header)
                            let received = ContinuousClock.now
                            let durability: Durability? = try await pipeline.accept(header, image: image, receivedAt: .now()) { prepared in
                                guard record else { return (nil, .render) }
                                let admission = await recorder.admit(FrameSubmission(
                                    stream: stream, seq: thisSeq, capturedAt: header.capturedAt, receivedAt: .now(), header: headerBytes, image: image,
                                    annotations: prepared.annotations, alerts: prepared.alerts))
                                if case .recorded(_, _, let d) = admission { return (d, .render) }
                                return (nil, .skip)
                            }
                            inFlight += 1
                            acks.addTask {
                                try await durability?.wait()
                                let ms = Double((ContinuousClock.now - received).components.attoseconds) / 1e15
                                    + Double((ContinuousClock.now - received).components.seconds) * 1000
                                latencies.add(ms)
                            }
                        }
                        try await acks.waitForAll()
                    }
                    await pipeline.renderIdle()
                }
            }
            try await group.waitForAll()
        }
        let elapsed = ContinuousClock.now - start
        let secs = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let count = Double(latencies.count)
        let server = LiveBench.cpuSeconds(getpid()) - cpuStart
        let workers = pool.workerPIDs.compactMap { $0 }.reduce(0) { $0 + LiveBench.cpuSeconds($1) } - workerStart
        await recorder.shutdown()
        let sorted = latencies.sorted
        func p(_ q: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))] }
        let f = fsyncs.sorted
        if !f.isEmpty {
            print(String(format: "    group commits: %d, fsync p50 %.2f ms p99 %.2f ms max %.2f ms", f.count, f[f.count / 2], f[min(f.count - 1, f.count * 99 / 100)], f.last!))
        }
        return IngestResult(
            fps: count / secs, cpuPerFrame: (server + workers) / count, serverCPU: server / count, workerCPU: workers / count, p50: p(0.5),
            p99: p(0.99), max: sorted.last ?? 0)
    }

    /// Receive-to-durable latencies, in ms, from every stream's ack tasks.
    final class Samples: Sendable {
        private let values = Mutex<[Double]>([])
        func add(_ ms: Double) { values.withLock { $0.append(ms) } }
        var count: Int { values.withLock { $0.count } }
        var sorted: [Double] { values.withLock { $0 }.sorted() }
    }

    private func verifyAndRecover(images: [[UInt8]], logger: Logger) async throws {
        let data = dir + "/session-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: data) }
        var configuration = RecorderConfiguration(dataDirectory: data)
        configuration.minFreeBytes = 0
        configuration.commitWindowSeconds = 0.1
        let frameCount = Int(minutes * 60 * fps)
        let stream = StreamID("bench-hour")!
        var session = ""
        do {
            let recorder = try Recorder(configuration: configuration, logger: logger)
            let writeStart = ContinuousClock.now
            session = try await SyntheticSession.record(
                recorder, stream: stream, count: frameCount, fps: fps, images: images, annotations: AnnotationSet(frame: FrameSize(width: 1280, height: 720), items: []))
            let indexed = try recorder.index.frames(session: session)
            let row = try recorder.index.session(session)!
            let writeSecs = secondsSince(writeStart)
            print(String(format: "synthetic session: %d frames (%.0f min at %.0f fps), %.2f GB in %d segments, written in %.1f s (%.0f MB/s)",
                         frameCount, minutes, fps, Double(row.bytes) / 1e9, row.segment, writeSecs, Double(row.bytes) / 1e6 / writeSecs))
            // Verify on one thread, the session still open (up to its last commit).
            let trusted = TrustedKeys.load(dataDirectory: data, current: recorder.key)
            let verifyStart = ContinuousClock.now
            let report = Verifier(trusted: trusted).verify(
                directory: configuration.directory + "/bench-hour/" + session, session: session, indexed: indexed,
                closed: false, upTo: (row.segment, row.segmentOffset))
            let verifySecs = secondsSince(verifyStart)
            if let failure = report.failure { print("verify failure: \(failure)") }
            print(String(format: "verify: %@ %d records, %.2f GB in %.2f s on one thread: %.2f GB/s", report.ok ? "ok" : "FAILED",
                         report.records, Double(report.bytes) / 1e9, verifySecs, Double(report.bytes) / 1e9 / verifySecs))
            // The recorder is dropped without closing anything: as after kill -9.
        }
        // A torn tail, as a write cut short by the kill.
        let segments = SegmentFile.numbers(in: configuration.directory + "/bench-hour/" + session)
        let last = configuration.directory + "/bench-hour/" + session + "/" + SegmentFile.name(segments.last!)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: last))
        handle.seekToEndOfFile()
        handle.write(Data(Record.encode(kind: 2, index: 999_999_999, previousHash: [UInt8](repeating: 0, count: 32), meta: [], blobs: [images[0]]).bytes.prefix(50_000)))
        try handle.close()
        let recoverStart = ContinuousClock.now
        let recovered = try Recorder(configuration: configuration, logger: logger)
        let recoverSecs = secondsSince(recoverStart)
        print(String(format: "recovery after kill -9 (open %.0f-minute session, torn tail): %.3f s at start-up (%d sessions closed, %lld bytes cut)",
                     minutes, recoverSecs, recovered.recovery.sessionsClosed, recovered.recovery.bytesTruncated))
    }

    private func secondsSince(_ t: ContinuousClock.Instant) -> Double {
        let d = ContinuousClock.now - t
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}
