import Foundation
import HerdCodecs
import HerdIdentity
import HerdOverlay
import HerdPipeline
import HerdProtocol
import HerdRecording
import HerdWorker
import HummingbirdWebSocket
import Logging
import NIOCore
import Synchronization

/// One auditor's replay socket on `/api/v1/sessions/{id}/replay`: a reader turns commands into the
/// player's inbox; the player (`ReplayStateMachine`) decides what to send and when; each frame is read
/// back from its segment by one `pread`, composed by a codec worker from the stored original and the
/// stored annotations (or sent as the stored original bytes with the overlay off) and written in the live
/// envelope with `"replay": true`. Who replayed what range is written to the audit log at the end.
struct ReplaySession: Sendable {
    let row: SessionRow
    let reader: SessionReader
    let codecs: CodecWorkerPool
    let audit: AuditLog
    let identity: Identity
    let remote: String?
    let shutdown: ShutdownSignal
    let initialOverlay: Bool
    /// A player whose client takes nothing for this long is closed (as a live viewer is).
    let writeTimeout: Duration
    let logger: Logger

    /// Everything the player needs from the index, loaded once (54,000 rows for an hour at 15 fps).
    struct Timeline: Sendable {
        var frames: [FrameRow]
        var gaps: [ClosedRange<UInt64>]
        var renderer: String?
        /// Indexes sorted by seq, for seeks by seq.
        var bySeq: [Int]

        /// The frame with this seq, else the one with the highest seq below it (else the first).
        func index(seq: UInt64) -> (Int, exact: Bool) {
            var lo = 0, hi = bySeq.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if frames[bySeq[mid]].seq <= seq { lo = mid + 1 } else { hi = mid }
            }
            guard lo > 0 else { return (bySeq.first ?? 0, false) }
            let i = bySeq[lo - 1]
            return (i, frames[i].seq == seq)
        }

        /// The last frame captured at or before `micros` (else the first).
        func index(capturedAtOrBefore micros: Int64) -> (Int, exact: Bool) {
            var lo = 0, hi = frames.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if frames[mid].capturedAtMicros <= micros { lo = mid + 1 } else { hi = mid }
            }
            guard lo > 0 else { return (0, false) }
            return (lo - 1, frames[lo - 1].capturedAtMicros == micros)
        }
    }

    static func loadTimeline(_ row: SessionRow, reader: SessionReader) throws(RecordingError) -> Timeline {
        let frames = try reader.timeline(session: row.id)
        let gaps = try reader.index.gaps(session: row.id, limit: 1000)
        // A session whose first record cannot be read still replays; it just names no renderer.
        let renderer: String? = (try? reader.sessionOpened(row)).flatMap { $0 }?.renderer
        let bySeq = frames.indices.sorted { frames[$0].seq < frames[$1].seq }
        return Timeline(frames: frames, gaps: gaps, renderer: renderer, bySeq: bySeq)
    }

    func run(timeline: Timeline, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        let inbox = ReplayInbox()
        let writes = WriteWatch()
        let shownBox = ShownRange()
        // However the socket ends (closed, stalled past the write timeout, shut down), what was shown is audited.
        var failure: (any Error)?
        do {
            try await shutdown.whileRunning(onTrigger: { inbox.close() }) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    defer { inbox.close() }
                    for try await message in inbound.messages(maxSize: 16 * 1024) {
                        guard case .text(let text) = message else {
                            inbox.post(reply: ErrorReply(code: "unknownType", message: "replay takes text commands only"))
                            continue
                        }
                        do throws(ProtocolError) {
                            inbox.post(try ReplayCommand.decode(Array(text.utf8)))
                        } catch {
                            inbox.post(reply: ErrorReply(code: error.code, message: error.message))
                        }
                    }
                }
                group.addTask { try await writes.watchdog(timeout: writeTimeout, logger: logger) }
                group.addTask {
                    try await play(timeline: timeline, inbox: inbox, writer: { frame in try await writes.timing { try await outbound.write(frame) } }) { seq in
                        shownBox.value.withLock { shown in
                            shown = shown.map { (Swift.min($0.min, seq), Swift.max($0.max, seq), $0.count + 1) } ?? (seq, seq, 1)
                        }
                    }
                }
                try await group.next()
                group.cancelAll()
            }
            }
        } catch {
            failure = error
        }
        let shown = shownBox.value.withLock { $0 }
        var entry = AuditEntry(
            actor: identity.id, actorName: identity.name, role: identity.role.rawValue, action: "replay.end", stream: row.stream, session: row.id,
            detail: shown == nil ? "no frame shown" : nil, remote: remote)
        entry.fromSeq = shown?.min
        entry.toSeq = shown?.max
        entry.frames = shown?.count ?? 0
        do throws(RecordingError) {
            try await audit.record(entry)
        } catch {
            logger.error("audit log: replay end not recorded", metadata: ["herd.session": "\(row.id)", "herd.error": "\(error)"])
        }
        if let failure { throw failure }
        if shutdown.isTriggered { try? await outbound.close(.goingAway, reason: "server shutting down") }
    }

    private func play(
        timeline: Timeline, inbox: ReplayInbox, writer write: (WebSocketOutboundWriter.OutboundFrame) async throws -> Void,
        noteShown: @Sendable (UInt64) -> Void
    ) async throws {
        var machine = ReplayStateMachine<ContinuousClock.Instant>(captured: timeline.frames.map(\.capturedAtMicros))
        var overlay = initialOverlay
        var skipped = 0
        var lastSeqShown: UInt64?
        let info = ReplaySessionInfo(
            session: row.id, stream: StreamID(row.stream) ?? StreamID("unknown")!, frames: timeline.frames.count, firstSeq: row.minSeq,
            lastSeq: row.maxSeq, firstCapturedAt: row.firstCapturedMicros.map(Self.timestamp), lastCapturedAt: row.lastCapturedMicros.map(Self.timestamp),
            open: row.isOpen, consignment: row.consignment, renderer: timeline.renderer, composer: OverlayRenderer.version,
            gaps: timeline.gaps.map { [$0.lowerBound, $0.upperBound] },
            late: timeline.frames.lazy.filter(\.late).prefix(5000).map { .init(seq: $0.seq, capturedAt: Self.timestamp($0.capturedAtMicros)) },
            alerts: timeline.frames.lazy.filter { $0.alerts > 0 }.prefix(5000).map { .init(seq: $0.seq, capturedAt: Self.timestamp($0.capturedAtMicros)) })
        try await write(.text(WireJSON.encodeString(info)))

        func report(exact: Bool? = nil) async throws {
            let i = machine.position >= 0 ? machine.position : nil
            let state = ReplayState(
                state: machine.state.rawValue, speed: machine.speed, overlay: overlay, index: i, seq: i.map { timeline.frames[$0].seq },
                capturedAt: i.map { Self.timestamp(timeline.frames[$0].capturedAtMicros) }, frames: timeline.frames.count, skipped: skipped, exact: exact)
            skipped = 0
            try await write(.text(WireJSON.encodeString(state)))
        }

        func send(_ index: Int) async throws {
            let frame = timeline.frames[index]
            if let last = lastSeqShown, machine.state == .playing {
                for gap in timeline.gaps where gap.lowerBound > min(last, frame.seq) && gap.upperBound < max(last, frame.seq) {
                    try await write(.text(WireJSON.encodeString(ReplayGap(from: gap.lowerBound, to: gap.upperBound))))
                }
            }
            lastSeqShown = frame.seq
            do {
                let message = try await compose(frame, index: index, overlay: overlay)
                try await write(.binary(message))
                noteShown(frame.seq)
            } catch let error as CancellationError {
                throw error
            } catch {
                let code = (error as? CodecWorkerError)?.code ?? (error as? CodecError)?.code ?? (error as? RecordingError)?.code ?? "renderFailed"
                logger.warning("replay: frame not shown", metadata: ["herd.session": "\(row.id)", "herd.frame.seq": "\(frame.seq)", "herd.error": "\(error)"])
                try await write(.text(WireJSON.encodeString(ErrorReply(stream: row.stream, seq: frame.seq, code: code, message: "frame \(frame.seq) could not be shown: \(error)"))))
            }
        }

        // The first frame, paused, so the player has a picture.
        if !timeline.frames.isEmpty, case .send(let i, _) = machine.show(0, now: .now) { try await send(i) }
        try await report()
        var wasPlaying = false
        while !inbox.isClosed {
            let (replies, commands) = inbox.take()
            for reply in replies { try await write(.text(WireJSON.encodeString(reply))) }
            for command in commands {
                let now = ContinuousClock.now
                switch command {
                case .play(let speed):
                    machine.play(speed: speed, now: now)
                    try await report()
                case .pause:
                    machine.pause()
                    try await report()
                case .seekSeq(let seq):
                    let (i, exact) = timeline.index(seq: seq)
                    if case .send(let index, _) = machine.show(i, now: now) { try await send(index) }
                    try await report(exact: exact)
                case .seekTime(let at):
                    let (i, exact) = timeline.index(capturedAtOrBefore: Micros.of(at))
                    if case .send(let index, _) = machine.show(i, now: now) { try await send(index) }
                    try await report(exact: exact)
                case .step(let n):
                    if case .send(let index, _) = machine.step(n, now: now) { try await send(index) }
                    try await report()
                case .overlay(let on):
                    overlay = on
                    // The frame in view again, the other way, so a paused auditor sees the switch.
                    if machine.state != .playing, machine.position >= 0 { try await send(machine.position) }
                    try await report()
                }
            }
            switch machine.next(now: .now) {
            case .send(let index, let passed):
                skipped += passed
                try await send(index)
                wasPlaying = true
            case .wait(let until):
                await inbox.wait(until: until)
            case .idle:
                if wasPlaying, machine.state == .ended {
                    wasPlaying = false
                    try await report()
                }
                await inbox.wait(until: nil)
            }
        }
    }

    private func compose(_ frame: FrameRow, index: Int, overlay: Bool) async throws -> ByteBuffer {
        let reader = self.reader, row = self.row
        let stored = try await BlockingIO.run { () throws(RecordingError) in try reader.read(frame, session: row) }
        let annotations = stored.annotations?.annotations
        var header = LiveFrameHeader(
            stream: StreamID(row.stream) ?? StreamID("unknown")!, seq: frame.seq,
            capturedAt: (try? Timestamp(parsing: stored.meta.capturedAt)) ?? Self.timestamp(frame.capturedAtMicros),
            receivedAt: (try? Timestamp(parsing: stored.meta.receivedAt)) ?? Self.timestamp(frame.receivedAtMicros),
            width: stored.meta.width ?? 0, height: stored.meta.height ?? 0, overlay: overlay, annotations: annotations?.items ?? [],
            alerts: stored.annotations?.alerts ?? [])
        header.replay = true
        header.session = row.id
        header.index = index
        header.late = frame.late ? true : nil
        let payload: [UInt8]
        if overlay {
            // Stored originals are untrusted bytes too: they are parsed and drawn on in a codec worker.
            let opened = try await codecs.open(stored.image)
            let rendered = try await codecs.render(opened, annotations: annotations)
            header.width = rendered.report.width
            header.height = rendered.report.height
            payload = rendered.annotated
        } else {
            payload = stored.image
        }
        return ByteBuffer(bytes: Envelope.encode(header: header, payload: payload))
    }

    static func timestamp(_ micros: Int64) -> Timestamp { Timestamp(date: Date(timeIntervalSince1970: Double(micros) / 1e6)) }
}

/// The seqs a replay showed (lowest, highest, how many), for its audit entry.
private final class ShownRange: Sendable {
    let value = Mutex<(min: UInt64, max: UInt64, count: Int)?>(nil)
}
