import Foundation
import HerdTesting
import HTTPTypes
import Logging
import Testing
import WSClient

/// `herdlens serve` as a process: it starts, serves, and drains cleanly on SIGTERM.
@Suite("herdlens serve")
struct ServeCommandTests {
    let cli = ComposeCommandTests()

    @Test("SIGTERM stops the server with exit 0 while a device is streaming")
    func sigtermDrains() async throws {
        let dir = try cli.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let token = try cli.herdlens(["token", "issue", "--data", dir.path, "--role", "device", "--stream", "cam-1"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let server = Process()
        server.executableURL = ComposeCommandTests.binary
        server.arguments = ["serve", "--data", dir.path, "--port", "0", "--log-level", "warning"]
        let out = Pipe()
        server.standardOutput = out
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { if server.isRunning { kill(server.processIdentifier, SIGKILL) } }
        // The first stdout line names the port.
        var line = ""
        let handle = out.fileHandleForReading
        while !line.contains("\n") {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            line += String(decoding: chunk, as: UTF8.self)
        }
        let port = try #require(line.split(separator: ":").last.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
        let device = Process()
        device.executableURL = ComposeCommandTests.binary
        device.arguments = ["simulate", "--server", "ws://127.0.0.1:\(port)", "--token", token, "--stream", "cam-1", "--fps", "20",
                            "--loop", SampleFrames.root.appendingPathComponent("frames").path]
        device.standardOutput = FileHandle.nullDevice
        device.standardError = FileHandle.nullDevice
        try device.run()
        defer { if device.isRunning { kill(device.processIdentifier, SIGKILL) } }
        let inspector = try cli.herdlens(["token", "issue", "--data", dir.path, "--role", "inspector", "--stream", "*"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        var headers = HTTPFields()
        headers[.authorization] = "Bearer \(inspector)"
        // A live viewer: on SIGTERM its socket is closed with 1001 (going away).
        let (watching, watchingContinuation) = AsyncStream<Void>.makeStream()
        let viewer = Task {
            try await WebSocketClient.connect(
                url: "ws://127.0.0.1:\(port)/api/v1/live?stream=cam-1",
                configuration: .init(maxFrameSize: 16 << 20, additionalHeaders: headers), logger: Logger(label: "viewer")
            ) { inbound, _, _ in
                for try await _ in inbound.messages(maxSize: 16 << 20) { watchingContinuation.yield() }
            }
        }
        // Wait (bounded) until the viewer sees live traffic, so SIGTERM finds it connected.
        let seen = await withTaskGroup(of: Bool.self) { group in
            group.addTask { for await _ in watching { return true }; return false }
            group.addTask { try? await Task.sleep(for: .seconds(30)); return false }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        #expect(seen, "the viewer received nothing from the streaming device")
        #expect(server.isRunning)
        server.terminate()  // SIGTERM
        let close = try await viewer.value
        #expect(close?.closeCode == .goingAway, "viewer closed with \(String(describing: close))")
        let deadline = Date().addingTimeInterval(15)
        while server.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!server.isRunning, "server still running 15 s after SIGTERM")
        #expect(server.terminationReason == .exit && server.terminationStatus == 0)
        // The device notices, keeps retrying with backoff, and itself stops cleanly on SIGTERM.
        device.terminate()
        let deviceDeadline = Date().addingTimeInterval(10)
        while device.isRunning && Date() < deviceDeadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!device.isRunning && device.terminationStatus == 0, "simulated device did not stop on SIGTERM")
    }
}
