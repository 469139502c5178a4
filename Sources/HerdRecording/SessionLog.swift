import Crypto
import Foundation
import HerdProtocol

/// One session's chain being written: the open segment file, the chain head, and what was appended since
/// the last group commit. Confined to its stream's queue (`StreamRecorder`); never shared.
final class SessionLog {
    let directory: String
    /// Live state (everything written) and the state of the last commit (everything durable).
    var row: SessionRow
    private(set) var committed: SessionRow
    private(set) var head: [UInt8]
    private(set) var committedHead: [UInt8]
    private var fd: Int32 = -1
    private(set) var offset: Int64
    var pendingFrames: [FrameRow] = []
    var waiters: [Durability] = []
    private(set) var segmentOpenedAt = ContinuousClock.now
    var lastAppendAt = ContinuousClock.now
    var lastCheckpointAt = ContinuousClock.now
    var recordsAtCheckpoint: UInt64
    /// Reopened after close to take late frames.
    let isAddendum: Bool
    /// Opened by a device's or an inspector's session message (kept open across pauses) rather than by
    /// a first frame (closed when idle).
    var isExplicit = false

    var isDirty: Bool { offset != committed.segmentOffset || row.segment != committed.segment || !waiters.isEmpty }
    /// The index lags behind what is durable.
    var needsIndex: Bool { !unindexed.isEmpty || indexedRow != committed }
    /// The row as the index last stored it.
    var indexedRow: SessionRow?
    var path: String { directory + "/" + SegmentFile.name(row.segment) }

    /// A new session: its directory (fsynced into its parent) and first segment.
    init(create row: SessionRow, directory: String) throws(RecordingError) {
        self.directory = directory
        self.row = row
        committed = row
        head = Record.genesis(session: row.id)
        committedHead = head
        offset = 0
        recordsAtCheckpoint = 0
        isAddendum = false
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .storage("cannot create \(directory): \(error)")
        }
        try SegmentFile.syncDirectory((directory as NSString).deletingLastPathComponent)
        try openSegment(row.segment)
        committed = self.row
    }

    /// An existing session continued in a new segment (after recovery, or for an addendum): the chain
    /// goes on from the index's committed head.
    init(resume row: SessionRow, directory: String, addendum: Bool) throws(RecordingError) {
        self.directory = directory
        self.row = row
        committed = row
        guard let headBytes = Hex.decode(row.head), headBytes.count == 32 else { throw .storage("session \(row.id): bad chain head in the index") }
        head = headBytes
        committedHead = headBytes
        offset = row.segmentOffset
        recordsAtCheckpoint = row.records
        isAddendum = addendum
        // After the last segment on disk: one may have been created (rotation) after the index last heard.
        try openSegment(max(row.segment, SegmentFile.numbers(in: directory).max() ?? 0) + 1)
        committed = self.row
    }

    deinit { if fd >= 0 { Foundation.close(fd) } }

    private func openSegment(_ number: Int) throws(RecordingError) {
        let path = directory + "/" + SegmentFile.name(number)
        let newFD = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
        guard newFD >= 0 else { throw SegmentFile.errnoError("cannot create \(path)") }
        let header = SegmentFile.header(number: number)
        do throws(RecordingError) {
            try Self.writeAll(newFD, header, at: 0, path: path)
            guard fsync(newFD) == 0 else { throw SegmentFile.errnoError("fsync of \(path)") }
            try SegmentFile.syncDirectory(directory)
        } catch {
            Foundation.close(newFD)
            unlink(path)
            throw error
        }
        if fd >= 0 { Foundation.close(fd) }
        fd = newFD
        row.segment = number
        offset = Int64(header.count)
        row.segmentOffset = offset
        segmentOpenedAt = .now
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8], at offset: Int64, path: String) throws(RecordingError) {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SegmentFile.errnoError("write to \(path)")
            }
            done += n
        }
    }

    /// Appends one record to the open segment (page cache; durable at the next `sync`). On a failed
    /// write the partial record is cut off again and nothing changes.
    @discardableResult
    func append(_ kind: RecordKind, meta: [UInt8], blobs: [[UInt8]] = []) throws(RecordingError) -> (offset: Int64, length: Int) {
        let (bytes, hash) = Record.encode(kind: kind.rawValue, index: row.records, previousHash: head, meta: meta, blobs: blobs)
        do throws(RecordingError) {
            try Self.writeAll(fd, bytes, at: offset, path: path)
        } catch {
            _ = ftruncate(fd, off_t(offset))
            throw error
        }
        let at = offset
        offset += Int64(bytes.count)
        head = hash
        row.records += 1
        row.head = Hex.encode(hash)
        row.segmentOffset = offset
        row.bytes += Int64(bytes.count)
        lastAppendAt = .now
        return (at, bytes.count)
    }

    /// The write position and chain state, to undo appends that belong together (a frame and its
    /// annotations) when a later one fails.
    struct Mark {
        var offset: Int64
        var head: [UInt8]
        var row: SessionRow
    }

    var mark: Mark { Mark(offset: offset, head: head, row: row) }

    func restore(_ mark: Mark) {
        _ = ftruncate(fd, off_t(mark.offset))
        offset = mark.offset
        head = mark.head
        row = mark.row
    }

    /// fsync of the open segment.
    func sync() throws(RecordingError) {
        guard fsync(fd) == 0 else { throw SegmentFile.errnoError("fsync of \(path)") }
    }

    /// Everything appended is durable (fsynced): the frames waiting on it may be acknowledged. Their
    /// index rows follow (`unindexed`), committed right after; recovery re-indexes them if that fails.
    func markCommitted() {
        committed = row
        committedHead = head
        unindexed.append(contentsOf: pendingFrames)
        pendingFrames.removeAll()
        let list = waiters
        waiters.removeAll()
        for w in list { w.resolve(nil) }
    }

    /// Durable frames not yet in the index.
    var unindexed: [FrameRow] = []

    /// A commit failed: cut the segment back to the last commit and fail the waiting frames.
    func rollBack(_ error: RecordingError) -> [FrameRow] {
        _ = ftruncate(fd, off_t(committed.segmentOffset))
        let lost = pendingFrames
        row = committed
        head = committedHead
        offset = committed.segmentOffset
        pendingFrames.removeAll()
        let list = waiters
        waiters.removeAll()
        for w in list { w.resolve(error) }
        return lost
    }

    /// A new segment once this one is large or old enough; called right after a commit.
    func rotateIfNeeded(maxBytes: Int64, maxAge: Duration) throws(RecordingError) {
        guard offset >= maxBytes || ContinuousClock.now - segmentOpenedAt >= maxAge, offset > Int64(SegmentFile.headerSize) else { return }
        try openSegment(row.segment + 1)
    }

    /// Appends a signed checkpoint of the chain so far.
    func checkpoint(key: RecordingKey, final: Bool, addendum: Int?) throws(RecordingError) {
        let manifest = Manifest(
            session: row.id, stream: row.stream, records: row.records, head: row.head, frames: row.frames,
            firstCapturedAt: row.firstCapturedMicros.map(Micros.text), lastCapturedAt: row.lastCapturedMicros.map(Micros.text),
            startedAt: Micros.text(row.startedAtMicros), endedAt: row.endedAtMicros.map(Micros.text), consignment: row.consignment,
            keyId: key.keyId, signedAt: Timestamp.now().text, final: final, addendum: addendum)
        let bytes = WireJSON.encode(manifest)
        let signature = try key.sign(bytes)
        try append(.checkpoint, meta: Meta.encode(CheckpointMeta(keyId: key.keyId)), blobs: [bytes, signature])
        row.manifest = String(decoding: bytes, as: UTF8.self)
        lastCheckpointAt = .now
        recordsAtCheckpoint = row.records
    }

    func close() {
        if fd >= 0 { Foundation.close(fd) }
        fd = -1
    }
}

/// Lower-case hex of bytes.
public enum Hex {
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func decode(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(chars.count / 2)
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: c - 48
            case 97...102: c - 87
            case 65...70: c - 55
            default: nil
            }
        }
        var i = 0
        while i < chars.count {
            guard let hi = nibble(chars[i]), let lo = nibble(chars[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }
}

/// Microseconds since 1970, the index's time unit.
public enum Micros {
    public static func of(_ t: Timestamp) -> Int64 { Int64((t.secondsSince1970 * 1_000_000).rounded()) }
    public static func now() -> Int64 { Int64((Date().timeIntervalSince1970 * 1_000_000).rounded()) }
    public static func text(_ micros: Int64) -> String {
        Timestamp(date: Date(timeIntervalSince1970: Double(micros) / 1_000_000)).text
    }
}
