import Foundation
import HerdIdentity
import HerdProtocol
import HummingbirdWebSocket
import Logging
import NIOCore

/// One device's ingest WebSocket: every message gets an answer (ack or error); bad messages never
/// close the socket, a flood does (close 1008 after `floodDisconnectAfter` refusals in a row).
struct DeviceSession {
    let processor: IngestProcessor
    let identity: Identity
    let configuration: ServerConfiguration
    let logger: Logger
    let shutdown: ShutdownSignal
    /// Ends the session if the device's token is revoked or expires.
    let watch: TokenWatch

    /// Until the device closes, floods, the server shuts down or the token is revoked: then the frame in
    /// flight finishes and the socket closes with 1001 (shutdown) or 1008 (revoked).
    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        let receiving = Task { try await receive(inbound: inbound, outbound: outbound) }
        shutdown.onTrigger { receiving.cancel() }
        let ended = SessionEnd()
        let key = watch.add(token: identity.id) { reason in
            ended.set(reason)
            receiving.cancel()
        }
        defer { watch.remove(token: identity.id, key: key) }
        do {
            try await withTaskCancellationHandler {
                try await receiving.value
            } onCancel: {
                receiving.cancel()
            }
        } catch is CancellationError where shutdown.isTriggered || ended.reason != nil {
            // Shutting down or revoked: fall through to the close below.
        }
        await ended.closeSocket(outbound, shutdown: shutdown)
    }

    private func receive(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        var limiter = RateLimiter(
            rate: configuration.framesPerSecondPerDevice, burst: configuration.frameBurst,
            now: ProcessInfo.processInfo.systemUptime)
        var refusedInARow = 0
        var published = Set<StreamID>()
        let metrics = processor.registry.metrics
        metrics.devices.increment()
        defer {
            metrics.devices.decrement()
            for stream in published { processor.registry.hub.setOnline(stream, false) }
        }
        let maxMessage = configuration.maxImageBytes + configuration.maxHeaderBytes + 4
        for try await message in inbound.messages(maxSize: maxMessage) {
            var reply: String
            var refused: Bool
            if !limiter.allow(now: ProcessInfo.processInfo.systemUptime) {
                reply = WireJSON.encodeString(ErrorReply(
                    code: "rateLimited", message: "more than \(Int(configuration.framesPerSecondPerDevice)) messages a second"))
                refused = true
                metrics.dropped("rate_limited")
            } else {
                switch message {
                case .binary(var buffer):
                    let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
                    (reply, refused) = await handleBinary(bytes, published: &published)
                case .text(let text):
                    do {
                        try await processor.text(Array(text.utf8), identity: identity)
                        (reply, refused) = ("", false)
                    } catch {
                        (reply, refused) = (WireJSON.encodeString(error.reply), true)
                    }
                }
            }
            refusedInARow = refused ? refusedInARow + 1 : 0
            if !reply.isEmpty { try await outbound.write(.text(reply)) }
            if refusedInARow >= configuration.floodDisconnectAfter {
                logger.warning("device flooding with refused messages; closing", metadata: ["herd.refused": "\(refusedInARow)"])
                try await outbound.close(.policyViolation, reason: "too many refused messages")
                return
            }
        }
    }

    /// The reply to one binary message, and whether it refused the message.
    private func handleBinary(_ bytes: [UInt8], published: inout Set<StreamID>) async -> (reply: String, refused: Bool) {
        do {
            let (header, payload) = try Envelope.split(bytes, maxHeaderBytes: configuration.maxHeaderBytes)
            let ack = try await processor.frame(header: header, image: Array(payload), identity: identity)
            published.insert(ack.stream)
            return (WireJSON.encodeString(ack), false)
        } catch let error as ProtocolError {
            return (WireJSON.encodeString(IngestFailure(error).reply), true)
        } catch let failure as IngestFailure {
            logger.debug("frame refused", metadata: ["herd.stream": "\(failure.stream ?? "-")", "herd.frame.seq": "\(failure.seq.map(String.init) ?? "-")", "herd.error": "\(failure.code)"])
            return (WireJSON.encodeString(failure.reply), true)
        } catch {
            return (WireJSON.encodeString(ErrorReply(code: "internal", message: "\(error)")), true)
        }
    }
}
