import Foundation
import HerdIdentity
import HerdPipeline
import HerdProtocol
import HummingbirdWebSocket
import Logging
import NIOCore
import Synchronization

/// One device's ingest WebSocket. Every message gets an answer (ack or error) naming its stream and seq.
/// Frames are pipelined: the accept stage takes them in order while earlier ones wait for their group
/// commit, so a device is paced by its acks. Up to `maxFramesInFlight` frames may be unacknowledged;
/// past that the server stops reading the socket (TCP pushes back) rather than refusing, and a byte-rate
/// bucket paces a device that sends faster than the configured rate. Bad messages never close the
/// socket; a flood of refused ones does (close 1008 after `floodDisconnectAfter` in a row).
/// The socket also carries inspector marks to the device (v1.4): it is attached to each stream it
/// publishes to (and those its token names) and is sent the marks live there, then every new `mark`
/// and `mark.clear`; the device answers `mark.ack`.
struct DeviceSession {
    let processor: IngestProcessor
    let identity: Identity
    let configuration: ServerConfiguration
    let logger: Logger
    let shutdown: ShutdownSignal
    /// Ends the session if the device's token is revoked or expires.
    let watch: TokenWatch

    /// Until the device closes, floods, the server shuts down or the token is revoked: then the frames in
    /// flight are answered and the socket closes with 1001 (shutdown) or 1008 (revoked).
    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        let outbox = DeviceOutbox()
        let field = processor.registry.field
        defer { field.detach(outbox) }
        // Not a child task: acks still go out after the receive loop is cancelled.
        let writer = Task {
            while let text = await outbox.next() {
                do {
                    try await outbound.write(.text(text))
                } catch {
                    break
                }
            }
        }
        let inFlight = InFlightWindow(limit: configuration.maxFramesInFlight)
        let receiving = Task { try await receive(inbound: inbound, outbound: outbound, sink: outbox, inFlight: inFlight) }
        let ended = SessionEnd()
        let key = watch.add(token: identity.id) { reason in
            ended.set(reason)
            receiving.cancel()
        }
        defer { watch.remove(token: identity.id, key: key) }
        /// Every accepted frame answered and written, however the receive loop ended.
        func answerInFlight() async {
            await inFlight.drain()
            outbox.finish()
            await writer.value
        }
        try await shutdown.whileRunning(onTrigger: { receiving.cancel() }) {
            do {
                try await withTaskCancellationHandler {
                    try await receiving.value
                } onCancel: {
                    receiving.cancel()
                }
            } catch is CancellationError where shutdown.isTriggered || ended.reason != nil {
                // Shutting down or revoked: answer what is in flight, then close below.
            } catch {
                await answerInFlight()
                throw error
            }
            await answerInFlight()
            await ended.closeSocket(outbound, shutdown: shutdown)
        }
    }

    private func receive(
        inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, sink: DeviceOutbox, inFlight: InFlightWindow
    ) async throws {
        var bytes = ByteBucket(rate: configuration.bytesPerSecondPerDevice, burst: configuration.byteBurst, now: ContinuousClock.now)
        var refusedInARow = 0
        var published = Set<StreamID>()
        let metrics = processor.metrics
        let hub = processor.registry.hub
        metrics.devices.increment()
        defer {
            metrics.devices.decrement()
            for stream in published { hub.disconnect(stream) }
        }
        if case .only(let granted) = identity.streams {
            // Off the receive loop: after a restart the marks wait for the recording's read back.
            Task { for stream in granted.sorted() { await link(stream, sink) } }
        }
        let maxMessage = configuration.maxImageBytes + configuration.maxHeaderBytes + 4
        for try await message in inbound.messages(maxSize: maxMessage) {
            let refused: Bool
            switch message {
            case .binary(var buffer):
                let size = buffer.readableBytes
                // Pace, never refuse: a device catching up is slowed to the byte rate.
                if let wait = bytes.take(size, now: .now) { try await Task.sleep(for: wait) }
                await inFlight.acquire()
                let payload = buffer.readBytes(length: size) ?? []
                switch await accept(payload) {
                case .answer(let reply, let wasRefused):
                    inFlight.release()
                    sink.reply(reply)
                    refused = wasRefused
                case .pending(let accepted):
                    refused = false
                    Task {
                        switch await accepted.settled() {
                        case .success(let ack): sink.reply(WireJSON.encodeString(ack))
                        case .failure(let failure): sink.reply(WireJSON.encodeString(failure.reply))
                        }
                        inFlight.release()
                    }
                    if published.insert(accepted.ack.stream).inserted {
                        hub.connect(accepted.ack.stream)
                        await link(accepted.ack.stream, sink)
                    }
                }
            case .text(let text):
                let bytes = Array(text.utf8)
                if (try? WireJSON.messageType(bytes)) == "mark.ack" {
                    refused = await markAcknowledged(bytes, sink)
                    break
                }
                do {
                    if let reply = try await processor.text(bytes, identity: identity) { sink.reply(WireJSON.encodeString(reply)) }
                    if let stream = (try? WireJSON.decode(StreamPeek.self, from: bytes)).flatMap({ StreamID($0.stream) }) { await link(stream, sink) }
                    refused = false
                } catch {
                    sink.reply(WireJSON.encodeString(error.reply))
                    refused = true
                }
            }
            refusedInARow = refused ? refusedInARow + 1 : 0
            if refusedInARow >= configuration.floodDisconnectAfter {
                logger.warning("device flooding with refused messages; closing", metadata: ["herd.refused": "\(refusedInARow)"])
                await inFlight.drain()
                sink.finish()
                try await outbound.close(.policyViolation, reason: "too many refused messages")
                return
            }
        }
    }

    /// Attaches the socket to `stream` for marks; the first time, it is sent the marks live there (the
    /// stream's pipeline made if need be: after a restart it reads the open session's marks back first).
    private func link(_ stream: StreamID, _ sink: DeviceOutbox) async {
        guard processor.registry.field.attach(sink, to: stream), let pipeline = try? processor.registry.pipeline(for: stream) else { return }
        for mark in await pipeline.liveMarks() { sink.send(WireJSON.encodeString(mark)) }
    }

    private struct StreamPeek: Decodable { var stream: String }

    /// `{"type":"mark.ack","id"}`: the device showed a mark. Answered only when refused (`notFound`
    /// for a mark not live on the streams this socket publishes to); true when refused.
    private func markAcknowledged(_ bytes: [UInt8], _ sink: DeviceOutbox) async -> Bool {
        do throws(ProtocolError) {
            let ack = try MarkAck.decode(bytes)
            let field = processor.registry.field
            let streams = ack.stream.map { [$0] } ?? field.streams(of: sink).sorted()
            for stream in streams where identity.canPublish(to: stream) {
                if await processor.registry.existing(stream)?.acknowledgeMark(id: ack.id, by: "\(identity.name) (\(identity.id))") != nil { return false }
            }
            throw .notFound("no mark \(ack.id) live on the streams this socket publishes to")
        } catch {
            sink.reply(WireJSON.encodeString(ErrorReply(code: error.code, message: error.message)))
            return true
        }
    }

    private enum Outcome {
        case answer(String, refused: Bool)
        case pending(AcceptedFrame)
    }

    /// The accept stage for one binary message.
    private func accept(_ bytes: [UInt8]) async -> Outcome {
        do {
            let (header, payload) = try Envelope.split(bytes, maxHeaderBytes: configuration.maxHeaderBytes)
            return .pending(try await processor.frame(header: Array(header), image: Array(payload), identity: identity))
        } catch let error as ProtocolError {
            return .answer(WireJSON.encodeString(IngestFailure(error).reply), refused: true)
        } catch let failure as IngestFailure {
            logger.debug("frame refused", metadata: ["herd.stream": "\(failure.stream ?? "-")", "herd.frame.seq": "\(failure.seq.map(String.init) ?? "-")", "herd.error": "\(failure.code)"])
            return .answer(WireJSON.encodeString(failure.reply), refused: true)
        } catch {
            return .answer(WireJSON.encodeString(ErrorReply(code: "internal", message: "\(error)")), refused: true)
        }
    }
}

/// Frames accepted on one socket and not yet answered, bounded: `acquire` waits while the window is full.
final class InFlightWindow: Sendable {
    private struct State {
        var count = 0
        var waiters: [CheckedContinuation<Void, Never>] = []
        var drained: [CheckedContinuation<Void, Never>] = []
    }

    private let limit: Int
    private let state = Mutex(State())

    init(limit: Int) { self.limit = max(1, limit) }

    func acquire() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.count < limit {
                    s.count += 1
                    return true
                }
                s.waiters.append(c)
                return false
            }
            if now { c.resume() }
        }
    }

    func release() {
        let (next, done) = state.withLock { s -> (CheckedContinuation<Void, Never>?, [CheckedContinuation<Void, Never>]) in
            if !s.waiters.isEmpty { return (s.waiters.removeFirst(), []) }  // the slot passes on
            s.count -= 1
            guard s.count == 0 else { return (nil, []) }
            defer { s.drained = [] }
            return (nil, s.drained)
        }
        next?.resume()
        for c in done { c.resume() }
    }

    /// Returns once every accepted frame has been answered.
    func drain() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.count == 0 { return true }
                s.drained.append(c)
                return false
            }
            if now { c.resume() }
        }
    }
}

/// A token bucket of bytes: how long to wait before `n` more bytes may be read.
struct ByteBucket {
    let rate: Double
    let burst: Double
    private var tokens: Double
    private var last: ContinuousClock.Instant

    init(rate: Double, burst: Double, now: ContinuousClock.Instant) {
        self.rate = rate
        self.burst = burst
        tokens = burst
        last = now
    }

    mutating func take(_ n: Int, now: ContinuousClock.Instant) -> Duration? {
        let elapsed = now - last
        last = now
        tokens = min(burst, tokens + rate * (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
        tokens -= Double(n)
        guard tokens < 0 else { return nil }
        return .milliseconds(Int((-tokens / rate * 1000).rounded(.up)))
    }
}
