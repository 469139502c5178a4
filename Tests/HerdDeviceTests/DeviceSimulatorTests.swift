import Foundation
import HerdDevice
import HerdProtocol
import HerdTesting
import Hummingbird
import HummingbirdTesting
import HummingbirdWebSocket
import Logging
import NIOCore
import Synchronization
import Testing

/// The simulated field device against a scripted ingest endpoint on a real socket: the endpoint's first
/// connection acknowledges a few frames and then drops the device, so the reconnect and the re-send
/// of unacknowledged frames are observable frame by frame.
@Suite("Device simulator", .timeLimit(.minutes(3)))
struct DeviceSimulatorTests {
    /// What the scripted endpoint saw, per connection.
    final class Record: Sendable {
        let connections = Mutex<[[UInt64]]>([])
        func begin() -> Int { connections.withLock { $0.append([]); return $0.count - 1 } }
        func received(_ seq: UInt64, on connection: Int) { connections.withLock { $0[connection].append(seq) } }
        var all: [[UInt64]] { connections.withLock { $0 } }
    }

    @Test("after a dropped connection it reconnects and re-sends every unacknowledged frame, oldest first, then carries on")
    func reconnectAndResend() async throws {
        let record = Record()
        let router = Router(context: BasicWebSocketRequestContext.self)
        router.ws("/api/v1/ingest") { request, _ in
            request.headers[.authorization] == "Bearer hl_test" ? .upgrade([:]) : .dontUpgrade
        } onUpgrade: { inbound, outbound, _ in
            let connection = record.begin()
            for try await message in inbound.messages(maxSize: 1 << 20) {
                guard case .binary(var buffer) = message,
                      let (json, _) = try? Envelope.split(buffer.readBytes(length: buffer.readableBytes) ?? []),
                      let header = try? WireJSON.decode(DeviceFrameHeader.self, from: json) else { continue }
                record.received(header.seq, on: connection)
                if connection == 0 {
                    // First connection: acknowledge 1...3, take 4...6 without a word, then drop the device.
                    if header.seq <= 3 { try await outbound.write(.text(WireJSON.encodeString(AckMessage(stream: header.stream, seq: header.seq)))) }
                    if header.seq == 6 { return }
                } else {
                    try await outbound.write(.text(WireJSON.encodeString(AckMessage(stream: header.stream, seq: header.seq))))
                }
            }
        }
        let app = Application(router: router, server: .http1WebSocketUpgrade(webSocketRouter: router, configuration: .init(ws: .init(maxFrameSize: 1 << 20))), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        let frame = try SampleFrames.bytes("variants", "jpeg-420-baseline.jpg")
        try await app.test(.live) { client in
            let port = try #require(client.port)
            var logger = Logger(label: "device-test")
            logger.logLevel = .critical
            let device = DeviceSimulator(
                configuration: .init(
                    server: "http://127.0.0.1:\(port)", token: "hl_test", stream: StreamID("farm-jx-017.cam-1")!, framesPerSecond: 50, loop: false,
                    frames: Array(repeating: frame, count: 12)),
                logger: logger)
            // Without --loop the device stops once all twelve frames are acknowledged (or a broken
            // device is given up on after a minute).
            let finished = try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask { try await device.run(); return true }
                group.addTask { try await Task.sleep(for: .seconds(60)); return false }
                defer { group.cancelAll() }
                return try await group.next() ?? false
            }
            #expect(finished, "the device never finished")
            let connections = record.all
            #expect(connections.count == 2, "\(connections)")
            guard connections.count == 2 else { return }
            let first = connections[0], second = connections[1]
            #expect(Array(first.prefix(6)) == [1, 2, 3, 4, 5, 6])
            // The second connection starts with everything the first left unacknowledged (4, 5, 6 and any
            // sent before the drop was noticed), oldest first, and then the rest, in order, each once.
            #expect(Array(second.prefix(3)) == [4, 5, 6], "\(second)")
            #expect(second == Array(4...12), "\(second)")
            let progress = device.progress
            #expect(progress.connections == 2 && progress.acknowledged == 12 && progress.errors == 0)
            // 4, 5 and 6 went out twice, plus any sent on the first connection after the endpoint stopped
            // reading (the second connection shows each of those once, above).
            #expect(progress.sent >= 15 && progress.sent <= 12 + 9, "\(progress.sent) frames sent")
        }
    }
}
