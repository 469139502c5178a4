/// One message between the server and a codec worker, either way: an operation, a request id, a small
/// JSON part (the operation's fields) and byte blobs (images), so images never pass through JSON.
///
/// Wire form, little-endian: `u32 length` of the rest, `u8 op`, `u64 id`, `u32 json length`, json,
/// `u32 blob count`, then per blob `u32 length` and its bytes. Lengths are checked against
/// `maximumLength` before anything is allocated.
struct WorkerMessage: Sendable {
    enum Op: UInt8, Sendable {
        /// Worker to server, once after start: its confinement (`WorkerHello`).
        case hello = 1
        /// Parse an image's header and keep the image under a handle (`OpenRequest` -> `OpenReply`).
        case open = 2
        /// Annotate, compose and build variants of a kept image (`RenderRequest` -> `RenderReply`).
        case render = 3
        /// Scale a JPEG down for a viewer (`ScaleRequest` -> `ScaleReply`).
        case scale = 5
        /// Try what confinement forbids (`ProbeRequest` -> `ProbeReply`).
        case probe = 6
        /// A request failed (`FailureReply`).
        case failure = 100
    }

    /// Largest message either side accepts: an 8 MB image plus its variants, with room to spare.
    static let maximumLength = 256 * 1024 * 1024

    var op: Op
    var id: UInt64
    var json: [UInt8]
    var blobs: [[UInt8]]

    init(op: Op, id: UInt64, json: [UInt8] = [], blobs: [[UInt8]] = []) {
        self.op = op
        self.id = id
        self.json = json
        self.blobs = blobs
    }

    func encoded() -> [UInt8] {
        let length = 1 + 8 + 4 + json.count + 4 + blobs.reduce(0) { $0 + 4 + $1.count }
        var out: [UInt8] = []
        out.reserveCapacity(4 + length)
        Self.append(UInt32(length), to: &out)
        out.append(op.rawValue)
        Self.append(id, to: &out)
        Self.append(UInt32(json.count), to: &out)
        out += json
        Self.append(UInt32(blobs.count), to: &out)
        for blob in blobs {
            Self.append(UInt32(blob.count), to: &out)
            out += blob
        }
        return out
    }

    /// The message in `body` (everything after the 4-byte length), or nil when it is malformed.
    static func decode(body: [UInt8]) -> WorkerMessage? {
        var reader = Reader(bytes: body)
        guard let rawOp = reader.byte(), let op = Op(rawValue: rawOp), let id = reader.u64(),
              let jsonLength = reader.u32(), let json = reader.bytes(Int(jsonLength)), let count = reader.u32(),
              count <= 64
        else { return nil }
        var blobs: [[UInt8]] = []
        for _ in 0..<count {
            guard let n = reader.u32(), let blob = reader.bytes(Int(n)) else { return nil }
            blobs.append(blob)
        }
        guard reader.atEnd else { return nil }
        return WorkerMessage(op: op, id: id, json: json, blobs: blobs)
    }

    /// The length prefix of a message, or nil when it is out of range.
    static func length(prefix: [UInt8]) -> Int? {
        guard prefix.count == 4 else { return nil }
        let n = Int(prefix[0]) | Int(prefix[1]) << 8 | Int(prefix[2]) << 16 | Int(prefix[3]) << 24
        return n >= 17 && n <= maximumLength ? n : nil
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out += $0 }
    }

    private struct Reader {
        let bytes: [UInt8]
        var offset = 0

        var atEnd: Bool { offset == bytes.count }

        mutating func byte() -> UInt8? {
            guard offset < bytes.count else { return nil }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func bytes(_ n: Int) -> [UInt8]? {
            guard n >= 0, n <= bytes.count - offset else { return nil }
            defer { offset += n }
            return Array(bytes[offset..<offset + n])
        }

        mutating func u32() -> UInt32? { integer() }
        mutating func u64() -> UInt64? { integer() }

        private mutating func integer<T: FixedWidthInteger>() -> T? {
            let size = MemoryLayout<T>.size
            guard size <= bytes.count - offset else { return nil }
            var value: T = 0
            for i in 0..<size { value |= T(bytes[offset + i]) << (8 * i) }
            offset += size
            return value
        }
    }
}
