import HerdCodecs
import HerdIdentity
import HerdPipeline
import HerdProtocol
import HerdRecording
import HerdWorker
import Logging

/// A frame past the accept stage: the answer to send once `durability` is kept (nil: send it now).
struct AcceptedFrame: Sendable {
    var ack: AckMessage
    var durability: Durability?
    /// Called once the frame is durable (ack latency).
    var onDurable: @Sendable () -> Void = {}
    /// A refusal that comes only after the commit (the disk failed): the frame was not kept.
    func settled() async -> Result<AckMessage, IngestFailure> {
        guard let durability else { return .success(ack) }
        do throws(RecordingError) {
            try await durability.wait()
            onDurable()
            return .success(ack)
        } catch {
            return .failure(IngestFailure(error, stream: ack.stream.rawValue, seq: ack.seq))
        }
    }
}

/// The accept stage every device message goes through, whichever route it came by: one strict parse of
/// the header, the token's right to the stream, the image bound, the codec check (the image is opened
/// and decoded in a codec worker), annotations, deduplication and the append to the recording. Shared
/// by WebSocket and HTTP ingest so both refuse the same things with the same codes.
struct IngestProcessor: Sendable {
    let registry: StreamRegistry
    let recorder: Recorder
    let maxImageBytes: Int
    /// Tokens whose frames keep crashing or hanging codec workers.
    let quarantine: FaultQuarantine
    let logger: Logger

    var metrics: ServerMetrics { registry.metrics }

    /// A frame: JSON header (kept exactly as received) plus image.
    func frame(header json: [UInt8], image: [UInt8], identity: Identity) async throws(IngestFailure) -> AcceptedFrame {
        let message: DeviceMessage
        do throws(ProtocolError) {
            message = try DeviceMessage.decode(json)
        } catch {
            metrics.dropped("rejected")
            throw IngestFailure(error)
        }
        guard case .frame(let header) = message else {
            metrics.dropped("rejected")
            throw IngestFailure(code: "unknownType", message: "a binary message must carry a frame header", status: 400, stream: message.stream.rawValue)
        }
        return try await frame(header, headerBytes: json, image: image, identity: identity)
    }

    func frame(_ header: DeviceFrameHeader, headerBytes: [UInt8], image: [UInt8], identity: Identity) async throws(IngestFailure) -> AcceptedFrame {
        do {
            return try await checkedFrame(header, headerBytes: headerBytes, image: image, identity: identity)
        } catch {
            metrics.dropped(ServerMetrics.reason(forCode: error.code))
            // Refusals of a stream this token may publish to are part of that stream's record.
            if identity.canPublish(to: header.stream), error.code != "seqConflict" {
                recorder.refusal(stream: header.stream, seq: header.seq, code: error.code, message: error.message)
            }
            throw error
        }
    }

    private func checkedFrame(_ header: DeviceFrameHeader, headerBytes: [UInt8], image: [UInt8], identity: Identity) async throws(IngestFailure)
        -> AcceptedFrame
    {
        let stream = header.stream.rawValue
        let received = ContinuousClock.now
        let receivedAt = Timestamp.now()
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
            let seconds = Int((until - .now).components.seconds) + 1
            throw IngestFailure(
                code: "quarantined", message: "this token's frames crashed or hung the codec workers repeatedly; refused for \(seconds) s",
                status: 429, stream: stream, seq: header.seq, retryAfterSeconds: seconds)
        }
        let pipeline = try pipeline(for: header.stream, seq: header.seq)
        let recorder = self.recorder
        let admission: Admission
        do {
            admission = try await pipeline.accept(header, image: image, receivedAt: receivedAt, receivedInstant: received) { prepared in
                let outcome = await recorder.admit(FrameSubmission(
                    stream: header.stream, seq: header.seq, capturedAt: header.capturedAt, receivedAt: receivedAt, header: headerBytes, image: image,
                    format: prepared.opened.format.rawValue, width: prepared.opened.displayWidth, height: prepared.opened.displayHeight,
                    annotations: prepared.annotations, alerts: prepared.alerts))
                switch outcome {
                case .recorded: return (outcome, .render)
                // Live view goes on when the disk is full; the device keeps the frame and re-sends it.
                case .refused(let error) where error == .storageFull(): return (outcome, .render)
                default: return (outcome, .skip)
                }
            }
        } catch let error as CodecError {
            throw IngestFailure(error, stream: stream, seq: header.seq)
        } catch let error as CodecWorkerError {
            if error.isFault, quarantine.recordFault(identity.id) {
                logger.warning("device token quarantined: its frames keep crashing codec workers", metadata: [
                    "herd.token": "\(identity.id)", "herd.stream": "\(stream)", "herd.frame.seq": "\(header.seq)",
                ])
            }
            throw IngestFailure(error, stream: stream, seq: header.seq)
        } catch {
            throw IngestFailure(code: "internal", message: "\(error)", status: 500, stream: stream, seq: header.seq)
        }
        switch admission {
        case .recorded(_, _, let durability):
            metrics.frameIn(header.stream)
            metrics.ingestLatency.record(ContinuousClock.now - received)
            let metrics = self.metrics
            return AcceptedFrame(ack: AckMessage(stream: header.stream, seq: header.seq), durability: durability) {
                metrics.ackLatency.record(ContinuousClock.now - received)
            }
        case .duplicate(_, let durability):
            metrics.dropped("duplicate")
            return AcceptedFrame(ack: AckMessage(stream: header.stream, seq: header.seq, duplicate: true), durability: durability)
        case .conflict(let session):
            throw IngestFailure(
                code: "seqConflict", message: "seq \(header.seq) of \(stream) was recorded (session \(session)) with other image bytes",
                status: 409, stream: stream, seq: header.seq)
        case .refused(let error):
            throw IngestFailure(error, stream: stream, seq: header.seq)
        }
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

    /// A text message: telemetry (no answer) or a session start/end (answered with the session).
    func text(_ json: [UInt8], identity: Identity) async throws(IngestFailure) -> SessionReply? {
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
        switch message {
        case .telemetry(let t):
            let pipeline = try pipeline(for: message.stream, seq: nil)
            recorder.telemetry(stream: t.stream, message: json, receivedAt: .now())
            await pipeline.telemetry(t)
            return nil
        case .session(let s):
            return try await session(s.stream, action: s.action, consignment: s.consignment, openedBy: "device")
        case .frame(let h):
            throw IngestFailure(code: "invalidMessage", message: "a frame header must come in a binary message with its image", status: 400, stream: h.stream.rawValue, seq: h.seq)
        }
    }

    /// Opens or ends a stream's recording session (from a device or the API) and tells its viewers.
    func session(_ stream: StreamID, action: SessionMessage.Action, consignment: Consignment?, openedBy: String) async throws(IngestFailure)
        -> SessionReply
    {
        let pipeline = try pipeline(for: stream, seq: nil)
        let row: SessionRow?
        do throws(RecordingError) {
            switch action {
            case .start: row = try await recorder.startSession(stream: stream, consignment: consignment, openedBy: openedBy)
            case .end:
                // Reconciled while the session is still open, so that a count mismatch is recorded in it.
                await pipeline.sessionEnding()
                row = try await recorder.endSession(stream: stream, reason: openedBy)
            }
        } catch {
            throw IngestFailure(error, stream: stream.rawValue, seq: nil)
        }
        await pipeline.session(action, consignment: row?.consignment ?? consignment, session: row?.id)
        return SessionReply(stream: stream, action: action, session: row?.id, consignment: row?.consignment)
    }
}
