import Foundation
import HerdProtocol

/// One recorded frame read back: the record's meta, the header and image bytes exactly as received, and
/// the annotations recorded with it (when the pipeline drew any).
public struct StoredFrame: Sendable {
    public var meta: FrameMeta
    public var header: [UInt8]
    public var image: [UInt8]
    public var annotations: AnnotationsMeta?
}

/// Random access to recorded frames for replay and export: the index says where a frame's record lies,
/// and one `pread` of exactly that length (plus one for the annotations record written right after it)
/// brings it back, its CRC checked. Blocking: callers keep it off the cooperative pool.
public struct SessionReader: Sendable {
    public let directory: String
    public let index: any RecordingIndex

    public init(recordingsDirectory: String, index: any RecordingIndex) {
        directory = recordingsDirectory
        self.index = index
    }

    public func sessionDirectory(_ row: SessionRow) -> String { directory + "/" + row.stream + "/" + row.id }

    /// The session's frames in capture-time order (then seq): the replay timeline.
    public func timeline(session id: String) throws(RecordingError) -> [FrameRow] {
        try index.frames(session: id)
    }

    /// Reads the frame a row points at, and its annotations.
    public func read(_ frame: FrameRow, session: SessionRow) throws(RecordingError) -> StoredFrame {
        let path = sessionDirectory(session) + "/" + SegmentFile.name(frame.segment)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SegmentFile.errnoError("cannot open \(path)") }
        defer { close(fd) }
        let record = try Self.readRecord(fd, at: frame.offset, length: frame.length, path: path)
        guard record.knownKind == .frame, record.blobs.count == 2, let meta = Meta.decode(FrameMeta.self, record.meta), meta.seq == frame.seq else {
            throw .storage("\(path) at \(frame.offset) holds no frame record for seq \(frame.seq)")
        }
        var stored = StoredFrame(meta: meta, header: record.blobs[0], image: record.blobs[1], annotations: nil)
        // The annotations record follows its frame's in the same segment, when there is one: its framing
        // and kind byte are read first, so a frame without annotations costs no read of the next frame.
        let next = frame.offset + Int64(frame.length)
        let peek = Record.frameHeaderSize + 1
        var head = [UInt8](repeating: 0, count: peek)
        if head.withUnsafeMutableBytes({ pread(fd, $0.baseAddress, peek, off_t(next)) }) == peek,
            head[Record.frameHeaderSize] == RecordKind.annotations.rawValue
        {
            let length = head.withUnsafeBytes { Int($0.loadLE(UInt32.self, at: 0)) }
            if let following = try? Self.readRecord(fd, at: next, length: Record.frameHeaderSize + length, path: path),
                let annotations = Meta.decode(AnnotationsMeta.self, following.meta), annotations.seq == frame.seq
            {
                stored.annotations = annotations
            }
        }
        return stored
    }

    /// Every record of a session in chain order (an open session up to its last commit), blobs included
    /// unless `withBlobs` is false (a scan for events copies no frame bytes). Stops at the first
    /// unreadable record and throws.
    public func records(of session: SessionRow, withBlobs: Bool = true, _ body: (Record) throws -> Void) throws {
        var failure: (any Error)?
        let walker = SegmentWalker(directory: sessionDirectory(session), verifyHash: false, keepBlobs: { _ in withBlobs })
        let stop = try walker.walk(upTo: session.isOpen ? (session.segment, session.segmentOffset) : nil) { record, _, _, _ in
            do {
                try body(record)
                return true
            } catch {
                failure = error
                return false
            }
        }
        if let failure { throw failure }
        if let stop { throw RecordingError.storage("session \(session.id): reading stopped early: \(stop)") }
    }

    /// The session's first record: who opened it, with which software and renderer.
    public func sessionOpened(_ session: SessionRow) throws(RecordingError) -> SessionOpenedMeta? {
        let path = sessionDirectory(session) + "/" + SegmentFile.name(1)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SegmentFile.errnoError("cannot open \(path)") }
        defer { close(fd) }
        var head = [UInt8](repeating: 0, count: Record.frameHeaderSize)
        guard head.withUnsafeMutableBytes({ pread(fd, $0.baseAddress, Record.frameHeaderSize, off_t(SegmentFile.headerSize)) }) == Record.frameHeaderSize else { return nil }
        let length = head.withUnsafeBytes { Int($0.loadLE(UInt32.self, at: 0)) }
        let record = try Self.readRecord(fd, at: Int64(SegmentFile.headerSize), length: Record.frameHeaderSize + length, path: path)
        guard record.knownKind == .sessionOpened else { return nil }
        return Meta.decode(SessionOpenedMeta.self, record.meta)
    }

    static func readRecord(_ fd: Int32, at offset: Int64, length: Int, path: String) throws(RecordingError) -> Record {
        guard length >= Record.frameHeaderSize, length <= Record.maxBodySize + Record.frameHeaderSize else {
            throw .storage("\(path): record length \(length) out of range")
        }
        var bytes = [UInt8](repeating: 0, count: length)
        let got = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, length, off_t(offset)) }
        guard got == length else { throw .storage("\(path): short read at \(offset) (\(got) of \(length) bytes)") }
        let result = bytes.withUnsafeBytes { Record.read($0, at: 0, verifyHash: false) }
        switch result {
        case .record(let record, _): return record
        case .truncated: throw .storage("\(path): record at \(offset) is truncated")
        case .corrupt(let reason): throw .storage("\(path): record at \(offset): \(reason)")
        }
    }
}
