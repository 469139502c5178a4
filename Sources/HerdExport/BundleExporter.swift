import Crypto
import Foundation
import HerdProtocol
import HerdRecording

/// What an export wrote.
public struct ExportSummary: Sendable, Codable {
    public var format: String
    public var sessions: [String]
    public var frames: Int
    public var records: Int
    public var entries: Int
    public var bytes: Int64
}

/// The evidence bundle: a ZIP an auditor takes away and checks on another machine with
/// `herdlens verify --key … BUNDLE.zip`. Per session (`sessions/<id>/`): every original frame and its
/// header bytes as received (`frames/<seq>.jpg|png`, `frames/<seq>.json`), the chain of records
/// (`chain.jsonl`: each record's number, kind, hashes and meta, its blobs by entry name), the signed
/// manifests (`manifests/<record>.json` and `.sig`), readable views (`annotations.jsonl`,
/// `sensors.jsonl`, `events.jsonl`) and `session.json`. At the top: the sessions' audit entries
/// (`audit.jsonl`), the public key (`recording.pub`), `README.txt`, and `bundle.json` (every entry's size
/// and SHA-256) with `bundle.sig` (Ed25519 over the SHA-256 of `bundle.json`).
///
/// Streamed: one pass over each session's segments, frames written as read; the views, the entry list
/// and the central directory go through unlinked temporary files, so memory stays flat.
public struct BundleExporter {
    public let reader: SessionReader
    public let key: RecordingKey
    public let temporaryDirectory: String

    public static let format = "herdlens-bundle/1"

    public init(reader: SessionReader, key: RecordingKey, temporaryDirectory: String) {
        self.reader = reader
        self.key = key
        self.temporaryDirectory = temporaryDirectory
    }

    private struct ListedEntry: Encodable {
        var name: String
        var size: Int64
        var sha256: String
    }

    private struct BlobRef: Encodable {
        var entry: String?
        var base64: String?
    }

    private struct ChainLine: Encodable {
        var index: UInt64
        var kind: UInt8
        var kindName: String
        var version: UInt8
        var previous: String
        var hash: String
        /// The record's meta JSON, exactly (as a string).
        var meta: String
        var blobs: [BlobRef]
    }

    public func export(sessions: [SessionRow], audit: [AuditEntry], exportedBy: String, to sink: ExportSink, cancelled: () -> Bool = { false }) throws -> ExportSummary {
        let archive = try ZipWriter(sink: sink, temporaryDirectory: temporaryDirectory)
        let listing = try SpillFile(directory: temporaryDirectory)
        var listed = 0
        func list(_ name: String, size: Int64, sha256: [UInt8]) throws {
            if listed > 0 { try listing.append(Array(",\n".utf8)) }
            try listing.append(WireJSON.encode(ListedEntry(name: name, size: size, sha256: Hex.encode(sha256))))
            listed += 1
        }
        func add(_ name: String, _ bytes: [UInt8]) throws {
            try archive.add(name, bytes)
            try list(name, size: Int64(bytes.count), sha256: Array(SHA256.hash(data: bytes)))
        }
        func add(_ name: String, spill: SpillFile) throws {
            var hasher = SHA256()
            try spill.read { hasher.update(bufferPointer: $0) }
            try archive.add(name, spill: spill)
            try list(name, size: spill.size, sha256: Array(hasher.finalize()))
        }
        var summary = ExportSummary(format: "bundle", sessions: sessions.map(\.id), frames: 0, records: 0, entries: 0, bytes: 0)
        try add("README.txt", Array(Self.readme(sessions: sessions, keyId: key.keyId).utf8))
        try add("recording.pub", Array((key.publicKeyBase64 + "\n").utf8))
        for session in sessions {
            let prefix = "sessions/\(session.id)/"
            let chain = try SpillFile(directory: temporaryDirectory)
            let annotations = try SpillFile(directory: temporaryDirectory)
            let sensors = try SpillFile(directory: temporaryDirectory)
            let events = try SpillFile(directory: temporaryDirectory)
            let reader = self.reader
            try ReadAhead.run(limitBytes: Self.readAheadBytes) { emit in
                try reader.records(of: session) { try emit($0, $0.meta.count + $0.blobs.reduce(0) { $0 + $1.count }) }
            } consume: { record in
                if cancelled() { throw ExportError.cancelled() }
                var blobs: [BlobRef] = []
                let kind = record.knownKind
                switch kind {
                case .frame:
                    let meta = try? JSONDecoder().decode(FrameMeta.self, from: Data(record.meta))
                    let seq = meta.map { String(format: "%012llu", $0.seq) } ?? "record-\(record.index)"
                    let ext = meta?.format.map { $0 == "jpeg" ? "jpg" : $0 } ?? "bin"
                    let names = [prefix + "frames/\(seq).json", prefix + "frames/\(seq).\(ext)"]
                    for (name, blob) in zip(names, record.blobs) {
                        try add(name, blob)
                        blobs.append(BlobRef(entry: name))
                    }
                    for blob in record.blobs.dropFirst(2) { blobs.append(BlobRef(base64: Data(blob).base64EncodedString())) }
                    summary.frames += 1
                case .checkpoint:
                    let base = prefix + String(format: "manifests/%08llu", record.index)
                    for (name, blob) in zip([base + ".json", base + ".sig"], record.blobs) {
                        try add(name, blob)
                        blobs.append(BlobRef(entry: name))
                    }
                    for blob in record.blobs.dropFirst(2) { blobs.append(BlobRef(base64: Data(blob).base64EncodedString())) }
                default:
                    blobs = record.blobs.map { BlobRef(base64: Data($0).base64EncodedString()) }
                }
                switch kind {
                case .annotations:
                    try annotations.append(line: record.meta)
                case .telemetry:
                    var line = Array(#"{"index":\#(record.index),"meta":"#.utf8) + record.meta + Array(#","message":"#.utf8)
                    line += (record.blobs.first.flatMap { (try? StrictJSON.check($0)) != nil ? $0 : nil } ?? Array("null".utf8)) + [UInt8(ascii: "}")]
                    try sensors.append(line: line)
                case .sessionOpened, .event, .refusal, .sessionClosed, .checkpoint:
                    let name = kind?.name ?? "unknown"
                    try events.append(line: Array(#"{"index":\#(record.index),"kind":"\#(name)","meta":"#.utf8) + record.meta + [UInt8(ascii: "}")])
                default:
                    break
                }
                try chain.append(line: WireJSON.encode(ChainLine(
                    index: record.index, kind: record.kind, kindName: kind?.name ?? "unknown", version: record.version,
                    previous: Hex.encode(record.previousHash), hash: Hex.encode(record.hash), meta: String(decoding: record.meta, as: UTF8.self),
                    blobs: blobs)))
                summary.records += 1
            }
            try add(prefix + "chain.jsonl", spill: chain)
            try add(prefix + "annotations.jsonl", spill: annotations)
            try add(prefix + "sensors.jsonl", spill: sensors)
            try add(prefix + "events.jsonl", spill: events)
            try add(prefix + "session.json", WireJSON.encode(BundleSession(session)))
        }
        let auditLines = try SpillFile(directory: temporaryDirectory)
        for entry in audit { try auditLines.append(line: WireJSON.encode(entry)) }
        try add("audit.jsonl", spill: auditLines)
        // The signed listing, last.
        let bundle = try SpillFile(directory: temporaryDirectory)
        let head = BundleHead(
            format: Self.format, createdAt: Timestamp.now().text, exportedBy: exportedBy, keyId: key.keyId, publicKey: key.publicKeyBase64,
            sessions: sessions.map(\.id))
        var headJSON = WireJSON.encode(head)
        headJSON.removeLast()  // the closing brace: the entries follow
        try bundle.append(headJSON + Array(#","entries":["#.utf8) + [UInt8(ascii: "\n")])
        try listing.read { try bundle.append(UnsafeRawBufferPointer($0)) }
        try bundle.append(Array("\n]}\n".utf8))
        var hasher = SHA256()
        try bundle.read { hasher.update(bufferPointer: $0) }
        let digest = Array(hasher.finalize())
        try archive.add("bundle.json", spill: bundle)
        try archive.add("bundle.sig", Array(try key.sign(Self.signedMessage(bundleSHA256: digest))))
        try archive.finish()
        summary.entries = listed + 2
        summary.bytes = archive.bytesWritten
        return summary
    }

    /// What `bundle.sig` signs: a fixed prefix and the SHA-256 of `bundle.json`.
    /// Records read ahead of the hashing and writing (a few hundred frames).
    static let readAheadBytes = 32 << 20

    public static func signedMessage(bundleSHA256: [UInt8]) -> [UInt8] { Array("herdlens-bundle/1\n".utf8) + bundleSHA256 }

    static func readme(sessions: [SessionRow], keyId: String) -> String {
        """
        HerdLens evidence bundle (\(format))

        Sessions: \(sessions.map { "\($0.id) (stream \($0.stream), \($0.frames) frames)" }.joined(separator: ", "))
        Signing key id: \(keyId)

        To verify on any machine, with the recording key's public half obtained from the operator
        independently of this file (`herdlens key export` on the server):

            herdlens verify --key recording.pub BUNDLE.zip
            herdlens verify --fingerprint \(keyId) BUNDLE.zip

        Exit status 0: every entry matches the signed listing (bundle.json, bundle.sig), every record's
        hash and chain link holds, every checkpoint is signed by the pinned key. 1: tampered or
        incomplete (the first bad entry is named). 4: intact, but checked only against the key inside
        the bundle (not pinned: a key inside a bundle proves nothing by itself).

        Layout: sessions/<id>/frames/<seq>.jpg|png are the original frames exactly as received, with
        <seq>.json the device's header bytes; chain.jsonl lists every record in chain order (number,
        kind, previous hash, hash, meta, blobs by entry); manifests/ holds the signed checkpoints;
        annotations.jsonl, sensors.jsonl, events.jsonl are readable views; audit.jsonl is who
        watched, replayed or exported these sessions.

        """
    }
}

/// The head of `bundle.json` (its `entries` follow).
struct BundleHead: Codable {
    var format: String
    var createdAt: String
    var exportedBy: String
    var keyId: String
    var publicKey: String
    var sessions: [String]
}

/// `sessions/<id>/session.json`: what the index knew of the session at export.
struct BundleSession: Codable {
    var id: String
    var stream: String
    var startedAt: String
    var endedAt: String?
    var endReason: String?
    var consignment: Consignment?
    var frames: Int
    var records: UInt64
    var head: String
    var firstSeq: UInt64?
    var lastSeq: UInt64?

    init(_ row: SessionRow) {
        id = row.id
        stream = row.stream
        startedAt = Micros.text(row.startedAtMicros)
        endedAt = row.endedAtMicros.map(Micros.text)
        endReason = row.endReason
        consignment = row.consignment
        frames = row.frames
        records = row.records
        head = row.head
        firstSeq = row.minSeq
        lastSeq = row.maxSeq
    }
}
