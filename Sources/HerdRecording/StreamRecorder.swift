import Crypto
import Dispatch
import Foundation
import HerdProtocol
import Logging

/// One stream's recording: its open session, addenda for late frames, frames appended but not yet
/// indexed, and the group commit. Every method runs on `queue` (a serial Dispatch queue, off Swift's
/// cooperative pool), which also keeps records in arrival order.
final class StreamRecorder: @unchecked Sendable {
    let stream: String
    let queue: DispatchQueue
    private let recorder: RecorderCore
    private(set) var current: SessionLog?
    private var addenda: [String: SessionLog] = [:]
    /// Appended, not yet indexed: seq → (image digest, session, commit it waits for).
    private var pending: [UInt64: (digest: [UInt8], session: String, durability: Durability)] = [:]
    private var window: Durability?
    private var maxSeq: UInt64??

    /// How long a session opened by a session message may go without records before it closes.
    static let explicitIdleSeconds: Double = 86_400

    init(stream: String, core: RecorderCore) {
        self.stream = stream
        self.recorder = core
        queue = DispatchQueue(label: "herdlens.recorder.\(stream)")
    }

    private var configuration: RecorderConfiguration { recorder.configuration }
    private var index: any RecordingIndex { recorder.index }

    var logs: [SessionLog] { (current.map { [$0] } ?? []) + Array(addenda.values) }

    // MARK: frames

    func admit(_ frame: FrameSubmission) -> Admission {
        let digest = Array(SHA256.hash(data: frame.image))
        if let seen = pending[frame.seq] {
            return seen.digest == digest ? .duplicate(session: seen.session, durability: seen.durability) : .conflict(session: seen.session)
        }
        do throws(RecordingError) {
            if let row = try index.frame(stream: stream, seq: frame.seq) {
                return row.digest == digest ? .duplicate(session: row.session, durability: .kept()) : .conflict(session: row.session)
            }
            let capturedMicros = Micros.of(frame.capturedAt), receivedMicros = Micros.of(frame.receivedAt)
            let highest = try highestSeq()
            var late = Double(receivedMicros - capturedMicros) / 1_000_000 > configuration.lateAfterSeconds
            if let highest, frame.seq < highest { late = true }
            let (log, addendum) = try log(for: capturedMicros, late: late)
            if recorder.isStorageFull, !log.row.hold { throw RecordingError.storageFull("recording storage is full; send this frame again later") }
            let meta = FrameMeta(
                stream: stream, seq: frame.seq, capturedAt: frame.capturedAt.text, receivedAt: frame.receivedAt.text, imageSHA256: Hex.encode(digest),
                format: frame.format, width: frame.width, height: frame.height, late: late ? true : nil, addendum: addendum ? true : nil)
            let before = log.mark
            let location: (offset: Int64, length: Int)
            do throws(RecordingError) {
                location = try log.append(.frame, meta: Meta.encode(meta), blobs: [frame.header, frame.image])
                if let set = frame.annotations {
                    try log.append(.annotations, meta: Meta.encode(AnnotationsMeta(seq: frame.seq, annotations: set, alerts: frame.alerts.isEmpty ? nil : frame.alerts)))
                }
            } catch {
                log.restore(before)
                throw error
            }
            var row = log.row
            row.frames += 1
            if late { row.late += 1 }
            row.alerts += frame.alerts.count
            row.minSeq = min(row.minSeq ?? frame.seq, frame.seq)
            row.maxSeq = max(row.maxSeq ?? frame.seq, frame.seq)
            row.firstCapturedMicros = min(row.firstCapturedMicros ?? capturedMicros, capturedMicros)
            row.lastCapturedMicros = max(row.lastCapturedMicros ?? capturedMicros, capturedMicros)
            log.row = row
            log.pendingFrames.append(FrameRow(
                stream: stream, seq: frame.seq, session: row.id, capturedAtMicros: capturedMicros, receivedAtMicros: receivedMicros,
                segment: row.segment, offset: location.offset, length: location.length, digest: digest, late: late,
                alerts: frame.alerts.count))
            maxSeq = .some(max(highest ?? frame.seq, frame.seq))
            let durability = scheduleCommit(log)
            pending[frame.seq] = (digest, row.id, durability)
            return .recorded(session: row.id, late: late, durability: durability)
        } catch {
            recorder.events.refused(error.code)
            if error == .storageFull() { recorder.noteStorageFull() }
            return .refused(error)
        }
    }

    private func highestSeq() throws(RecordingError) -> UInt64? {
        if let known = maxSeq { return known }
        let found = try index.maxSeq(stream: stream)
        maxSeq = .some(found)
        return found
    }

    /// The session a frame joins: a closed one it belongs to (addendum), else the open one, else a new one.
    private func log(for capturedMicros: Int64, late: Bool) throws(RecordingError) -> (SessionLog, addendum: Bool) {
        if late, current.map({ capturedMicros < $0.row.startedAtMicros }) ?? true {
            let limit = Micros.now() - Int64(configuration.addendumLimitSeconds * 1_000_000)
            if let open = addenda.values.first(where: { ($0.row.startedAtMicros...($0.row.endedAtMicros ?? .max)).contains(capturedMicros) }) {
                return (open, true)
            }
            if let closed = try index.closedSession(stream: stream, covering: capturedMicros, endedAfter: limit) {
                var row = closed
                row.addenda += 1
                let log = try SessionLog(resume: row, directory: recorder.sessionDirectory(stream: stream, id: row.id), addendum: true)
                try log.append(.event, meta: Meta.encode(EventMeta(at: Timestamp.now().text, event: "addendum.start", detail: "late frames after the session closed")))
                addenda[row.id] = log
                return (log, true)
            }
        }
        if let current { return (current, false) }
        return (try open(consignment: nil, openedBy: "firstFrame"), false)
    }

    // MARK: other records

    func append(_ kind: RecordKind, meta: [UInt8], blobs: [[UInt8]] = [], openIfNeeded: Bool) {
        do throws(RecordingError) {
            let log: SessionLog
            if let current {
                log = current
            } else if openIfNeeded {
                log = try open(consignment: nil, openedBy: "firstFrame")
            } else {
                return
            }
            if recorder.isStorageFull, !log.row.hold { return }
            if kind == .refusal { log.row.refused += 1 }
            try log.append(kind, meta: meta, blobs: blobs)
            _ = scheduleCommit(log)
        } catch {
            recorder.logger.warning("record not kept", metadata: ["herd.stream": "\(stream)", "herd.record": "\(kind.name)", "herd.error": "\(error)"])
        }
    }

    // MARK: sessions

    /// Opens a session (closing the open one first, unless it is the same consignment).
    func start(consignment: Consignment?, openedBy: String) throws(RecordingError) -> SessionRow {
        if let current {
            if let id = consignment?.id, current.row.consignment?.id == id {
                current.row.consignment = consignment
                try current.append(.event, meta: Meta.encode(EventMeta(at: Timestamp.now().text, event: "consignment", consignment: consignment)))
                try commitNow()
                return current.row
            }
            try close(current, reason: "nextSession")
        }
        if recorder.isStorageFull { throw .storageFull("recording storage is full") }
        let log = try open(consignment: consignment, openedBy: openedBy)
        try commitNow()
        return log.row
    }

    private func open(consignment: Consignment?, openedBy: String) throws(RecordingError) -> SessionLog {
        let now = Micros.now()
        let id = Recorder.newSessionID(at: now)
        let row = SessionRow(
            id: id, stream: stream, startedAtMicros: now, endedAtMicros: nil, endReason: nil, consignment: consignment, frames: 0, late: 0,
            refused: 0, alerts: 0, bytes: 0, records: 0, head: Hex.encode(Record.genesis(session: id)), minSeq: nil, maxSeq: nil,
            firstCapturedMicros: nil, lastCapturedMicros: nil, hold: false, addenda: 0, manifest: nil, segment: 1,
            segmentOffset: Int64(SegmentFile.headerSize))
        let log = try SessionLog(create: row, directory: recorder.sessionDirectory(stream: stream, id: id))
        log.isExplicit = openedBy != "firstFrame"
        try index.insertSession(log.row)
        try log.append(.sessionOpened, meta: Meta.encode(SessionOpenedMeta(
            session: id, stream: stream, startedAt: Micros.text(now), consignment: consignment, openedBy: openedBy, software: Recorder.software,
            renderer: configuration.renderer)))
        current = log
        recorder.sessionOpened()
        _ = scheduleCommit(log)
        return log
    }

    /// Ends the open session (or the named one); nil when none was open.
    func end(reason: String, note: String? = nil) throws(RecordingError) -> SessionRow? {
        guard let current else { return nil }
        return try close(current, reason: reason, note: note)
    }

    @discardableResult
    private func close(_ log: SessionLog, reason: String, note: String? = nil) throws(RecordingError) -> SessionRow {
        let now = Micros.now()
        if !log.isAddendum {
            try log.append(.sessionClosed, meta: Meta.encode(SessionClosedMeta(at: Micros.text(now), reason: reason, note: note)))
            log.row.endedAtMicros = now
            log.row.endReason = reason
        }
        try log.checkpoint(key: recorder.key, final: true, addendum: log.isAddendum ? log.row.addenda : nil)
        _ = scheduleCommit(log)
        try commitNow()
        log.close()
        if log === current {
            current = nil
            recorder.sessionClosed()
        } else {
            addenda[log.row.id] = nil
        }
        return log.row
    }

    /// Idle sessions close, finished addenda are signed, due checkpoints written.
    func housekeeping() {
        let now = ContinuousClock.now
        do throws(RecordingError) {
            // A session opened by a first frame closes when idle; one a device or an inspector opened stays
            // open across a pause in the loading, up to a day without records.
            let idle: Double = current?.isExplicit == true ? max(configuration.sessionIdleSeconds, Self.explicitIdleSeconds) : configuration.sessionIdleSeconds
            if let current, now - current.lastAppendAt >= .seconds(idle) {
                try close(current, reason: "idle")
            }
            for log in Array(addenda.values) where now - log.lastAppendAt >= .seconds(min(2, configuration.commitWindowSeconds * 10)) {
                try close(log, reason: "addendum")
            }
            for log in logs where log.row.records > log.recordsAtCheckpoint && now - log.lastCheckpointAt >= .seconds(configuration.checkpointSeconds) {
                try log.checkpoint(key: recorder.key, final: false, addendum: nil)
                _ = scheduleCommit(log)
            }
        } catch {
            recorder.logger.error("recording housekeeping failed", metadata: ["herd.stream": "\(stream)", "herd.error": "\(error)"])
        }
    }

    func closeAll(reason: String) {
        for log in logs {
            do throws(RecordingError) {
                try close(log, reason: reason)
            } catch {
                recorder.logger.error("session not closed cleanly", metadata: ["herd.session": "\(log.row.id)", "herd.error": "\(error)"])
            }
        }
    }

    // MARK: group commit

    private func scheduleCommit(_ log: SessionLog) -> Durability {
        if let window {
            if !log.waiters.contains(where: { $0 === window }) { log.waiters.append(window) }
            return window
        }
        let durability = Durability()
        window = durability
        log.waiters.append(durability)
        queue.asyncAfter(deadline: .now() + configuration.commitWindowSeconds) { [self] in
            do throws(RecordingError) { try commitNow() } catch {}
        }
        return durability
    }

    /// fsync every log written since the last commit and keep the window's promise (the acks go out),
    /// then index what became durable. An index that fails to commit lags (retried at the next commit,
    /// completed by recovery at start); the frames stay acknowledged and deduplicated from memory.
    func commitNow() throws(RecordingError) {
        let dirty = logs.filter(\.isDirty)
        window = nil
        if !dirty.isEmpty {
            let start = ContinuousClock.now
            do throws(RecordingError) {
                for log in dirty { try log.sync() }
            } catch {
                recorder.logger.error("group commit failed; frames in it were not acknowledged", metadata: ["herd.stream": "\(stream)", "herd.error": "\(error)"])
                for log in dirty {
                    for f in log.rollBack(error) { pending[f.seq] = nil }
                }
                maxSeq = nil
                if error == .storageFull() { recorder.noteStorageFull() }
                throw error
            }
            let fsyncTime = ContinuousClock.now - start
            var bytes: Int64 = 0, frames = 0
            for log in dirty {
                bytes += log.row.bytes - log.committed.bytes
                frames += log.pendingFrames.count
                log.markCommitted()
            }
            recorder.addBytes(bytes)
            recorder.events.committed(frames, bytes, fsyncTime)
        }
        try index(logs.filter(\.needsIndex))
        for log in dirty { try log.rotateIfNeeded(maxBytes: configuration.segmentMaxBytes, maxAge: .seconds(configuration.segmentMaxSeconds)) }
    }

    /// Commits the durable frames and session progress of `logs` to the index.
    private func index(_ logs: [SessionLog]) throws(RecordingError) {
        guard !logs.isEmpty else { return }
        let frames = logs.flatMap(\.unindexed)
        let rows = logs.map(\.committed)
        do throws(RecordingError) {
            try index.commit(frames: frames, sessions: rows)
        } catch {
            recorder.noteIndexLagging(error)
            recorder.logger.error("recording index behind the segments (frames are durable; recovery completes it)", metadata: [
                "herd.stream": "\(stream)", "herd.error": "\(error)",
            ])
            return
        }
        recorder.noteIndexCaughtUp()
        for (log, row) in zip(logs, rows) {
            log.unindexed.removeAll()
            log.indexedRow = row
        }
        for f in frames where pending[f.seq]?.session == f.session { pending[f.seq] = nil }
    }
}
