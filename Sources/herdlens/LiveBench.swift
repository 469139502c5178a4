import ArgumentParser
import Foundation
import HTTPTypes
import HerdIdentity
import HerdProtocol
import Logging
import NIOCore
import Synchronization
import WSClient

/// `herdlens bench live`: a real `herdlens serve` process, one device and N viewers over loopback.
/// Reports device-send to viewer-receive latency (one clock: the bench process), the server's CPU
/// (from /proc, so client work is not counted) and RSS, and the most frames/s one stream ingests.
struct LiveBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "live",
        abstract: "Latency, server CPU and memory with N viewers; maximum ingest rate of one stream.")

    @Option(help: "Viewer counts to measure, comma-separated.") var viewers: String = "1,10,100"
    @Option(help: "Device frames per second for the latency runs.") var fps: Double = 15
    @Option(help: "Seconds per measurement.") var seconds: Double = 10
    @Option(help: "A 1280x720 JPEG to send.") var frame: String = "SampleFrames/frames/pen-day-720p.jpg"
    @Flag(help: "Skip the maximum-ingest run.") var noIngest = false

    final class Recorder: Sendable {
        let sent = Mutex<[UInt64: ContinuousClock.Instant]>([:])
        let latencies = Mutex<[Double]>([])
        let received = Mutex(0)
        let acked = Mutex(0)
    }

    func run() async throws {
        let counts = viewers.split(separator: ",").compactMap { Int($0) }
        let image = try FileIO.readAll(frame, limit: 8 << 20)
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("herd-bench-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: data) }
        let store = try TokenStore(dataDirectory: data)
        let stream = StreamID("bench.cam-1")!
        let device = try store.issue(role: .device, streams: .only([stream]), name: "bench device").token
        let inspector = try store.issue(role: .inspector, streams: .all, name: "bench viewer").token
        let config = (data as NSString).appendingPathComponent("server.json")
        try Data(#"{"framesPerSecondPerDevice": 100000, "frameBurst": 100000, "maxSocketsPerToken": 1000}"#.utf8)
            .write(to: URL(fileURLWithPath: config))
        let server = Process()
        server.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        server.arguments = ["serve", "--data", data, "--port", "0", "--config", config, "--log-level", "error"]
        let out = Pipe()
        server.standardOutput = out
        try server.run()
        defer { server.terminate(); server.waitUntilExit() }
        let line = String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
        guard let port = line.split(separator: ":").last.flatMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) else {
            throw ValidationError("server did not report its port: \(line)")
        }
        let logger: Logger = {
            var logger = Logger(label: "bench")
            logger.logLevel = .error
            return logger
        }()
        let fps = self.fps, seconds = self.seconds
        print("herdlens bench live: 1280x720 frames (\(image.count / 1024) KB) at \(fps) fps, \(Int(seconds)) s per run, server pid \(server.processIdentifier)")
        print("viewers  frames/viewer  p50 ms  p99 ms  server CPU %  workers CPU %  server RSS MB  workers RSS MB  MB/s out")
        var seq: UInt64 = 0
        for count in counts {
            let recorder = Recorder()
            let cpu0 = Self.cpuSeconds(server.processIdentifier)
            let workers0 = Self.children(of: server.processIdentifier).reduce(0) { $0 + Self.cpuSeconds($1) }
            let start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<count {
                    group.addTask { try await Self.viewer(port: port, token: inspector, stream: stream, recorder: recorder, logger: logger, until: start + .seconds(seconds + 1.5)) }
                }
                try await Task.sleep(for: .milliseconds(500))  // viewers connected
                let sendStart = ContinuousClock.now
                let frames = Int(seconds * fps)
                let firstSeq = seq + 1
                seq += UInt64(frames)
                group.addTask {
                    try await Self.device(port: port, token: device, stream: stream, image: image, seqs: firstSeq..<(firstSeq + UInt64(frames)),
                                          fps: fps, recorder: recorder, logger: logger)
                }
                try await group.waitForAll()
                _ = sendStart
            }
            let wall = ContinuousClock.now - start
            let cpu = Self.cpuSeconds(server.processIdentifier) - cpu0
            let workers = Self.children(of: server.processIdentifier)
            let workerCPU = workers.reduce(0) { $0 + Self.cpuSeconds($1) } - workers0
            let workerRSS = workers.reduce(0) { $0 + Self.rssKiB($1) }
            let lat = recorder.latencies.withLock { $0.sorted() }
            func pct(_ p: Double) -> Double { lat.isEmpty ? .nan : lat[min(lat.count - 1, Int(Double(lat.count) * p))] }
            let received = recorder.received.withLock { $0 }
            let wallSeconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18
            print(String(format: "%7d  %13.1f  %6.1f  %6.1f  %12.1f  %13.1f  %13.1f  %14.1f  %8.1f", count, Double(received) / Double(count), pct(0.5), pct(0.99),
                         cpu / wallSeconds * 100, workerCPU / wallSeconds * 100, Double(Self.rssKiB(server.processIdentifier)) / 1024,
                         Double(workerRSS) / 1024,
                         Double(received * image.count) / wallSeconds / 1e6))
        }
        if !noIngest {
            let recorder = Recorder()
            let start = ContinuousClock.now
            let firstSeq = seq + 1
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await Self.viewer(port: port, token: inspector, stream: stream, recorder: recorder, logger: logger, until: start + .seconds(seconds + 1)) }
                try await Task.sleep(for: .milliseconds(300))
                group.addTask {
                    try await Self.device(port: port, token: device, stream: stream, image: image, seqs: firstSeq..<(firstSeq + 100_000),
                                          fps: 0, recorder: recorder, logger: logger, until: start + .seconds(seconds))
                }
                try await group.waitForAll()
            }
            let acked = recorder.acked.withLock { $0 }
            print(String(format: "max ingest, one stream, 1 viewer: %.1f frames/s acknowledged (%d in %.0f s)", Double(acked) / seconds, acked, seconds))
        }
    }

    static func headers(_ token: String) -> WebSocketClientConfiguration {
        var headers = HTTPFields()
        headers[.authorization] = "Bearer \(token)"
        return WebSocketClientConfiguration(maxFrameSize: 16 << 20, additionalHeaders: headers)
    }

    static func viewer(port: Int, token: String, stream: StreamID, recorder: Recorder, logger: Logger, until deadline: ContinuousClock.Instant) async throws {
        try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/api/v1/live?stream=\(stream)", configuration: headers(token), logger: logger) { inbound, outbound, _ in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await message in inbound.messages(maxSize: 16 << 20) {
                        guard case .binary(let buffer) = message, buffer.readableBytes > 4 else { continue }
                        let now = ContinuousClock.now
                        let n = Int(buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) ?? 0)
                        guard let json = buffer.getBytes(at: buffer.readerIndex + 4, length: n),
                              let header = try? WireJSON.decode(LiveFrameHeader.self, from: json) else { continue }
                        recorder.received.withLock { $0 += 1 }
                        if let sent = recorder.sent.withLock({ $0[header.seq] }) {
                            let d = now - sent
                            recorder.latencies.withLock { $0.append(Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15) }
                        }
                    }
                }
                group.addTask { try await Task.sleep(until: deadline) }
                try await group.next()
                group.cancelAll()
            }
            try? await outbound.close(.normalClosure, reason: nil)
        }
    }

    /// Sends frames at `fps` (0: as fast as acks allow), keeping up to `window` unacknowledged as a device
    /// may (acks come after each group commit), and counts acks.
    static func device(port: Int, token: String, stream: StreamID, image: [UInt8], seqs: Range<UInt64>, fps: Double,
                       recorder: Recorder, logger: Logger, until deadline: ContinuousClock.Instant? = nil, window: Int = 32) async throws {
        try await WebSocketClient.connect(url: "ws://127.0.0.1:\(port)/api/v1/ingest", configuration: headers(token), logger: logger) { inbound, outbound, _ in
            let inFlight = Atomic(0)
            let (acked, ackSignal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
            // The sender runs beside the reader (acks come after each group commit, in any order).
            let sender = Task {
                var acks = acked.makeAsyncIterator()
                var next = ContinuousClock.now
                for seq in seqs {
                    if let deadline, ContinuousClock.now >= deadline { break }
                    while inFlight.load(ordering: .relaxed) >= window { _ = await acks.next() }
                    let header = DeviceFrameHeader(stream: stream, seq: seq, capturedAt: .now())
                    let message = ByteBuffer(bytes: Envelope.encode(header: header, payload: image))
                    recorder.sent.withLock { $0[seq] = ContinuousClock.now }
                    inFlight.add(1, ordering: .relaxed)
                    try await outbound.write(.binary(message))
                    if fps > 0 {
                        next = next.advanced(by: .milliseconds(Int(1000 / fps)))
                        try await Task.sleep(until: next)
                    }
                }
                // Every ack in (bounded), then close: the reader below ends with the socket.
                let drainBy = ContinuousClock.now + .seconds(10)
                while inFlight.load(ordering: .relaxed) > 0, ContinuousClock.now < drainBy { _ = await acks.next() }
                try? await outbound.close(.normalClosure, reason: nil)
            }
            for try await message in inbound.messages(maxSize: 1 << 20) {
                guard case .text = message else { continue }
                inFlight.subtract(1, ordering: .relaxed)
                recorder.acked.withLock { $0 += 1 }
                ackSignal.yield()
            }
            try await sender.value
        }
    }

    static func cpuSeconds(_ pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// The live child processes of `pid` (the server's codec workers).
    static func children(of pid: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { child in
            guard let stat = try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
            return fields.count > 1 && Int32(fields[1]) == pid
        }
    }

    static func rssKiB(_ pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
        }
        return 0
    }
}
