import ArgumentParser
import Foundation
import HerdAnalysis
import HerdDevice
import HerdIdentity
import HerdProtocol
import HerdServer
import Hummingbird
import Logging
import ServiceLifecycle

/// `herdlens serve`: the live service. Every long-lived part is a `Service` in one `ServiceGroup`;
/// SIGTERM or SIGINT stops accepting, lets in-flight frames finish, closes sockets, exits 0.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the HerdLens server (device ingest, live view, health, metrics).",
        discussion: "--demo starts on a fresh data directory with demo tokens and three simulated devices playing SampleFrames.")

    @Option(help: "Data directory (tokens; recordings later).") var data: String?
    @Option(help: "Address to listen on.") var host: String?
    @Option(help: "Port to listen on.") var port: Int?
    @Option(help: "JSON file with ServerConfiguration fields (see docs/operations.md).") var config: String?
    @Flag(help: "Demo: fresh data dir, demo tokens printed, simulated devices started in-process.") var demo = false
    @Option(help: "Demo: folder of JPEG/PNG frames the simulated devices play (default: the repository's SampleFrames/frames).")
    var demoFrames: String?
    @Option(help: "Log level: trace, debug, info, notice, warning, error.") var logLevel: String = "info"

    func run() async throws {
        LoggingSystem.bootstrap(EscapingLogHandler.standardError)
        var logger = Logger(label: "herdlens")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        var configuration = try config.map(Self.loadConfiguration) ?? ServerConfiguration()
        if let data { configuration.dataDirectory = data }
        if let host { configuration.host = host }
        if let port { configuration.port = port }
        // Device images are parsed only in codec workers: without the worker executable nothing could be
        // ingested, so say so now rather than refusing every frame.
        let worker = configuration.codecWorkerConfiguration.executable
        guard FileManager.default.isExecutableFile(atPath: worker) else {
            throw ValidationError("codec worker \(worker) not found: build it (swift build --product herdlens-codec-worker) or set codecWorkerExecutable")
        }
        var services: [any Service] = []
        if demo {
            if data == nil { configuration.dataDirectory = "demo-data" }
            guard configuration.port != 0 else { throw ValidationError("--demo needs a fixed --port: its devices connect to it") }
            services += try Self.prepareDemo(&configuration, frames: try Self.demoFramesFolder(demoFrames), logger: logger)
        }
        let shutdown = ShutdownSignal()
        let app = try buildApplication(configuration: configuration, logger: logger, shutdown: shutdown) { host, port in
            // One line on stdout, for people and for scripts that start the server on port 0.
            FileHandle.standardOutput.write(Data("HerdLens listening on http://\(host):\(port)\n".utf8))
        }
        let group = ServiceGroup(
            // Shut down in reverse order: devices, then the notifier (viewers get 1001), then the server.
            configuration: .init(services: [app, ShutdownNotifier(signal: shutdown)] + services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    static func loadConfiguration(_ path: String) throws -> ServerConfiguration {
        do {
            return try JSONDecoder().decode(ServerConfiguration.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw ValidationError("\(path): not a valid server configuration: \(error)")
        }
    }

    /// Marks a data directory the demo made, and may therefore wipe.
    static let demoMarker = ".herdlens-demo"

    /// `--demo-frames`, or SampleFrames/frames in the working directory or in the checkout the
    /// executable was built in (`.build/…/herdlens`), so the demo runs from anywhere.
    static func demoFramesFolder(_ given: String?) throws -> String {
        if let given { return given }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let candidates = ["SampleFrames/frames"] + (2...4).map { depth in
            (0..<depth).reduce(executable) { url, _ in url.deletingLastPathComponent() }.appendingPathComponent("SampleFrames/frames").path
        }
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw ValidationError("--demo plays SampleFrames/frames: run it from the repository, or give --demo-frames DIR")
        }
        return found
    }

    static let demoRampName = "busy-ramp"

    /// The ramp sequence the demo counts (`herdlens sample sequences` writes it beside the frames
    /// folder, in `sequences/`), with its truth (the counting line); nil when it has not been made.
    static func demoRamp(besides frames: String) -> (frames: [[UInt8]], truth: SequenceTruth)? {
        let folder = ((frames as NSString).deletingLastPathComponent as NSString).appendingPathComponent("sequences/\(demoRampName)")
        guard let data = FileManager.default.contents(atPath: (folder as NSString).appendingPathComponent("truth.json")),
            let truth = try? JSONDecoder().decode(SequenceTruth.self, from: data),
            let images = try? SimulateCommand.loadFrames([folder]), images.count == truth.frames.count
        else { return nil }
        return (images, truth)
    }

    /// Wipes and re-creates the demo data directory, prints tokens, returns the simulated devices. Only
    /// a directory that does not exist or that an earlier demo made is wiped: `--demo --data` never
    /// deletes real tokens (or, later, recordings).
    static func prepareDemo(_ configuration: inout ServerConfiguration, frames folder: String, logger: Logger) throws -> [any Service] {
        let directory = configuration.dataDirectory
        let manager = FileManager.default
        if manager.fileExists(atPath: directory) {
            let marked = manager.fileExists(atPath: (directory as NSString).appendingPathComponent(demoMarker))
            let empty = ((try? manager.contentsOfDirectory(atPath: directory)) ?? []).isEmpty
            guard marked || empty else {
                throw ValidationError("\(directory) holds data the demo did not make; --demo starts afresh, so give it another --data")
            }
            try manager.removeItem(atPath: directory)
        }
        try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
        guard manager.createFile(atPath: (directory as NSString).appendingPathComponent(demoMarker), contents: Data("made by herdlens serve --demo\n".utf8)) else {
            throw ValidationError("cannot write to \(directory)")
        }
        let store = try TokenStore(dataDirectory: directory)
        let streams = ["farm-jx-017.cam-1", "farm-jx-017.cam-2", "truck-yue-b12345.cab"].compactMap(StreamID.init)
        let inspector = try store.issue(role: .inspector, streams: .all, name: "demo inspector").token
        let admin = try store.issue(role: .admin, streams: .all, name: "demo admin").token
        let frames = try SimulateCommand.loadFrames([folder])
        var devices: [any Service] = []
        var lines = [
            "HerdLens demo (data in \(configuration.dataDirectory)/)",
            "  viewer:    http://\(configuration.host):\(configuration.port)/  (sign in with the inspector token)",
            "  inspector: \(inspector)",
            "  admin:     \(admin)",
        ]
        // Analysis as an admin would set it up: the pen camera watches its pen for crowding; the ramp
        // camera counts pigs over its line against the declared head count.
        let configs = try StreamConfigStore(dataDirectory: directory)
        var pen = AnalysisConfig()
        pen.zones = [Zone(id: "pen", points: [[0, 0], [1280, 0], [1280, 720], [0, 720]].map { PixelPoint(x: $0[0], y: $0[1]) }, maxOccupancy: 15)]
        _ = try configs.save(streams[0], pen, by: "demo")
        let ramp = demoRamp(besides: folder)
        if let ramp {
            var counting = AnalysisConfig()
            counting.detector = .builtin
            counting.lines = [ramp.truth.line]
            _ = try configs.save(streams[1], counting, by: "demo")
        } else {
            lines.append("  (no ramp sequence in SampleFrames/sequences/\(demoRampName): \(streams[1]) plays the pen frames; scripts/run.sh makes it when ../shared/frames is there)")
        }
        for (i, stream) in streams.enumerated() {
            let token = try store.issue(role: .device, streams: .only([stream]), name: "demo device \(stream)").token
            let role = i == 1 ? ramp.map { "  (ramp camera: counting line \($0.truth.line.id), 100 declared, the seal locks after 10 min)" } ?? "" : ""
            lines.append("  device \(stream): \(token)\(role)")
            // Each device plays the frames from a different starting point; the ramp camera its sequence.
            let rotated = Array(frames[(i * 2 % frames.count)...] + frames[..<(i * 2 % frames.count)])
            let played = i == 1 ? ramp?.frames ?? rotated : rotated
            var device = DeviceSimulator.Configuration(
                server: "ws://127.0.0.1:\(configuration.port)", token: token, stream: stream,
                framesPerSecond: i == 1 ? ramp?.truth.framesPerSecond ?? 5 : 5, loop: true, frames: played)
            device.startsSession = true
            // The ramp is a loading: the e-lock stays open for ten minutes of frames, then locks (the
            // seal event: the count is reconciled against the 100 declared).
            if i == 1, let ramp { device.sealsAtFrame = Int(ramp.truth.framesPerSecond * 600) }
            devices.append(DeviceSimulator(configuration: device, logger: logger))
        }
        FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        return devices
    }
}
