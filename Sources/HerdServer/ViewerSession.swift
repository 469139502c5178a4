import Foundation
import HerdPipeline
import HerdProtocol
import HummingbirdWebSocket
import Logging
import NIOCore
import Synchronization

/// One inspector's live WebSocket: a writer drains the viewer's mailbox (events first, newest frame per
/// stream) while a reader applies `options` messages. A socket that accepts nothing for the write
/// timeout is closed; its mailbox never holds more than one frame per stream.
struct ViewerSession {
    let hub: LiveHub
    let metrics: ServerMetrics
    let shutdown: ShutdownSignal
    let streams: Set<StreamID>
    let writeTimeout: Duration
    let logger: Logger

    private struct Options {
        var overlay = true
        var maxWidth: Int?
    }

    /// Shared between the reader (which updates) and the writer (which reads) tasks.
    private final class OptionsBox: Sendable {
        let value = Mutex(Options())
    }

    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        let mailbox = ViewerMailbox()
        let options = OptionsBox()
        hub.subscribe(mailbox, to: streams)
        metrics.viewers.increment()
        defer {
            metrics.viewers.decrement()
            hub.unsubscribe(mailbox)
            mailbox.close()
        }
        // On shutdown the hub closes the mailbox, the writer finishes, and the socket closes with 1001.
        try await pump(mailbox: mailbox, options: options, inbound: inbound, outbound: outbound)
        if shutdown.isTriggered {
            try? await outbound.close(.goingAway, reason: "server shutting down")
        }
    }

    private func pump(mailbox: ViewerMailbox, options: OptionsBox, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                while let item = await mailbox.next() {
                    switch item {
                    case .event(let text):
                        try await write(.text(text), to: outbound)
                    case .frame(let live):
                        let (overlay, width) = options.value.withLock { ($0.overlay, $0.maxWidth) }
                        let message = live.message(overlay: overlay, maxWidth: width)
                        try await write(.binary(message), to: outbound)
                        metrics.framesOut.increment()
                        metrics.bytesOut.increment(by: Int64(message.readableBytes))
                        let age = Timestamp.now().secondsSince1970 - live.header.receivedAt.secondsSince1970
                        metrics.deliveryLatency.record(.milliseconds(Int64(max(0, age) * 1000)))
                    }
                }
            }
            group.addTask {
                defer { mailbox.close() }
                for try await message in inbound.messages(maxSize: 64 * 1024) {
                    guard case .text(let text) = message else {
                        mailbox.offer(event: WireJSON.encodeString(ErrorReply(code: "unknownType", message: "viewers send text options only")))
                        continue
                    }
                    do throws(ProtocolError) {
                        guard try WireJSON.messageType(Array(text.utf8)) == "options" else {
                            throw ProtocolError.unknownType("viewers may send only {\"type\":\"options\"}")
                        }
                        let update = try WireJSON.decode(ViewerOptions.self, from: Array(text.utf8))
                        try update.validate()
                        options.value.withLock { current in
                            if let overlay = update.overlay { current.overlay = overlay }
                            if let width = update.maxWidth { current.maxWidth = width }
                        }
                    } catch {
                        mailbox.offer(event: WireJSON.encodeString(ErrorReply(code: error.code, message: error.message)))
                    }
                }
            }
            try await group.next()
            group.cancelAll()
        }
    }

    /// One write, or an error once the viewer has taken nothing for `writeTimeout`.
    private func write(_ frame: WebSocketOutboundWriter.OutboundFrame, to outbound: WebSocketOutboundWriter) async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await outbound.write(frame)
                return true
            }
            group.addTask {
                try await Task.sleep(for: writeTimeout)
                return false
            }
            let written = try await group.next() ?? false
            group.cancelAll()
            if !written {
                logger.notice("viewer stopped reading; closing")
                throw CancellationError()
            }
        }
    }
}
