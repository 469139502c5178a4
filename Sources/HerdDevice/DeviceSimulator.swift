import NIOCore
import HTTPTypes
import Synchronization
import Foundation
import HerdProtocol
import Logging
import ServiceLifecycle
import WSClient

/// A field device in software, for demos, benchmarks and tests: sends frames (JPEG/PNG files) with
/// changing sensor readings to `/api/v1/ingest` at a fixed rate, reads acks, reconnects with
/// exponential backoff and re-sends every frame not yet acknowledged. A `Service`: it stops on
/// graceful shutdown.
public final class DeviceSimulator: Service, Sendable {
    public struct Configuration: Sendable {
        /// Server base URL, `ws://host:port` or `http://host:port`.
        public var server: String
        public var token: String
        public var stream: StreamID
        public var framesPerSecond: Double
        /// Play the frames again and again; otherwise stop after the last is acknowledged.
        public var loop: Bool
        public var frames: [[UInt8]]
        /// Frames in flight without an ack before the device waits.
        public var maxUnacknowledged = 16
        public var consignment = Consignment(
            id: "HK-2026-11-20-0042", declaredHeadCount: 100, farm: "江西省 registered farm 36-017", vehiclePlate: "粤B·12345",
            destination: "供港活猪 Sheung Shui")

        public init(server: String, token: String, stream: StreamID, framesPerSecond: Double, loop: Bool, frames: [[UInt8]]) {
            self.server = server
            self.token = token
            self.stream = stream
            self.framesPerSecond = framesPerSecond
            self.loop = loop
            self.frames = frames
        }

        var ingestURL: String {
            var base = server
            if base.hasPrefix("http://") { base = "ws://" + base.dropFirst("http://".count) }
            if base.hasPrefix("https://") { base = "wss://" + base.dropFirst("https://".count) }
            while base.hasSuffix("/") { base.removeLast() }
            return base + "/api/v1/ingest"
        }
    }

    /// What the device has sent and had acknowledged, for tests and the demo's log.
    public struct Progress: Sendable {
        public var sent = 0
        public var acknowledged = 0
        public var duplicates = 0
        public var errors = 0
        public var connections = 0
    }

    private let configuration: Configuration
    private let logger: Logger
    private let state: Mutex<State>

    private struct State {
        var nextSeq: UInt64 = 1
        /// Sent and not acknowledged, by seq: the frame index it carried.
        var unacknowledged: [UInt64: Int] = [:]
        var progress = Progress()
    }

    public init(configuration: Configuration, logger: Logger) {
        precondition(!configuration.frames.isEmpty, "a simulated device needs at least one frame")
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "herd.stream"] = "\(configuration.stream)"
        self.logger = logger
        self.state = Mutex(State())
    }

    public var progress: Progress { state.withLock { $0.progress } }

    private var finished: Bool {
        state.withLock { !configuration.loop && $0.nextSeq > UInt64(configuration.frames.count) && $0.unacknowledged.isEmpty }
    }

    /// Connects, streams, and reconnects until done (no --loop) or until graceful shutdown, which
    /// cancels the current connection and any backoff wait.
    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await self.reconnectLoop() }
        } catch is CancellationError {
            return
        }
    }

    private func reconnectLoop() async throws {
        var backoff = 0.25
        let sensors = SensorSimulator(consignment: configuration.consignment)
        while !finished {
            try Task.checkCancellation()
            do {
                try await connectOnce(sensors: sensors)
                backoff = 0.25
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                logger.notice("device connection failed; retrying", metadata: ["herd.error": "\(error)", "herd.backoff.s": "\(backoff)"])
            }
            if finished { return }
            try await Task.sleep(for: .milliseconds(Int(backoff * 1000)))
            backoff = min(10, backoff * 2)
        }
    }

    private func connectOnce(sensors: SensorSimulator) async throws {
        var headers = HTTPFields()
        headers[.authorization] = "Bearer \(configuration.token)"
        let clientConfiguration = WebSocketClientConfiguration(maxFrameSize: 16 << 20, additionalHeaders: headers)
        try await WebSocketClient.connect(url: configuration.ingestURL, configuration: clientConfiguration, logger: logger) {
            inbound, outbound, _ in
            self.state.withLock { $0.progress.connections += 1 }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await self.readAcks(inbound) }
                group.addTask { try await self.send(outbound, sensors: sensors) }
                try await group.next()
                group.cancelAll()
            }
            try? await outbound.close(.normalClosure, reason: "done")
        }
    }

    private func readAcks(_ inbound: WebSocketInboundStream) async throws {
        for try await message in inbound.messages(maxSize: 1 << 20) {
            guard case .text(let text) = message else { continue }
            let bytes = Array(text.utf8)
            if let ack = try? WireJSON.decode(AckMessage.self, from: bytes), ack.type == "ack" {
                state.withLock {
                    $0.unacknowledged.removeValue(forKey: ack.seq)
                    $0.progress.acknowledged += 1
                    if ack.duplicate == true { $0.progress.duplicates += 1 }
                }
            } else if let error = try? WireJSON.decode(ErrorReply.self, from: bytes) {
                state.withLock {
                    if let seq = error.seq { $0.unacknowledged.removeValue(forKey: seq) }  // refused for good: do not re-send
                    $0.progress.errors += 1
                }
                logger.warning("frame refused", metadata: ["herd.frame.seq": "\(error.seq.map(String.init) ?? "-")", "herd.error": "\(error.code)"])
            }
            if finished { return }
        }
    }

    private func send(_ outbound: WebSocketOutboundWriter, sensors: SensorSimulator) async throws {
        let interval = Duration.milliseconds(Int(1000 / max(0.1, configuration.framesPerSecond)))
        let clock = ContinuousClock()
        // First re-send what the last connection left unacknowledged, oldest first.
        let pending = state.withLock { $0.unacknowledged.sorted { $0.key < $1.key } }
        for (seq, index) in pending { try await sendFrame(outbound, seq: seq, index: index, sensors: sensors) }
        var deadline = clock.now
        while !Task.isCancelled {
            let next: (seq: UInt64, index: Int)? = state.withLock { state in
                guard state.unacknowledged.count < configuration.maxUnacknowledged else { return nil }
                let seq = state.nextSeq
                if !configuration.loop && seq > UInt64(configuration.frames.count) { return nil }
                state.nextSeq += 1
                return (seq, Int((seq - 1) % UInt64(configuration.frames.count)))
            }
            if let next {
                try await sendFrame(outbound, seq: next.seq, index: next.index, sensors: sensors)
            } else if finished {
                return
            }
            deadline = deadline.advanced(by: interval)
            try await clock.sleep(until: deadline)
        }
    }

    private func sendFrame(_ outbound: WebSocketOutboundWriter, seq: UInt64, index: Int, sensors: SensorSimulator) async throws {
        let header = DeviceFrameHeader(
            stream: configuration.stream, seq: seq, capturedAt: Self.localTimestamp(), sensors: sensors.sensors(frame: Int(seq - 1)))
        state.withLock {
            $0.unacknowledged[seq] = index
            $0.progress.sent += 1
        }
        try await outbound.write(.binary(ByteBuffer(bytes: Envelope.encode(header: header, payload: configuration.frames[index]))))
    }

    /// Now, as a device in China Standard Time reports it (`+08:00`).
    static func localTimestamp() -> Timestamp {
        let now = Timestamp.now()
        let local = Timestamp(date: Date(timeIntervalSince1970: now.secondsSince1970 + 8 * 3600))
        let text = String(local.text.dropLast()) + "+08:00"
        return (try? Timestamp(parsing: text)) ?? now
    }
}
