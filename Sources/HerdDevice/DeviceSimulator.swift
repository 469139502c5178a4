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
        public var maxUnacknowledged = 32
        /// Store-and-forward demo: after this many frames the link drops for `offlineFor` seconds; frames
        /// captured meanwhile are kept and uploaded, with their capture times, when it returns.
        public var offlineAfter: Int?
        public var offlineFor: Double?
        /// Opens a recording session with `consignment` on every connection (the server keeps the open one
        /// when its consignment id matches, and opens the next after a restart), and ends it once every
        /// frame is acknowledged (without `loop`).
        public var startsSession = false
        /// A loading: the seal reports `open` until this frame, then `locked` (nil: locked throughout).
        public var sealsAtFrame: Int?
        /// Called with every ack as it arrives (the crash test logs them).
        public var onAck: @Sendable (AckMessage) -> Void = { _ in }
        /// Called with every inspector mark (`mark`) and removal (`mark.clear`) the server sends, as
        /// text; each `mark` is acknowledged (`mark.ack`) once handed over.
        public var onMark: @Sendable (String) -> Void = { _ in }
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
        public var captured = 0
        public var sent = 0
        public var acknowledged = 0
        public var duplicates = 0
        /// Refusals the server said may succeed later (re-sent) and final ones (dropped).
        public var retried = 0
        public var errors = 0
        public var connections = 0
        /// Frames captured while offline (store-and-forward) and uploaded later.
        public var buffered = 0
        /// Inspector marks received (and acknowledged).
        public var marks = 0
    }

    private let configuration: Configuration
    /// The stream this device publishes to.
    public var stream: StreamID { configuration.stream }
    private let logger: Logger
    private let state: Mutex<State>

    /// A captured frame waiting for its ack: the header bytes are fixed at capture (its `capturedAt`
    /// travels unchanged however late it is sent).
    private struct Pending {
        var index: Int
        var header: [UInt8]
    }

    private struct State {
        var nextSeq: UInt64 = 1
        /// Captured and not acknowledged, by seq.
        var pending: [UInt64: Pending] = [:]
        /// Sent on the current connection and not answered yet.
        var inFlight: Set<UInt64> = []
        /// When a retryable refusal asked to wait.
        var retryAfter: ContinuousClock.Instant?
        var wentOffline = false
        var progress = Progress()
    }

    private struct GoOffline: Error {}

    public init(configuration: Configuration, logger: Logger) {
        precondition(!configuration.frames.isEmpty, "a simulated device needs at least one frame")
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "herd.stream"] = "\(configuration.stream)"
        self.logger = logger
        self.state = Mutex(State())
    }

    public var progress: Progress { state.withLock { $0.progress } }

    private var allCaptured: Bool {
        state.withLock { !configuration.loop && $0.nextSeq > UInt64(configuration.frames.count) }
    }

    private var finished: Bool {
        state.withLock { !configuration.loop && $0.nextSeq > UInt64(configuration.frames.count) && $0.pending.isEmpty }
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
        var sensors = SensorSimulator(consignment: configuration.consignment)
        sensors.sealsAtFrame = configuration.sealsAtFrame
        while !finished {
            try Task.checkCancellation()
            let connectionsBefore = progress.connections
            do {
                try await connectOnce(sensors: sensors)
                backoff = 0.25
            } catch is CancellationError {
                throw CancellationError()
            } catch is GoOffline {
                try await offline(sensors: sensors)
                continue
            } catch {
                // A link that was up and then dropped starts the backoff afresh.
                if progress.connections > connectionsBefore { backoff = 0.25 }
                logger.notice("device connection failed; retrying", metadata: ["herd.error": "\(error)", "herd.backoff.s": "\(backoff)"])
            }
            if finished { return }
            try await Task.sleep(for: .milliseconds(Int(backoff * 1000)))
            backoff = min(10, backoff * 2)
        }
    }

    /// No link for `offlineFor` seconds: frames are still captured at the frame rate and kept. The
    /// outage is counted in frames (`offlineFor` × frame rate), so a slow host stretches it rather than
    /// buffering fewer frames than the outage stands for.
    private func offline(sensors: SensorSimulator) async throws {
        let seconds = configuration.offlineFor ?? 0
        let frames = max(1, Int((seconds * configuration.framesPerSecond).rounded()))
        logger.notice("device offline; buffering frames", metadata: ["herd.offline.s": "\(seconds)", "herd.offline.frames": "\(frames)"])
        let clock = ContinuousClock()
        var deadline = clock.now
        var captured = 0
        while captured < frames, !allCaptured {
            if capture(sensors: sensors) != nil {
                captured += 1
                state.withLock { $0.progress.buffered += 1 }
            }
            deadline = deadline.advanced(by: interval)
            try await clock.sleep(until: deadline)
        }
    }

    private var interval: Duration { .milliseconds(Int(1000 / max(0.1, configuration.framesPerSecond))) }

    private func connectOnce(sensors: SensorSimulator) async throws {
        var headers = HTTPFields()
        headers[.authorization] = "Bearer \(configuration.token)"
        let clientConfiguration = WebSocketClientConfiguration(maxFrameSize: 16 << 20, additionalHeaders: headers)
        state.withLock {
            $0.inFlight.removeAll()
            $0.retryAfter = nil
        }
        let offline = Atomic(false)
        try await WebSocketClient.connect(url: configuration.ingestURL, configuration: clientConfiguration, logger: logger) {
            inbound, outbound, _ in
            self.state.withLock { $0.progress.connections += 1 }
            if self.configuration.startsSession {
                let start = SessionMessage(stream: self.configuration.stream, action: .start, consignment: self.configuration.consignment)
                try await outbound.write(.text(WireJSON.encodeString(start)))
            }
            do {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await self.readReplies(inbound, outbound) }
                    group.addTask { try await self.send(outbound, sensors: sensors) }
                    try await group.next()
                    group.cancelAll()
                }
            } catch is GoOffline {
                offline.store(true, ordering: .relaxed)
            }
            if self.configuration.startsSession, self.finished {
                try? await outbound.write(.text(WireJSON.encodeString(SessionMessage(stream: self.configuration.stream, action: .end))))
            }
            try? await outbound.close(.normalClosure, reason: offline.load(ordering: .relaxed) ? "going offline" : "done")
        }
        if offline.load(ordering: .relaxed) { throw GoOffline() }
    }

    private func readReplies(_ inbound: WebSocketInboundStream, _ outbound: WebSocketOutboundWriter) async throws {
        for try await message in inbound.messages(maxSize: 1 << 20) {
            guard case .text(let text) = message else { continue }
            let bytes = Array(text.utf8)
            let type = try? WireJSON.messageType(bytes)
            if type == "mark", let mark = try? WireJSON.decode(Mark.self, from: bytes) {
                configuration.onMark(text)
                state.withLock { $0.progress.marks += 1 }
                try await outbound.write(.text(WireJSON.encodeString(MarkAck(id: mark.id, stream: mark.stream))))
            } else if type == "mark.clear" {
                configuration.onMark(text)
            } else if let ack = try? WireJSON.decode(AckMessage.self, from: bytes), ack.type == "ack" {
                configuration.onAck(ack)
                state.withLock {
                    $0.pending.removeValue(forKey: ack.seq)
                    $0.inFlight.remove(ack.seq)
                    $0.progress.acknowledged += 1
                    if ack.duplicate == true { $0.progress.duplicates += 1 }
                }
            } else if let error = try? WireJSON.decode(ErrorReply.self, from: bytes), error.type == "error" {
                state.withLock {
                    if let seq = error.seq {
                        $0.inFlight.remove(seq)
                        // Retryable (rate, storage, busy): keep the frame and send it again shortly;
                        // final (a bad image, a conflict): drop it.
                        if error.retryable {
                            $0.retryAfter = .now + .milliseconds(250)
                            $0.progress.retried += 1
                        } else {
                            $0.pending.removeValue(forKey: seq)
                            $0.progress.errors += 1
                        }
                    } else {
                        $0.progress.errors += 1
                    }
                }
                logger.warning("frame refused", metadata: [
                    "herd.frame.seq": "\(error.seq.map(String.init) ?? "-")", "herd.error": "\(error.code)", "herd.retryable": "\(error.retryable)",
                ])
            }
            if finished { return }
        }
    }

    /// Captures the next frame (header fixed now), or nil when every frame was captured.
    private func capture(sensors: SensorSimulator) -> UInt64? {
        state.withLock { state -> UInt64? in
            let seq = state.nextSeq
            if !configuration.loop && seq > UInt64(configuration.frames.count) { return nil }
            state.nextSeq += 1
            let header = DeviceFrameHeader(
                stream: configuration.stream, seq: seq, capturedAt: Self.localTimestamp(), sensors: sensors.sensors(frame: Int(seq - 1)))
            state.pending[seq] = Pending(index: Int((seq - 1) % UInt64(configuration.frames.count)), header: WireJSON.encode(header))
            state.progress.captured += 1
            return seq
        }
    }

    /// Captures at the frame rate and sends what is pending, oldest first, within the window of
    /// unacknowledged frames: a backlog (after an outage) goes out as fast as the acks come back.
    private func send(_ outbound: WebSocketOutboundWriter, sensors: SensorSimulator) async throws {
        let clock = ContinuousClock()
        var nextCapture = clock.now
        while !Task.isCancelled {
            if clock.now >= nextCapture {
                if let offlineAfter = configuration.offlineAfter, configuration.offlineFor != nil,
                    state.withLock({ !$0.wentOffline && $0.progress.captured >= offlineAfter })
                {
                    state.withLock { $0.wentOffline = true }
                    throw GoOffline()
                }
                _ = capture(sensors: sensors)
                nextCapture = nextCapture.advanced(by: interval)
                if nextCapture < clock.now - .seconds(1) { nextCapture = clock.now }
            }
            let batch: [(UInt64, Pending)] = state.withLock { state in
                if let wait = state.retryAfter, wait > .now { return [] }
                let room = configuration.maxUnacknowledged - state.inFlight.count
                guard room > 0 else { return [] }
                let next = state.pending.keys.filter { !state.inFlight.contains($0) }.sorted().prefix(room)
                for seq in next { state.inFlight.insert(seq) }
                return next.map { ($0, state.pending[$0]!) }
            }
            for (seq, frame) in batch {
                state.withLock { $0.progress.sent += 1 }
                try await outbound.write(.binary(ByteBuffer(bytes: Envelope.encode(headerJSON: frame.header, payload: configuration.frames[frame.index]))))
                _ = seq
            }
            if finished { return }
            // A backlog waits on acks (a few ms); otherwise the next capture.
            let backlog = state.withLock { $0.pending.count > $0.inFlight.count }
            let wake = backlog ? min(nextCapture, clock.now + .milliseconds(2)) : nextCapture
            try await clock.sleep(until: wake)
        }
    }

    /// Now, as a device in China Standard Time reports it (`+08:00`).
    static func localTimestamp() -> Timestamp {
        let now = Timestamp.now()
        let local = Timestamp(date: Date(timeIntervalSince1970: now.secondsSince1970 + 8 * 3600))
        let text = String(local.text.dropLast()) + "+08:00"
        return (try? Timestamp(parsing: text)) ?? now
    }
}
