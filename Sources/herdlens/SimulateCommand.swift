import ArgumentParser
import Foundation
import HerdCodecs
import HerdDevice
import HerdProtocol
import Logging
import ServiceLifecycle

/// `herdlens simulate`: a field device that speaks the ingest protocol.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Play frames to a HerdLens server as a field device (changing sensors, GPS route, reconnects).")

    @Option(help: "Server URL, e.g. ws://127.0.0.1:8080.") var server: String
    @Option(help: "Device token.") var token: String
    @Option(help: "Stream id.") var stream: String
    @Option(help: "Frames per second.") var fps: Double = 10
    @Flag(help: "Play the frames in a loop until stopped.") var loop = false
    @Option(help: "Store-and-forward: go offline after this many frames...") var offlineAfter: Int?
    @Option(help: "...for this many seconds, buffering frames, then upload them with their capture times.") var offlineFor: Double?
    @Flag(help: "Open a recording session with the simulated consignment on each connection; end it when done (without --loop).") var session = false
    @Option(help: "Append 'STREAM SEQ' to this file for every ack received (what the server promised is durable).") var ackLog: String?
    @Option(help: "Run this many devices in one process, on streams STREAM-01 … STREAM-NN (the token must allow them; grids and soak runs).") var devices = 1
    @Argument(help: "JPEG/PNG frames or directories (default: SampleFrames/frames).") var frames: [String] = []

    func validate() throws {
        guard StreamID(stream) != nil else { throw ValidationError("--stream must match [A-Za-z0-9._-]{1,64}, not starting with a dot") }
        guard fps > 0, fps <= 1000 else { throw ValidationError("--fps must be in (0, 1000]") }
        guard (offlineAfter == nil) == (offlineFor == nil) else { throw ValidationError("--offline-after and --offline-for go together") }
        if let offlineAfter, offlineAfter < 1 { throw ValidationError("--offline-after must be at least 1") }
        if let offlineFor, !(offlineFor > 0) { throw ValidationError("--offline-for must be a positive number of seconds") }
        guard (1...256).contains(devices) else { throw ValidationError("--devices must be 1...256") }
        if devices > 1, StreamID("\(stream)-\(devices)") == nil { throw ValidationError("--stream is too long for --devices \(devices)") }
    }

    func run() async throws {
        LoggingSystem.bootstrap(EscapingLogHandler.standardError)
        let logger = Logger(label: "herdlens.simulate")
        let images = try Self.loadFrames(frames.isEmpty ? ["SampleFrames/frames"] : frames)
        var configuration = DeviceSimulator.Configuration(
            server: server, token: token, stream: StreamID(stream)!, framesPerSecond: fps, loop: loop, frames: images)
        configuration.offlineAfter = offlineAfter
        configuration.offlineFor = offlineFor
        configuration.startsSession = session
        if let ackLog {
            FileManager.default.createFile(atPath: ackLog, contents: nil)
            guard let handle = FileHandle(forWritingAtPath: ackLog) else { throw ValidationError("cannot write \(ackLog)") }
            handle.seekToEndOfFile()
            let lock = NSLock()
            configuration.onAck = { ack in
                lock.withLock { handle.write(Data("\(ack.stream) \(ack.seq)\n".utf8)) }
            }
        }
        // An AR display would draw these; the simulator prints them (one JSON line each) and acknowledges each mark.
        configuration.onMark = { text in FileHandle.standardOutput.write(Data((text + "\n").utf8)) }
        let streams = devices == 1 ? [configuration.stream] : (1...devices).map { StreamID(String(format: "%@-%02d", stream, $0))! }
        let simulators = streams.map { id in
            var one = configuration
            one.stream = id
            return DeviceSimulator(configuration: one, logger: logger)
        }
        // Without --loop a device finishes once every frame is acknowledged; the group ends when all have.
        let group = ServiceGroup(configuration: .init(
            services: simulators.map { .init(service: $0, successTerminationBehavior: simulators.count == 1 ? .gracefullyShutdownGroup : .ignore) },
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        for device in simulators {
            let p = device.progress
            let prefix = simulators.count == 1 ? "" : "\(device.stream): "
            print("\(prefix)captured \(p.captured), sent \(p.sent), acknowledged \(p.acknowledged) (\(p.duplicates) duplicates), re-sent after a retryable refusal \(p.retried), refused \(p.errors), buffered offline \(p.buffered), connections \(p.connections), marks \(p.marks)")
        }
    }

    /// JPEG/PNG files, directories expanded in name order.
    static func loadFrames(_ paths: [String]) throws -> [[UInt8]] {
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw ValidationError("\(path): no such file or directory")
            }
            if isDirectory.boolValue {
                files += ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
                    .filter { ImageFormat(fileExtension: ($0 as NSString).pathExtension) != nil }
                    .map { (path as NSString).appendingPathComponent($0) }
            } else {
                files.append(path)
            }
        }
        guard !files.isEmpty else { throw ValidationError("no JPEG or PNG frames in \(paths.joined(separator: " "))") }
        return try files.map { try FileIO.readAll($0, limit: DecodeLimits.default.maxBytes) }
    }
}
