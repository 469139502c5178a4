import ArgumentParser
import Foundation
import HerdExport
import HerdProtocol
import HerdRecording
import HerdWorker
import Logging

/// `herdlens bench replay`: seek latency, compose rate and export throughput on a synthetic session.
struct ReplayBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Seek (index lookup + one read) p50/p99, replay compose rate on one worker, bundle and MCAP export MB/s and memory.",
        discussion: """
            Writes a session of --minutes at --fps of 720p frames (SampleFrames/frames) into --dir, then:
            loads its timeline; seeks to --seeks random seqs (index lookup and one pread of the frame and its
            annotations) and reports p50/p99/max; composes --compose frames through one codec worker (stored
            original + stored annotations, as replay does) and reports the sustainable frames/s against the
            60 fps that 4x of 15 fps needs; exports the session as a bundle and as MCAP to files in --dir
            and reports MB/s and the process's peak resident memory before and after.
            """)

    @Option(help: "Minutes of the synthetic session.") var minutes = 60.0
    @Option(help: "Frames per second of the synthetic session.") var fps = 15.0
    @Option(help: "Random seeks to time.") var seeks = 2000
    @Option(help: "Frames to compose through one worker.") var compose = 300
    @Option(help: "Directory for the recordings and exports (on the disk to measure).") var dir: String = ".build-bench"
    @Option(help: "Directory of 720p JPEG frames.") var frames: String = "SampleFrames/frames"
    @Option(help: "Keep the recorded session in this data directory (a server's --data) instead of deleting it, for scripts/bench-export-http.sh.")
    var keep: String?

    func run() async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let images = try ((try? FileManager.default.contentsOfDirectory(atPath: frames)) ?? []).sorted()
            .filter { $0.hasSuffix("720p.jpg") }.map { [UInt8](try Data(contentsOf: URL(fileURLWithPath: frames + "/" + $0))) }
        guard !images.isEmpty else { throw ValidationError("no *720p.jpg in \(frames)") }
        let annotations = try WireJSON.decode(AnnotationSet.self, from: [UInt8](try Data(contentsOf: URL(fileURLWithPath: frames + "/pen-day-720p.annotations.json"))))
        let data = keep ?? dir + "/replay-\(UUID().uuidString.prefix(8))"
        defer { if keep == nil { try? FileManager.default.removeItem(atPath: data) } }
        var configuration = RecorderConfiguration(dataDirectory: data)
        configuration.minFreeBytes = 0
        let stream = StreamID("bench-replay")!
        let count = Int(minutes * 60 * fps)
        let recorder = try Recorder(configuration: configuration, logger: logger)
        let session = try await SyntheticSession.record(recorder, stream: stream, count: count, fps: fps, images: images, annotations: annotations, format: "jpeg")
        _ = try await recorder.endSession(stream: stream, reason: "api")
        let row = try recorder.index.session(session)!
        print(String(format: "session: %d frames (%.0f min at %.0f fps, 720p), %.2f GB", count, minutes, fps, Double(row.bytes) / 1e9))
        if keep != nil { print("kept session: \(session)") }
        let reader = SessionReader(recordingsDirectory: configuration.directory, index: recorder.index)
        var start = ContinuousClock.now
        let timeline = try reader.timeline(session: session)
        print(String(format: "timeline load (replay open): %.1f ms for %d frames", ms(since: start), timeline.count))
        // Seeks: an index lookup and one read each.
        var times: [Double] = []
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<seeks {
            let seq = UInt64.random(in: 1...UInt64(count), using: &generator)
            start = ContinuousClock.now
            guard let frame = try recorder.index.frame(stream: stream.rawValue, seq: seq) else { throw ValidationError("seq \(seq) not found") }
            let stored = try reader.read(frame, session: row)
            times.append(ms(since: start))
            if stored.meta.seq != seq || stored.annotations == nil { throw ValidationError("seq \(seq) read back wrong") }
        }
        times.sort()
        print(String(format: "seek (index lookup + one read), %d random seqs: p50 %.2f ms, p99 %.2f ms, max %.2f ms", seeks,
                     times[times.count / 2], times[min(times.count - 1, times.count * 99 / 100)], times.last ?? 0))
        // Compose on one worker, as replay does.
        let pool = CodecWorkerPool(configuration: .init(executable: CodecWorkerPool.Configuration.defaultExecutable(), workers: 1), logger: logger)
        defer { pool.shutdown() }
        let sample = try timeline.prefix(compose).map { try reader.read($0, session: row) }
        _ = try await pool.render(try await pool.open(sample[0].image), annotations: sample[0].annotations?.annotations)
        start = ContinuousClock.now
        for stored in sample {
            _ = try await pool.render(try await pool.open(stored.image), annotations: stored.annotations?.annotations)
        }
        let composeMs = ms(since: start) / Double(sample.count)
        print(String(format: "replay compose on one worker (read + open + render): %.2f ms per frame = %.0f frames/s (4x of 15 fps needs 60; 16x needs 240)",
                     composeMs, 1000 / composeMs))
        // The reference: a plain copy of the session's segment files to one file on the same disk (what
        // any export must at least read and write).
        let copyPath = data + "/copy.bin"
        start = ContinuousClock.now
        let copySink = try FileSink(path: copyPath)
        var copied: Int64 = 0
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { chunk.deallocate() }
        for number in SegmentFile.numbers(in: reader.sessionDirectory(row)) {
            let fd = open(reader.sessionDirectory(row) + "/" + SegmentFile.name(number), O_RDONLY)
            defer { close(fd) }
            while case let n = read(fd, chunk.baseAddress, chunk.count), n > 0 {
                try copySink.write(UnsafeRawBufferPointer(rebasing: chunk[0..<n]))
                copied += Int64(n)
            }
        }
        let copySeconds = ms(since: start) / 1000
        print(String(format: "reference, plain copy of the segments: %.2f GB in %.1f s = %.0f MB/s", Double(copied) / 1e9, copySeconds, Double(copied) / 1e6 / copySeconds))
        try? FileManager.default.removeItem(atPath: copyPath)
        // Exports.
        for format in ["bundle", "mcap"] {
            let path = data + "/export.\(format)"
            let before = peakRSS()
            start = ContinuousClock.now
            let sink = try FileSink(path: path)
            let summary = format == "bundle"
                ? try BundleExporter(reader: reader, key: recorder.key, temporaryDirectory: data + "/tmp").export(sessions: [row], audit: [], exportedBy: "bench", to: sink)
                : try McapExporter(reader: reader).export(sessions: [row], to: sink)
            let seconds = ms(since: start) / 1000
            print(String(format: "%@ export: %.2f GB in %.1f s = %.0f MB/s; peak RSS %.0f MB before, %.0f MB after", format as NSString,
                         Double(summary.bytes) / 1e9, seconds, Double(summary.bytes) / 1e6 / seconds, before, peakRSS()))
            if format == "bundle" {
                start = ContinuousClock.now
                let report = try BundleVerifier().verify(path: path, pinned: .publicKey(recorder.key.publicKey))
                print(String(format: "bundle verify (offline, pinned): %@ in %.1f s", report.ok ? "ok" : "FAILED", ms(since: start) / 1000))
            }
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    private func ms(since t: ContinuousClock.Instant) -> Double {
        let d = ContinuousClock.now - t
        return Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
    }

    private func peakRSS() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_maxrss) / 1024
    }
}
