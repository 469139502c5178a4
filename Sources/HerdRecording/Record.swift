import CHerdCRC
import Crypto

/// One record as stored: `u32 length | u32 CRC32C(body) | body`, little-endian, where the body is
///
///     u8 kind | u8 version | u16 flags (0) | u64 index | [32] previous hash | [32] hash |
///     u32 meta length | meta (JSON) | u16 blob count | (u32 length | bytes) per blob
///
/// `hash` = SHA-256(kind, version, flags, index, previous hash, everything after `hash`): the chain of
/// one session. The CRC finds torn writes and bit rot cheaply; the hash chain finds tampering.
public struct Record: Sendable, Hashable {
    public var kind: UInt8
    public var version: UInt8
    /// Position in the session's chain, from 0.
    public var index: UInt64
    public var previousHash: [UInt8]
    public var hash: [UInt8]
    /// Server-written JSON describing the record.
    public var meta: [UInt8]
    /// Byte strings kept exactly (image, header JSON, signature).
    public var blobs: [[UInt8]]

    public var knownKind: RecordKind? { RecordKind(rawValue: kind) }

    /// Framing overhead before the body.
    public static let frameHeaderSize = 8
    static let fixedBodySize = 76
    /// No record is larger: a guard for readers of damaged files.
    public static let maxBodySize = 128 * 1024 * 1024

    /// The chain's first previous hash for a session: binds the chain to the session id.
    public static func genesis(session: String) -> [UInt8] {
        Array(SHA256.hash(data: Array("herdlens-session:\(session)".utf8)))
    }

    /// Encodes a record; returns the framed bytes and the record's hash.
    public static func encode(kind: UInt8, version: UInt8 = 1, index: UInt64, previousHash: [UInt8], meta: [UInt8], blobs: [[UInt8]])
        -> (bytes: [UInt8], hash: [UInt8])
    {
        precondition(previousHash.count == 32)
        let bodySize = fixedBodySize + 4 + meta.count + 2 + blobs.reduce(0) { $0 + 4 + $1.count }
        var out = [UInt8]()
        out.reserveCapacity(frameHeaderSize + bodySize)
        out.appendLE(UInt32(bodySize))
        out.appendLE(UInt32(0))  // CRC, filled below
        out.append(kind)
        out.append(version)
        out.appendLE(UInt16(0))
        out.appendLE(index)
        out.append(contentsOf: previousHash)
        let hashAt = out.count
        out.append(contentsOf: [UInt8](repeating: 0, count: 32))
        out.appendLE(UInt32(meta.count))
        out.append(contentsOf: meta)
        out.appendLE(UInt16(blobs.count))
        for blob in blobs {
            out.appendLE(UInt32(blob.count))
            out.append(contentsOf: blob)
        }
        let digest = out.withUnsafeBufferPointer { chainHash(body: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer($0)[frameHeaderSize...])) }
        out.replaceSubrange(hashAt..<hashAt + 32, with: digest)
        let crc = out.withUnsafeBufferPointer { herdcrc_crc32c(0, $0.baseAddress! + frameHeaderSize, bodySize) }
        out.replaceSubrange(4..<8, with: withUnsafeBytes(of: crc.littleEndian, Array.init))
        return (out, digest)
    }

    /// The chain hash of a record from its parts, without building it (bundle verification rebuilds
    /// records from the files of an export).
    public static func chainHash(kind: UInt8, version: UInt8, index: UInt64, previousHash: [UInt8], meta: [UInt8], blobs: [[UInt8]]) -> [UInt8] {
        var head = [UInt8]()
        head.append(kind)
        head.append(version)
        head.appendLE(UInt16(0))
        head.appendLE(index)
        head.append(contentsOf: previousHash)
        var hasher = SHA256()
        hasher.update(data: head)
        var lengths = [UInt8]()
        lengths.appendLE(UInt32(meta.count))
        hasher.update(data: lengths)
        hasher.update(data: meta)
        var count = [UInt8]()
        count.appendLE(UInt16(blobs.count))
        hasher.update(data: count)
        for blob in blobs {
            var n = [UInt8]()
            n.appendLE(UInt32(blob.count))
            hasher.update(data: n)
            hasher.update(data: blob)
        }
        return Array(hasher.finalize())
    }

    /// SHA-256 over a body, skipping its stored hash field.
    static func chainHash(body: UnsafeRawBufferPointer) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: body[0..<44]))
        hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: body[76...]))
        return Array(hasher.finalize())
    }

    /// The outcome of reading one record at an offset.
    public enum ReadResult {
        case record(Record, size: Int)
        /// Fewer bytes than the frame says: a torn tail (or a truncated file).
        case truncated
        /// The CRC or the structure does not hold.
        case corrupt(String)
    }

    /// Reads the record starting at `offset` of `bytes`. `verifyHash` recomputes the chain hash and
    /// reports a mismatch as corrupt.
    public static func read(_ bytes: UnsafeRawBufferPointer, at offset: Int, verifyHash: Bool) -> ReadResult {
        read(bytes, at: offset, verifyHash: verifyHash, keepBlobs: { _ in true })
    }

    /// As `read`, copying the blobs only of the kinds `keepBlobs` names (verify needs a checkpoint's
    /// manifest and signature, not a frame's image: it hashes the image where it lies).
    static func read(_ bytes: UnsafeRawBufferPointer, at offset: Int, verifyHash: Bool, keepBlobs: (UInt8) -> Bool) -> ReadResult {
        guard bytes.count - offset >= frameHeaderSize else { return .truncated }
        let length = Int(bytes.loadLE(UInt32.self, at: offset))
        let crc = bytes.loadLE(UInt32.self, at: offset + 4)
        guard length >= fixedBodySize + 6, length <= maxBodySize else { return .corrupt("record length \(length) out of range") }
        guard bytes.count - offset - frameHeaderSize >= length else { return .truncated }
        let body = UnsafeRawBufferPointer(rebasing: bytes[(offset + frameHeaderSize)..<(offset + frameHeaderSize + length)])
        // With the hash checked, the CRC adds nothing (every body byte but the stored hash is hashed, and
        // a changed stored hash no longer matches): verify skips it and runs at hashing speed.
        if !verifyHash, herdcrc_crc32c(0, body.baseAddress!.assumingMemoryBound(to: UInt8.self), length) != crc {
            return .corrupt("CRC32C mismatch")
        }
        let metaLength = Int(body.loadLE(UInt32.self, at: fixedBodySize))
        var cursor = fixedBodySize + 4
        guard metaLength <= length - cursor - 2 else { return .corrupt("meta length past the record") }
        let meta = Array(body[cursor..<cursor + metaLength])
        cursor += metaLength
        let blobCount = Int(body.loadLE(UInt16.self, at: cursor))
        cursor += 2
        var blobs: [[UInt8]] = []
        let keep = keepBlobs(body[0])
        if keep { blobs.reserveCapacity(blobCount) }
        for _ in 0..<blobCount {
            guard cursor + 4 <= length else { return .corrupt("blob header past the record") }
            let n = Int(body.loadLE(UInt32.self, at: cursor))
            cursor += 4
            guard n <= length - cursor else { return .corrupt("blob past the record") }
            if keep { blobs.append(Array(body[cursor..<cursor + n])) }
            cursor += n
        }
        guard cursor == length else { return .corrupt("\(length - cursor) stray bytes after the last blob") }
        let stored = Array(body[44..<76])
        if verifyHash, chainHash(body: body) != stored { return .corrupt("content does not match its hash") }
        let record = Record(
            kind: body[0], version: body[1], index: body.loadLE(UInt64.self, at: 4), previousHash: Array(body[12..<44]), hash: stored,
            meta: meta, blobs: blobs)
        return .record(record, size: frameHeaderSize + length)
    }
}

extension [UInt8] {
    mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}

extension UnsafeRawBufferPointer {
    func loadLE<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) -> T {
        T(littleEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}
