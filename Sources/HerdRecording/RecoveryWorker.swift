import Foundation
import HerdProtocol
import Logging

/// What start-up recovery found and did.
public struct RecoveryReport: Sendable, Hashable {
    public var sessionsScanned = 0
    public var sessionsClosed = 0
    public var recordsRecovered = 0
    public var framesRecovered = 0
    public var bytesTruncated: Int64 = 0
    public var duration: Duration = .zero
}

/// Start-up recovery: for each session whose segments go past the index's committed point (a stat per
/// session, not a read), read only the records after it, index them, cut a torn tail, and close sessions
/// the server never closed (reason `recovered`) with a final signed checkpoint.
struct RecoveryWorker {
    let directory: String
    let index: any RecordingIndex
    let key: RecordingKey
    let logger: Logger

    func run() throws(RecordingError) -> RecoveryReport {
        var report = RecoveryReport()
        var rows = try index.allSessions()
        rows += unindexedSessions(known: Set(rows.map(\.id)))
        for var row in rows {
            let dir = directory + "/" + row.stream + "/" + row.id
            let numbers = SegmentFile.numbers(in: dir)
            let size = (try? FileManager.default.attributesOfItem(atPath: dir + "/" + SegmentFile.name(row.segment))[.size] as? Int64) ?? 0
            let beyond = (numbers.last ?? 0) > row.segment || size > row.segmentOffset
            guard beyond || row.isOpen || !(lastIsFinal(row)) else { continue }
            report.sessionsScanned += 1
            var frames: [FrameRow] = []
            var head = row.head
            var records = row.records
            var lastWasFinal = lastIsFinal(row)
            let walker = SegmentWalker(directory: dir, verifyHash: true, keepBlobs: { $0 == RecordKind.checkpoint.rawValue })
            // A well-formed record that does not continue the chain (another session's, or planted) ends
            // the session's records like a damaged one: it is cut, or verify would fail on it for good.
            var unchained: SegmentWalker.Stop?
            let stop = try walker.walk(from: (row.segment, row.segmentOffset)) { record, segment, offset, size in
                guard record.index == records, Hex.encode(record.previousHash) == head else {
                    unchained = .corrupt(segment: segment, offset: offset, reason: "record \(record.index) does not continue the chain at record \(records)")
                    return false
                }
                records += 1
                head = Hex.encode(record.hash)
                row.records = records
                row.head = head
                row.segment = segment
                row.segmentOffset = offset + Int64(size)
                row.bytes += Int64(size)
                lastWasFinal = false
                switch record.knownKind {
                case .frame:
                    if let meta = Meta.decode(FrameMeta.self, record.meta), let captured = try? Timestamp(parsing: meta.capturedAt),
                        let received = try? Timestamp(parsing: meta.receivedAt), let digest = Hex.decode(meta.imageSHA256)
                    {
                        let c = Micros.of(captured)
                        frames.append(FrameRow(
                            stream: row.stream, seq: meta.seq, session: row.id, capturedAtMicros: c, receivedAtMicros: Micros.of(received),
                            segment: segment, offset: offset, length: size, digest: digest, late: meta.late ?? false))
                        row.frames += 1
                        if meta.late == true { row.late += 1 }
                        row.minSeq = min(row.minSeq ?? meta.seq, meta.seq)
                        row.maxSeq = max(row.maxSeq ?? meta.seq, meta.seq)
                        row.firstCapturedMicros = min(row.firstCapturedMicros ?? c, c)
                        row.lastCapturedMicros = max(row.lastCapturedMicros ?? c, c)
                    }
                case .annotations:
                    if let meta = Meta.decode(AnnotationsMeta.self, record.meta) { row.alerts += meta.alerts?.count ?? 0 }
                case .refusal:
                    row.refused += 1
                case .sessionClosed:
                    if let meta = Meta.decode(SessionClosedMeta.self, record.meta), let at = try? Timestamp(parsing: meta.at) {
                        row.endedAtMicros = Micros.of(at)
                        row.endReason = meta.reason
                    }
                case .checkpoint:
                    if record.blobs.count == 2, let manifest = Meta.decode(Manifest.self, record.blobs[0]) {
                        row.manifest = String(decoding: record.blobs[0], as: UTF8.self)
                        lastWasFinal = manifest.final
                    }
                default:
                    break
                }
                report.recordsRecovered += 1
                return true
            }
            if let stop = stop ?? unchained {
                report.bytesTruncated += cut(stop, dir: dir, keep: row)
            }
            report.framesRecovered += frames.count
            try index.commit(frames: frames, sessions: [row])
            if row.isOpen || !lastWasFinal {
                let log = try SessionLog(resume: row, directory: dir, addendum: !row.isOpen)
                if row.isOpen {
                    let note = "the server stopped without closing this session; \(frames.count) frames re-indexed from its segments"
                    let now = Micros.now()
                    try log.append(.sessionClosed, meta: Meta.encode(SessionClosedMeta(at: Micros.text(now), reason: "recovered", note: note)))
                    log.row.endedAtMicros = now
                    log.row.endReason = "recovered"
                }
                try log.checkpoint(key: key, final: true, addendum: row.isOpen ? nil : log.row.addenda)
                try log.sync()
                try index.commit(frames: [], sessions: [log.row])
                log.markCommitted()
                log.close()
                report.sessionsClosed += 1
            }
        }
        return report
    }

    /// Session directories the index never heard of, as rows to recover from their first record. The
    /// index is written with `synchronous=NORMAL`: a power loss or a filesystem that fails can take its
    /// last transactions, the new session's row among them, while the session's segments (fsynced before
    /// any ack) survive. Without this, those acknowledged frames were on disk and found by nothing.
    private func unindexedSessions(known: Set<String>) -> [SessionRow] {
        var found: [SessionRow] = []
        let files = FileManager.default
        for stream in ((try? files.contentsOfDirectory(atPath: directory)) ?? []).sorted() {
            let streamDirectory = directory + "/" + stream
            guard StreamID(stream) != nil, let sessions = try? files.contentsOfDirectory(atPath: streamDirectory) else { continue }
            // A purge interrupted by a crash: its directory was moved aside before its row was deleted.
            for aside in sessions where aside.hasPrefix(".purge-") {
                try? files.removeItem(atPath: streamDirectory + "/" + aside)
                logger.notice("an interrupted purge was finished", metadata: ["herd.stream": "\(stream)", "herd.session": "\(aside.dropFirst(7))"])
            }
            for id in sessions.sorted() where id.hasPrefix("s-") && !known.contains(id) {
                guard let opened = Self.openingRecord(streamDirectory + "/" + id), opened.session == id, opened.stream == stream,
                    let started = try? Timestamp(parsing: opened.startedAt)
                else {
                    logger.warning("a session directory without a readable opening record was left as it is", metadata: [
                        "herd.stream": "\(stream)", "herd.session": "\(id)",
                    ])
                    continue
                }
                logger.notice("a session missing from the index is recovered from its segments", metadata: [
                    "herd.stream": "\(stream)", "herd.session": "\(id)",
                ])
                found.append(SessionRow(
                    id: id, stream: stream, startedAtMicros: Micros.of(started), endedAtMicros: nil, endReason: nil,
                    consignment: opened.consignment, frames: 0, late: 0, refused: 0, alerts: 0, bytes: 0, records: 0,
                    head: Hex.encode(Record.genesis(session: id)), minSeq: nil, maxSeq: nil, firstCapturedMicros: nil, lastCapturedMicros: nil,
                    hold: false, addenda: 0, manifest: nil, segment: 1, segmentOffset: Int64(SegmentFile.headerSize)))
            }
        }
        return found
    }

    /// The `sessionOpened` meta of a session's first record, if it is one and intact.
    private static func openingRecord(_ sessionDirectory: String) -> SessionOpenedMeta? {
        var opened: SessionOpenedMeta?
        _ = try? SegmentWalker(directory: sessionDirectory, verifyHash: true, keepBlobs: { _ in false }).walk { record, _, _, _ in
            if record.index == 0, record.knownKind == .sessionOpened { opened = Meta.decode(SessionOpenedMeta.self, record.meta) }
            return false
        }
        return opened
    }

    /// Whether the index's last manifest for the session is final (it was closed and signed).
    private func lastIsFinal(_ row: SessionRow) -> Bool {
        guard let text = row.manifest, let manifest = Meta.decode(Manifest.self, Array(text.utf8)) else { return false }
        return manifest.final && manifest.records + 1 == row.records
    }

    /// Cuts a torn or damaged tail off the last segment read (and an empty segment after it), saying so.
    private func cut(_ stop: SegmentWalker.Stop, dir: String, keep row: SessionRow) -> Int64 {
        if case .corrupt(let segment, let offset, let reason) = stop {
            logger.warning("damaged record cut from a segment at recovery", metadata: [
                "herd.session": "\(row.id)", "herd.segment": "\(segment)", "herd.offset": "\(offset)", "herd.reason": "\(reason)",
            ])
        }
        return SegmentFile.cut(stop, in: dir)
    }
}
