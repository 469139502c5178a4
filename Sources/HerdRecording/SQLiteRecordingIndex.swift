import Foundation
import GRDB
import HerdProtocol

/// The recording index in SQLite (WAL, one writer, concurrent readers). Committed with
/// `synchronous=NORMAL`: the segments are the durable truth and recovery re-indexes whatever the index
/// lost past its last commit.
public final class SQLiteRecordingIndex: RecordingIndex {
    private let pool: DatabasePool

    public init(path: String) throws(RecordingError) {
        do {
            var configuration = Configuration()
            configuration.busyMode = .timeout(5)
            configuration.prepareDatabase { db in
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
            }
            pool = try DatabasePool(path: path, configuration: configuration)
            var migrator = DatabaseMigrator()
            migrator.registerMigration("v1") { db in
                try db.execute(sql: """
                    CREATE TABLE sessions (
                        id TEXT PRIMARY KEY, stream TEXT NOT NULL, started_us INTEGER NOT NULL, ended_us INTEGER,
                        end_reason TEXT, consignment TEXT, consignment_id TEXT, plate TEXT,
                        frames INTEGER NOT NULL, late INTEGER NOT NULL, refused INTEGER NOT NULL, alerts INTEGER NOT NULL,
                        bytes INTEGER NOT NULL, records INTEGER NOT NULL, head TEXT NOT NULL,
                        min_seq INTEGER, max_seq INTEGER, first_captured_us INTEGER, last_captured_us INTEGER,
                        hold INTEGER NOT NULL DEFAULT 0, addenda INTEGER NOT NULL DEFAULT 0, manifest TEXT,
                        segment INTEGER NOT NULL, segment_offset INTEGER NOT NULL);
                    CREATE INDEX sessions_stream_started ON sessions(stream, started_us);
                    CREATE INDEX sessions_started ON sessions(started_us);
                    CREATE TABLE frames (
                        stream TEXT NOT NULL, seq INTEGER NOT NULL, session TEXT NOT NULL,
                        captured_us INTEGER NOT NULL, received_us INTEGER NOT NULL,
                        segment INTEGER NOT NULL, offset INTEGER NOT NULL, length INTEGER NOT NULL,
                        digest BLOB NOT NULL, late INTEGER NOT NULL,
                        PRIMARY KEY (stream, seq)) WITHOUT ROWID;
                    CREATE INDEX frames_session_captured ON frames(session, captured_us);
                    CREATE INDEX frames_session_seq ON frames(session, seq);
                    """)
            }
            migrator.registerMigration("v2-frame-alerts") { db in
                try db.execute(sql: "ALTER TABLE frames ADD COLUMN alerts INTEGER NOT NULL DEFAULT 0")
            }
            try migrator.migrate(pool)
        } catch {
            throw .storage("recording index \(path): \(error)")
        }
    }

    private func write<T>(_ body: (Database) throws -> T) throws(RecordingError) -> T {
        do {
            return try pool.write(body)
        } catch let error as RecordingError {
            throw error
        } catch {
            throw Self.classify(error)
        }
    }

    private func read<T>(_ body: (Database) throws -> T) throws(RecordingError) -> T {
        do {
            return try pool.read(body)
        } catch {
            throw Self.classify(error)
        }
    }

    static func classify(_ error: any Error) -> RecordingError {
        if let db = error as? DatabaseError, db.resultCode == .SQLITE_FULL { return .storageFull("recording index: disk full") }
        return .storage("recording index: \(error)")
    }

    private static func seqValue(_ seq: UInt64) -> Int64 { Int64(bitPattern: seq) }
    private static func seq(_ value: Int64) -> UInt64 { UInt64(bitPattern: value) }

    private static func upsert(_ s: SessionRow, _ db: Database) throws {
        let consignment = s.consignment.map { String(decoding: WireJSON.encode($0), as: UTF8.self) }
        try db.execute(
            sql: """
                INSERT INTO sessions (id, stream, started_us, ended_us, end_reason, consignment, consignment_id, plate, frames, late,
                    refused, alerts, bytes, records, head, min_seq, max_seq, first_captured_us, last_captured_us, hold, addenda, manifest,
                    segment, segment_offset)
                VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
                ON CONFLICT(id) DO UPDATE SET ended_us=excluded.ended_us, end_reason=excluded.end_reason,
                    consignment=excluded.consignment, consignment_id=excluded.consignment_id, plate=excluded.plate,
                    frames=excluded.frames, late=excluded.late, refused=excluded.refused, alerts=excluded.alerts, bytes=excluded.bytes,
                    records=excluded.records, head=excluded.head, min_seq=excluded.min_seq, max_seq=excluded.max_seq,
                    first_captured_us=excluded.first_captured_us, last_captured_us=excluded.last_captured_us,
                    addenda=excluded.addenda, manifest=excluded.manifest, segment=excluded.segment, segment_offset=excluded.segment_offset
                """,
            arguments: [
                s.id, s.stream, s.startedAtMicros, s.endedAtMicros, s.endReason, consignment, s.consignment?.id, s.consignment?.vehiclePlate,
                s.frames, s.late, s.refused, s.alerts, s.bytes, Int64(s.records), s.head, s.minSeq.map(seqValue), s.maxSeq.map(seqValue),
                s.firstCapturedMicros, s.lastCapturedMicros, s.hold ? 1 : 0, s.addenda, s.manifest, s.segment, s.segmentOffset,
            ])
    }

    private static func sessionRow(_ r: Row) -> SessionRow {
        let consignment: Consignment? = (r["consignment"] as String?).flatMap { try? WireJSON.decode(Consignment.self, from: Array($0.utf8)) }
        return SessionRow(
            id: r["id"], stream: r["stream"], startedAtMicros: r["started_us"], endedAtMicros: r["ended_us"], endReason: r["end_reason"],
            consignment: consignment, frames: r["frames"], late: r["late"], refused: r["refused"], alerts: r["alerts"], bytes: r["bytes"],
            records: UInt64(r["records"] as Int64), head: r["head"], minSeq: (r["min_seq"] as Int64?).map(seq),
            maxSeq: (r["max_seq"] as Int64?).map(seq), firstCapturedMicros: r["first_captured_us"], lastCapturedMicros: r["last_captured_us"],
            hold: (r["hold"] as Int) != 0, addenda: r["addenda"], manifest: r["manifest"], segment: r["segment"],
            segmentOffset: r["segment_offset"])
    }

    private static func frameRow(_ r: Row) -> FrameRow {
        FrameRow(
            stream: r["stream"], seq: seq(r["seq"]), session: r["session"], capturedAtMicros: r["captured_us"], receivedAtMicros: r["received_us"],
            segment: r["segment"], offset: r["offset"], length: r["length"], digest: [UInt8](r["digest"] as Data), late: (r["late"] as Int) != 0,
            alerts: r["alerts"])
    }

    public func insertSession(_ row: SessionRow) throws(RecordingError) {
        try write { db in try Self.upsert(row, db) }
    }

    public func commit(frames: [FrameRow], sessions: [SessionRow]) throws(RecordingError) {
        try write { db in
            let statement = try db.cachedStatement(
                sql: """
                    INSERT OR REPLACE INTO frames (stream, seq, session, captured_us, received_us, segment, offset, length, digest, late, alerts)
                    VALUES (?,?,?,?,?,?,?,?,?,?,?)
                    """)
            for f in frames {
                try statement.execute(arguments: [
                    f.stream, Self.seqValue(f.seq), f.session, f.capturedAtMicros, f.receivedAtMicros, f.segment, f.offset, f.length,
                    Data(f.digest), f.late ? 1 : 0, f.alerts,
                ])
            }
            for s in sessions { try Self.upsert(s, db) }
        }
    }

    public func frame(stream: String, seq: UInt64) throws(RecordingError) -> FrameRow? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM frames WHERE stream = ? AND seq = ?", arguments: [stream, Self.seqValue(seq)]).map(Self.frameRow)
        }
    }

    public func frames(session: String) throws(RecordingError) -> [FrameRow] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM frames WHERE session = ? ORDER BY captured_us, seq", arguments: [session]).map(Self.frameRow)
        }
    }

    public func session(_ id: String) throws(RecordingError) -> SessionRow? {
        try read { db in try Row.fetchOne(db, sql: "SELECT * FROM sessions WHERE id = ?", arguments: [id]).map(Self.sessionRow) }
    }

    public func sessions(_ query: SessionQuery) throws(RecordingError) -> [SessionRow] {
        var clauses: [String] = []
        var arguments: [any DatabaseValueConvertible] = []
        if let streams = query.streams {
            if streams.isEmpty { return [] }
            clauses.append("stream IN (\(Array(repeating: "?", count: streams.count).joined(separator: ",")))")
            arguments.append(contentsOf: streams.sorted())
        }
        if let from = query.fromMicros {
            clauses.append("COALESCE(ended_us, 9223372036854775807) >= ?")
            arguments.append(from)
        }
        if let to = query.toMicros {
            clauses.append("started_us <= ?")
            arguments.append(to)
        }
        if let c = query.consignment {
            clauses.append("consignment_id = ?")
            arguments.append(c)
        }
        if let p = query.plate {
            clauses.append("plate = ?")
            arguments.append(p)
        }
        if let before = query.beforeMicros {
            clauses.append("(started_us < ? OR (started_us = ? AND id < ?))")
            arguments.append(contentsOf: [before, before, query.beforeID ?? ""] as [any DatabaseValueConvertible])
        }
        let whereSQL = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        let sql = "SELECT * FROM sessions \(whereSQL) ORDER BY started_us DESC, id DESC LIMIT \(max(1, min(query.limit, 500)))"
        return try read { db in try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)).map(Self.sessionRow) }
    }

    public func openSessions() throws(RecordingError) -> [SessionRow] {
        try read { db in try Row.fetchAll(db, sql: "SELECT * FROM sessions WHERE ended_us IS NULL").map(Self.sessionRow) }
    }

    public func allSessions() throws(RecordingError) -> [SessionRow] {
        try read { db in try Row.fetchAll(db, sql: "SELECT * FROM sessions").map(Self.sessionRow) }
    }

    public func closedSession(stream: String, covering capturedMicros: Int64, endedAfter: Int64) throws(RecordingError) -> SessionRow? {
        try read { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT * FROM sessions WHERE stream = ? AND ended_us IS NOT NULL AND started_us <= ? AND ended_us >= ? AND ended_us >= ?
                    ORDER BY started_us DESC LIMIT 1
                    """, arguments: [stream, capturedMicros, capturedMicros, endedAfter]
            ).map(Self.sessionRow)
        }
    }

    public func maxSeq(stream: String) throws(RecordingError) -> UInt64? {
        try read { db in
            try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM frames WHERE stream = ?", arguments: [stream]).map(Self.seq)
        }
    }

    public func gaps(session: String, limit: Int) throws(RecordingError) -> [ClosedRange<UInt64>] {
        try read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT prev + 1 AS g0, seq - 1 AS g1 FROM (
                        SELECT seq, LAG(seq) OVER (ORDER BY seq) AS prev FROM frames WHERE session = ?)
                    WHERE prev IS NOT NULL AND seq > prev + 1 LIMIT ?
                    """, arguments: [session, limit])
            return rows.map { Self.seq($0["g0"])...Self.seq($0["g1"]) }
        }
    }

    public func setHold(_ id: String, _ hold: Bool) throws(RecordingError) {
        let changed = try write { db -> Int in
            try db.execute(sql: "UPDATE sessions SET hold = ? WHERE id = ?", arguments: [hold ? 1 : 0, id])
            return db.changesCount
        }
        if changed == 0 { throw .notFound("no session \(id)") }
    }

    public func deleteSession(_ id: String) throws(RecordingError) {
        try write { db in
            try db.execute(sql: "DELETE FROM frames WHERE session = ?", arguments: [id])
            try db.execute(sql: "DELETE FROM sessions WHERE id = ?", arguments: [id])
        }
    }

    public func purgeCandidates(limit: Int) throws(RecordingError) -> [SessionRow] {
        try read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM sessions WHERE ended_us IS NOT NULL AND hold = 0 ORDER BY ended_us LIMIT ?", arguments: [limit]
            ).map(Self.sessionRow)
        }
    }

    public func totalBytes() throws(RecordingError) -> Int64 {
        try read { db in try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(bytes), 0) FROM sessions") ?? 0 }
    }

    public func check() throws(RecordingError) {
        try write { db in try db.execute(sql: "PRAGMA user_version = 0") }
    }
}
