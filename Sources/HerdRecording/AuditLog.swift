import Foundation
import GRDB
import HerdProtocol

/// The chain of custody: an append-only, hash-chained log of who watched, replayed, exported, verified,
/// held or released what, signed in, or issued and revoked tokens. Records use the recordings' format
/// (kind `audit`, chain genesis of session id `audit`) in `data/audit/segment-*.hlr`, with signed
/// checkpoints; `data/audit/audit.sqlite` indexes them for queries. Never purged by retention.
///
/// Several processes append (the server, and command-line actions such as `herdlens export`): each
/// append takes an exclusive `flock` on `audit.lock`, reads the chain head from the index, first indexes
/// any records a crashed appender wrote past it (cutting a torn tail), then appends, fsyncs and commits.
public final class AuditLog: Sendable {
    public let directory: String
    private let key: RecordingKey
    private let dataDirectory: String
    private let pool: DatabasePool
    private let queue = DispatchQueue(label: "herdlens.audit")
    public static let session = "audit"
    static let segmentMaxBytes: Int64 = 64 * 1024 * 1024
    /// A checkpoint is signed when the last is older than this (and by `checkpoint()`).
    public let checkpointSeconds: Double

    private struct Chain {
        var records: UInt64
        var head: [UInt8]
        var segment: Int
        var offset: Int64
        var signedRecords: UInt64
        var signedAtMicros: Int64
    }

    public init(dataDirectory: String, key: RecordingKey, checkpointSeconds: Double = 60) throws(RecordingError) {
        self.dataDirectory = dataDirectory
        directory = dataDirectory + "/audit"
        self.key = key
        self.checkpointSeconds = checkpointSeconds
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
            var configuration = Configuration()
            configuration.busyMode = .timeout(10)
            pool = try DatabasePool(path: directory + "/audit.sqlite", configuration: configuration)
            var migrator = DatabaseMigrator()
            migrator.registerMigration("v1") { db in
                try db.execute(sql: """
                    CREATE TABLE entries (idx INTEGER PRIMARY KEY, at_us INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
                        stream TEXT, session TEXT, entry TEXT NOT NULL);
                    CREATE INDEX entries_at ON entries(at_us);
                    CREATE INDEX entries_session ON entries(session, idx);
                    CREATE INDEX entries_actor ON entries(actor, idx);
                    CREATE TABLE chain (id INTEGER PRIMARY KEY CHECK (id = 1), records INTEGER NOT NULL, head BLOB NOT NULL,
                        segment INTEGER NOT NULL, offset INTEGER NOT NULL, signed_records INTEGER NOT NULL, signed_us INTEGER NOT NULL);
                    """)
            }
            try migrator.migrate(pool)
        } catch {
            throw .storage("audit index \(directory): \(error)")
        }
    }

    // MARK: appending

    /// Appends one entry (durable on return) and returns it with its chain index. `sign` forces a
    /// checkpoint after it (command-line actions, which exit next).
    @discardableResult
    public func append(_ entry: AuditEntry, sign: Bool = false) throws(RecordingError) -> AuditEntry {
        try serially { () throws(RecordingError) in try locked { () throws(RecordingError) in try appendLocked(entry, sign: sign) } }
    }

    private func serially<T>(_ body: () throws(RecordingError) -> T) throws(RecordingError) -> T {
        let result: Result<T, RecordingError> = queue.sync { Result { () throws(RecordingError) in try body() } }
        return try result.get()
    }

    /// Appends off the caller's thread (the server's routes).
    public func record(_ entry: AuditEntry) async throws(RecordingError) {
        let result: Result<AuditEntry, RecordingError> = await withCheckedContinuation { c in
            queue.async { c.resume(returning: Result { () throws(RecordingError) in try self.locked { () throws(RecordingError) in try self.appendLocked(entry, sign: false) } }) }
        }
        _ = try result.get()
    }

    /// Signs a checkpoint over what is unsigned (the server calls it on a timer and at shutdown).
    public func checkpoint(force: Bool = true) throws(RecordingError) {
        try serially { () throws(RecordingError) in
            try locked { () throws(RecordingError) in
                var chain = try catchUp()
                guard chain.records > chain.signedRecords else { return }
                if !force, Double(Micros.now() - chain.signedAtMicros) / 1e6 < checkpointSeconds { return }
                let fd = try openSegment(&chain)
                defer { close(fd) }
                try writeCheckpoint(fd: fd, &chain)
                try store(chain, entries: [])
            }
        }
    }

    private func locked<T>(_ body: () throws(RecordingError) -> T) throws(RecordingError) -> T {
        let path = directory + "/audit.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw SegmentFile.errnoError("cannot open \(path)") }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw SegmentFile.errnoError("cannot lock \(path)") }
        }
        defer { flock(fd, LOCK_UN) }
        return try body()
    }

    private func appendLocked(_ entry: AuditEntry, sign: Bool) throws(RecordingError) -> AuditEntry {
        var chain = try catchUp()
        let fd = try openSegment(&chain)
        defer { close(fd) }
        var entry = entry
        entry.index = chain.records
        try write(fd: fd, &chain, kind: .audit, meta: Meta.encode(entry), blobs: [])
        let due = sign || Double(Micros.now() - chain.signedAtMicros) / 1e6 >= checkpointSeconds
        if due { try writeCheckpoint(fd: fd, &chain) }
        guard fdatasync(fd) == 0 else { throw SegmentFile.errnoError("cannot sync the audit log") }
        try store(chain, entries: [entry])
        return entry
    }

    private func write(fd: Int32, _ chain: inout Chain, kind: RecordKind, meta: [UInt8], blobs: [[UInt8]]) throws(RecordingError) {
        let (bytes, hash) = Record.encode(kind: kind.rawValue, index: chain.records, previousHash: chain.head, meta: meta, blobs: blobs)
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress! + done, bytes.count - done, off_t(chain.offset) + off_t(done)) }
            if n < 0 {
                if errno == EINTR { continue }
                let error = SegmentFile.errnoError("cannot write the audit log")
                _ = ftruncate(fd, off_t(chain.offset))
                throw errno == ENOSPC ? .storageFull("audit log: disk full") : error
            }
            done += n
        }
        chain.offset += Int64(bytes.count)
        chain.records += 1
        chain.head = hash
    }

    private func writeCheckpoint(fd: Int32, _ chain: inout Chain) throws(RecordingError) {
        let now = Micros.now()
        let manifest = Manifest(
            session: Self.session, stream: "", records: chain.records, head: Hex.encode(chain.head), frames: 0, firstCapturedAt: nil,
            lastCapturedAt: nil, startedAt: "", endedAt: nil, consignment: nil, keyId: key.keyId, signedAt: Micros.text(now), final: false,
            addendum: nil)
        let bytes = WireJSON.encode(manifest)
        let signature = try key.sign(bytes)
        try write(fd: fd, &chain, kind: .checkpoint, meta: Meta.encode(CheckpointMeta(keyId: key.keyId)), blobs: [bytes, signature])
        chain.signedRecords = chain.records
        chain.signedAtMicros = now
        guard fdatasync(fd) == 0 else { throw SegmentFile.errnoError("cannot sync the audit log") }
    }

    /// The segment to append to (a new one past the size limit), opened for writing.
    private func openSegment(_ chain: inout Chain) throws(RecordingError) -> Int32 {
        if chain.offset >= Self.segmentMaxBytes {
            chain.segment += 1
            chain.offset = Int64(SegmentFile.headerSize)
        }
        let path = directory + "/" + SegmentFile.name(chain.segment)
        var fd = open(path, O_WRONLY | O_CLOEXEC)
        if fd < 0, errno == ENOENT {
            fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
            guard fd >= 0 else { throw SegmentFile.errnoError("cannot create \(path)") }
            let header = SegmentFile.header(number: chain.segment)
            guard header.withUnsafeBytes({ pwrite(fd, $0.baseAddress, header.count, 0) }) == header.count, fsync(fd) == 0 else {
                close(fd)
                throw SegmentFile.errnoError("cannot write \(path)")
            }
            try SegmentFile.syncDirectory(directory)
        }
        guard fd >= 0 else { throw SegmentFile.errnoError("cannot open \(path)") }
        return fd
    }

    /// The chain as indexed, after indexing whatever a crashed appender wrote past it and cutting a torn tail.
    private func catchUp() throws(RecordingError) -> Chain {
        var chain = try loadChain()
        var found: [AuditEntry] = []
        var last = (segment: chain.segment, offset: chain.offset)
        var head = chain.head, records = chain.records
        var signed = (chain.signedRecords, chain.signedAtMicros)
        let walker = SegmentWalker(directory: directory, verifyHash: true)
        let stop = try walker.walk(from: (chain.segment, chain.offset)) { record, segment, offset, size in
            guard record.index == records, record.previousHash == head else { return false }
            if record.knownKind == .audit, var entry = Meta.decode(AuditEntry.self, record.meta) {
                entry.index = record.index
                found.append(entry)
            } else if record.knownKind == .checkpoint {
                signed = (record.index + 1, Micros.now())
            }
            head = record.hash
            records += 1
            last = (segment, offset + Int64(size))
            return true
        }
        // A torn or damaged tail past the last good record was never acknowledged: cut it (and a segment
        // created without its header, which the next append would otherwise write behind).
        if let stop { _ = SegmentFile.cut(stop, in: directory) }
        if records != chain.records {
            chain.records = records
            chain.head = head
            (chain.segment, chain.offset) = last
            (chain.signedRecords, chain.signedAtMicros) = signed
            try store(chain, entries: found)
        }
        return chain
    }

    private func loadChain() throws(RecordingError) -> Chain {
        do {
            let row = try pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM chain WHERE id = 1") }
            if let row {
                return Chain(
                    records: UInt64(row["records"] as Int64), head: [UInt8](row["head"] as Data), segment: row["segment"], offset: row["offset"],
                    signedRecords: UInt64(row["signed_records"] as Int64), signedAtMicros: row["signed_us"])
            }
        } catch {
            throw .storage("audit index: \(error)")
        }
        return Chain(records: 0, head: Record.genesis(session: Self.session), segment: 1, offset: Int64(SegmentFile.headerSize), signedRecords: 0, signedAtMicros: Micros.now())
    }

    private func store(_ chain: Chain, entries: [AuditEntry]) throws(RecordingError) {
        do {
            try pool.write { db in
                for e in entries {
                    let at = (try? Timestamp(parsing: e.at)).map(Micros.of) ?? 0
                    try db.execute(
                        sql: "INSERT OR REPLACE INTO entries (idx, at_us, actor, action, stream, session, entry) VALUES (?,?,?,?,?,?,?)",
                        arguments: [Int64(e.index ?? 0), at, e.actor, e.action, e.stream, e.session, String(decoding: WireJSON.encode(e), as: UTF8.self)])
                }
                try db.execute(
                    sql: """
                        INSERT INTO chain (id, records, head, segment, offset, signed_records, signed_us) VALUES (1,?,?,?,?,?,?)
                        ON CONFLICT(id) DO UPDATE SET records=excluded.records, head=excluded.head, segment=excluded.segment,
                            offset=excluded.offset, signed_records=excluded.signed_records, signed_us=excluded.signed_us
                        """,
                    arguments: [Int64(chain.records), Data(chain.head), chain.segment, chain.offset, Int64(chain.signedRecords), chain.signedAtMicros])
            }
        } catch {
            throw SQLiteRecordingIndex.classify(error)
        }
    }

    // MARK: reading

    /// Entries matching `query`, oldest first.
    public func entries(_ query: AuditQuery) throws(RecordingError) -> [AuditEntry] {
        var clauses: [String] = []
        var arguments: [any DatabaseValueConvertible] = []
        if let v = query.fromMicros { clauses.append("at_us >= ?"); arguments.append(v) }
        if let v = query.toMicros { clauses.append("at_us <= ?"); arguments.append(v) }
        if let v = query.actor { clauses.append("actor = ?"); arguments.append(v) }
        if let v = query.session { clauses.append("session = ?"); arguments.append(v) }
        if let v = query.action { clauses.append("action = ?"); arguments.append(v) }
        if let v = query.afterIndex { clauses.append("idx > ?"); arguments.append(Int64(v)) }
        let whereSQL = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        let sql = "SELECT entry FROM entries \(whereSQL) ORDER BY idx LIMIT \(max(1, min(query.limit, 5000)))"
        do {
            let texts = try pool.read { db in try String.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)) }
            return texts.compactMap { try? JSONDecoder().decode(AuditEntry.self, from: Data($0.utf8)) }
        } catch {
            throw .storage("audit index: \(error)")
        }
    }

    /// Every entry about these sessions (what an evidence bundle carries), in chain order.
    public func entries(sessions: [String]) throws(RecordingError) -> [AuditEntry] {
        var all: [AuditEntry] = []
        for session in sessions {
            var query = AuditQuery()
            query.session = session
            query.limit = 5000
            all += try entries(query)
        }
        return all.sorted { ($0.index ?? 0) < ($1.index ?? 0) }
    }

    /// Checks the whole chain from its segments: CRCs, hashes, links, record numbers, checkpoint
    /// signatures; and that it holds every record the index knows of (a cut tail is `truncated`).
    public func verify(trusted: TrustedKeys? = nil) throws(RecordingError) -> VerifyReport {
        let keys = trusted ?? TrustedKeys.load(dataDirectory: dataDirectory, current: key)
        let chain = try serially { () throws(RecordingError) in try loadChain() }
        var report = Verifier(trusted: keys).verify(directory: directory, session: Self.session, indexed: [], closed: false)
        if report.failure == nil, report.records < chain.records {
            report.failure = .init(
                problem: .truncated, record: report.records, segment: nil, offset: nil,
                detail: "the audit log holds \(report.records) records; the index knows of \(chain.records)")
            report.ok = false
        }
        if report.failure?.problem == .missing, report.records == 0, chain.records == 0 {
            report.failure = nil
            report.ok = true
        }
        return report
    }
}
