import Foundation
import HerdIdentity
import HerdProtocol
import HerdServer
import HerdTesting
import HummingbirdTesting
import Logging

/// A data directory with one token of each kind, and the configuration to boot the server on it.
struct ServerFixture {
    let directory: URL
    var configuration = ServerConfiguration()
    let device: String
    let otherDevice: String
    let inspector: String
    let narrowInspector: String
    let auditor: String
    let admin: String
    let stream = StreamID("farm-jx-017.cam-1")!
    let otherStream = StreamID("farm-jx-099.cam-1")!

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("herd-server-\(UUID().uuidString)")
        let store = try TokenStore(dataDirectory: directory.path)
        device = try store.issue(role: .device, streams: try StreamGrant([stream.rawValue]), name: "cam").token
        otherDevice = try store.issue(role: .device, streams: try StreamGrant([otherStream.rawValue]), name: "other cam").token
        inspector = try store.issue(role: .inspector, streams: .all, name: "inspector").token
        narrowInspector = try store.issue(role: .inspector, streams: try StreamGrant([otherStream.rawValue]), name: "narrow").token
        auditor = try store.issue(role: .auditor, streams: .all, name: "auditor").token
        admin = try store.issue(role: .admin, streams: .all, name: "admin").token
        configuration.dataDirectory = directory.path
        configuration.port = 0
        // Tests run where disks are small; a short commit window keeps acks quick.
        configuration.recording.minFreeBytes = 0
        configuration.recording.commitWindowSeconds = 0.01
    }

    /// A fixture whose devices may send as fast as they like (tests that stream many frames), with any
    /// other configuration changes the test needs.
    static func unthrottled(_ adjust: (inout ServerConfiguration) -> Void = { _ in }) throws -> ServerFixture {
        var fixture = try ServerFixture()
        fixture.configuration.framesPerSecondPerDevice = 1000
        fixture.configuration.frameBurst = 1000
        adjust(&fixture.configuration)
        return fixture
    }

    var logger: Logger {
        var logger = Logger(label: "herd-test")
        logger.logLevel = .warning
        return logger
    }

    func cleanUp() { try? FileManager.default.removeItem(at: directory) }

    /// A frame header for `seq` with sensors from the SampleFrames sidecar.
    func header(seq: UInt64, stream: StreamID? = nil) throws -> DeviceFrameHeader {
        DeviceFrameHeader(
            stream: stream ?? self.stream, seq: seq, capturedAt: .now(),
            sensors: Sensors(truck: .init(temperatureC: 21.5, humidityPct: 60), seal: .init(id: "EL-1", state: .locked)))
    }

    /// Waits until the server's gauges (`herd_viewers`, `herd_devices`) read `values`, within 30 s: how a
    /// test knows its sockets are open on the server side rather than sleeping and hoping.
    static func waitForGauges(_ client: some TestClientProtocol, _ values: [String: Double]) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let text = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            let lines = text.split(separator: "\n")
            let matched = values.allSatisfy { name, value in
                lines.first { $0.hasPrefix("\(name) ") }.flatMap { Double($0.dropFirst(name.count + 1)) } == value
            }
            if matched { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw CancellationError()
    }

    static func multipart(metadata: [UInt8], image: [UInt8], boundary: String = "herdlens-test-boundary") -> [UInt8] {
        var body = [UInt8]()
        body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"metadata\"\r\nContent-Type: application/json\r\n\r\n".utf8)
        body += metadata
        body += Array("\r\n--\(boundary)\r\nContent-Disposition: form-data; name=\"image\"; filename=\"frame.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n".utf8)
        body += image
        body += Array("\r\n--\(boundary)--\r\n".utf8)
        return body
    }
}
