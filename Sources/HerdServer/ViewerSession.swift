import Foundation
import HerdPipeline
import HerdProtocol
import HummingbirdWebSocket
import Logging
import Prometheus
import NIOCore
import Synchronization

/// One inspector's live WebSocket: a writer drains the viewer's mailbox (events first, newest frame per
/// stream) while a reader applies `options` messages and `alert.ack` acknowledgements (the
/// `alert.acknowledged` event that follows goes to every viewer of the stream, this one included). A socket that accepts nothing for the write
/// timeout is closed; its mailbox never holds more than one frame per stream. Inspectors also draw here
/// (v1.4): `mark` and `mark.clear`, at most `marksPerSecond` a second (bursts of `markBurst`); the
/// `mark` and `mark.clear` events that follow go to every viewer of the stream, this one included.
struct ViewerSession {
    let hub: LiveHub
    let metrics: ServerMetrics
    let shutdown: ShutdownSignal
    /// Ends the session if the viewer's token is revoked or expires.
    let watch: TokenWatch
    let token: String
    let streams: Set<StreamID>
    /// Options from the URL (`?maxWidth=640&overlay=false`), in force from the first frame; `options`
    /// messages change them later.
    let initialOptions: ViewerOptions
    let writeTimeout: Duration
    let logger: Logger
    /// An `alert.ack` from this viewer: the acknowledged alert, or why not.
    let acknowledge: @Sendable (String) async -> Result<Alert, ProtocolError>
    /// A `mark` from this viewer: the mark placed, or why not.
    let mark: @Sendable (MarkRequest) async -> Result<Mark, ProtocolError>
    /// A `mark.clear` from this viewer (the id, and the stream when named).
    let clearMark: @Sendable (String, StreamID?) async -> Result<Mark, ProtocolError>
    let marksPerSecond: Double
    let markBurst: Double

    /// Bytes queued on a viewer's connection above which its writer waits, and below which it resumes.
    static let writeBuffer = ChannelOptions.Types.WriteBufferWaterMark(low: 64 * 1024, high: 512 * 1024)

    private struct Options {
        var overlay = true
        var maxWidth: Int?

        mutating func apply(_ update: ViewerOptions) {
            if let overlay = update.overlay { self.overlay = overlay }
            if let width = update.maxWidth { maxWidth = width }
        }
    }

    /// Shared between the reader (which updates) and the writer (which reads) tasks.
    private final class OptionsBox: Sendable {
        let value: Mutex<Options>

        init(_ initial: ViewerOptions) {
            var options = Options()
            options.apply(initial)
            value = Mutex(options)
        }
    }

    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        let mailbox = ViewerMailbox()
        let options = OptionsBox(initialOptions)
        let ended = SessionEnd()
        hub.subscribe(mailbox, to: streams)
        metrics.viewers.increment()
        let key = watch.add(token: token) { reason in
            ended.set(reason)
            mailbox.close()
        }
        defer {
            watch.remove(token: token, key: key)
            metrics.viewers.decrement()
            hub.unsubscribe(mailbox)
            mailbox.close()
        }
        // On shutdown (or revocation) the mailbox closes, the writer finishes, and the socket closes with
        // 1001 (or 1008).
        try await shutdown.whileRunning(onTrigger: { mailbox.close() }) {
            try await pump(mailbox: mailbox, options: options, inbound: inbound, outbound: outbound)
            await ended.closeSocket(outbound, shutdown: shutdown)
        }
    }

    private func pump(mailbox: ViewerMailbox, options: OptionsBox, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        let writes = WriteWatch()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                var framesOut: [StreamID: Counter] = [:]
                while let item = await mailbox.next() {
                    switch item {
                    case .event(let text):
                        try await writes.timing { try await outbound.write(.text(text)) }
                    case .frame(let live):
                        let (overlay, width) = options.value.withLock { ($0.overlay, $0.maxWidth) }
                        let message = await live.message(overlay: overlay, maxWidth: width)
                        try await writes.timing { try await outbound.write(.binary(message)) }
                        let counter = framesOut[live.stream] ?? metrics.framesOut(live.stream)
                        framesOut[live.stream] = counter
                        counter.increment()
                        metrics.bytesOut.increment(by: Int64(message.readableBytes))
                        metrics.deliveryLatency.record(ContinuousClock.now - live.receivedInstant)
                    }
                }
            }
            group.addTask {
                defer { mailbox.close() }
                var markRate = RateLimiter(rate: marksPerSecond, burst: markBurst, now: Self.seconds())
                for try await message in inbound.messages(maxSize: 64 * 1024) {
                    guard case .text(let text) = message else {
                        mailbox.offer(event: WireJSON.encodeString(ErrorReply(code: "unknownType", message: "viewers send text options only")))
                        continue
                    }
                    do throws(ProtocolError) {
                        let type = try WireJSON.messageType(Array(text.utf8))
                        if type == "mark" || type == "mark.clear" {
                            guard markRate.allow(now: Self.seconds()) else {
                                throw ProtocolError.rateLimited("more than \(marksPerSecond) marks a second on this socket: this one was dropped")
                            }
                            if type == "mark" {
                                _ = try await mark(MarkRequest.decode(Array(text.utf8))).get()
                            } else {
                                let clear = try MarkClear.decode(Array(text.utf8))
                                _ = try await clearMark(clear.id, clear.stream).get()
                            }
                            continue
                        }
                        if type == "alert.ack" {
                            let ack = try WireJSON.decode(AlertAckMessage.self, from: Array(text.utf8))
                            guard (1...64).contains(ack.id.utf8.count) else { throw ProtocolError.invalidMessage("alert.ack: id must be 1 to 64 characters") }
                            _ = try await acknowledge(ack.id).get()
                            continue
                        }
                        guard type == "options" else {
                            throw ProtocolError.unknownType("viewers send options, alert.ack, mark or mark.clear")
                        }
                        let update = try WireJSON.decode(ViewerOptions.self, from: Array(text.utf8))
                        try update.validate()
                        options.value.withLock { $0.apply(update) }
                    } catch {
                        mailbox.offer(event: WireJSON.encodeString(ErrorReply(code: error.code, message: error.message)))
                    }
                }
            }
            group.addTask { try await writes.watchdog(timeout: writeTimeout, logger: logger) }
            try await group.next()
            group.cancelAll()
        }
    }

    private static func seconds() -> Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    private static let start = ContinuousClock.now
}
