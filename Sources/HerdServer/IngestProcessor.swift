import HerdCodecs
import HerdIdentity
import HerdPipeline
import HerdProtocol
import HerdWorker
import Logging

/// The checks and hand-off every device message goes through, whichever route it came by: decode and
/// validate the header, check the token may publish to the stream, bound the image, run the stream's
/// pipeline. Shared by WebSocket and HTTP ingest so both refuse the same things with the same codes.
struct IngestProcessor: Sendable {
    let registry: StreamRegistry
    let maxImageBytes: Int
    /// Tokens whose frames keep crashing or hanging codec workers.
    let quarantine: FaultQuarantine
    let logger: Logger

    /// A frame: JSON header plus image. Returns the ack to send.
    func frame(header json: some Collection<UInt8>, image: [UInt8], identity: Identity) async throws(IngestFailure) -> AckMessage {
        let message: DeviceMessage
        do throws(ProtocolError) {
            message = try DeviceMessage.decode(json)
        } catch {
            throw IngestFailure(error)
        }
        guard case .frame(let header) = message else {
            throw IngestFailure(code: "unknownType", message: "a binary message must carry a frame header", status: 400, stream: message.stream.rawValue)
        }
        return try await frame(header, image: image, identity: identity)
    }

    func frame(_ header: DeviceFrameHeader, image: [UInt8], identity: Identity) async throws(IngestFailure) -> AckMessage {
        do {
            let ack = try await checkedFrame(header, image: image, identity: identity)
            if ack.duplicate == true { registry.metrics.dropped("duplicate") }
            return ack
        } catch {
            registry.metrics.dropped("rejected")
            throw error
        }
    }

    private func checkedFrame(_ header: DeviceFrameHeader, image: [UInt8], identity: Identity) async throws(IngestFailure) -> AckMessage {
        let stream = header.stream.rawValue
        let received = ContinuousClock.now
        do throws(IdentityError) {
            try identity.requirePublish(to: header.stream)
        } catch {
            throw IngestFailure(error, stream: stream, seq: header.seq)
        }
        guard image.count <= maxImageBytes else {
            throw IngestFailure(CodecError.tooLarge("image of \(image.count) bytes exceeds \(maxImageBytes)"), stream: stream, seq: header.seq)
        }
        do throws(CodecError) {
            _ = try ImageDecoder.format(of: image)
        } catch {
            throw IngestFailure(error, stream: stream, seq: header.seq)
        }
        if let until = quarantine.refusedUntil(identity.id) {
            registry.metrics.dropped("quarantined")
            let seconds = Int((until - .now).components.seconds) + 1
            throw IngestFailure(
                code: "quarantined", message: "this token's frames crashed or hung the codec workers repeatedly; refused for \(seconds) s",
                status: 429, stream: stream, seq: header.seq, retryAfterSeconds: seconds)
        }
        let pipeline = try pipeline(for: header.stream, seq: header.seq)
        let outcome: IngestOutcome
        do {
            outcome = try await pipeline.ingest(header, image: image, receivedAt: .now(), receivedInstant: received)
        } catch let error as CodecError {
            throw IngestFailure(error, stream: stream, seq: header.seq)
        } catch let error as CodecWorkerError {
            if error.isFault {
                registry.metrics.dropped("worker_fault")
                if quarantine.recordFault(identity.id) {
                    logger.warning("device token quarantined: its frames keep crashing codec workers", metadata: [
                        "herd.token": "\(identity.id)", "herd.stream": "\(stream)", "herd.frame.seq": "\(header.seq)",
                    ])
                }
            }
            throw IngestFailure(error, stream: stream, seq: header.seq)
        } catch {
            throw IngestFailure(code: "internal", message: "\(error)", status: 500, stream: stream, seq: header.seq)
        }
        registry.hub.setOnline(header.stream, true)
        if outcome == .accepted {
            registry.metrics.frameIn(header.stream)
            registry.metrics.ingestLatency.record(ContinuousClock.now - received)
        }
        return AckMessage(stream: header.stream, seq: header.seq, duplicate: outcome == .duplicate)
    }

    /// The stream's pipeline, created on first use; `tooManyStreams` past the limit.
    private func pipeline(for stream: StreamID, seq: UInt64?) throws(IngestFailure) -> StreamPipeline {
        do {
            return try registry.pipeline(for: stream)
        } catch let failure as IngestFailure {
            throw failure
        } catch {
            throw IngestFailure(code: "internal", message: "\(error)", status: 500, stream: stream.rawValue, seq: seq)
        }
    }

    /// A text message: telemetry or a session start/end.
    func text(_ json: some Collection<UInt8>, identity: Identity) async throws(IngestFailure) {
        let message: DeviceMessage
        do throws(ProtocolError) {
            message = try DeviceMessage.decode(json)
        } catch {
            throw IngestFailure(error)
        }
        do throws(IdentityError) {
            try identity.requirePublish(to: message.stream)
        } catch {
            throw IngestFailure(error, stream: message.stream.rawValue, seq: nil)
        }
        let pipeline = try pipeline(for: message.stream, seq: nil)
        switch message {
        case .telemetry(let t): await pipeline.telemetry(t)
        case .session(let s): await pipeline.session(s)
        case .frame(let h):
            throw IngestFailure(code: "invalidMessage", message: "a frame header must come in a binary message with its image", status: 400, stream: h.stream.rawValue, seq: h.seq)
        }
    }
}
