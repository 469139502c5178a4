import Crypto
import Foundation
import HerdRecording

/// The outcome of checking an evidence bundle offline.
public struct BundleReport: Sendable, Codable {
    public var ok: Bool
    /// The key the bundle was checked with, and whether the caller pinned it (a key found inside the
    /// bundle proves nothing by itself).
    public var keyId: String?
    public var pinned: Bool
    public var sessions: [String]
    public var entries: Int
    public var frames: Int
    public var records: Int
    public var checkpoints: Int
    /// The first bad entry (`sessions/…/frames/000000000012.jpg`, `bundle.json`, …) and why.
    public var badEntry: String?
    public var problem: String?
}

/// How the caller pins the signing key: its public half, or its fingerprint (the 16-hex key id or the
/// full SHA-256 of the raw public key).
public enum PinnedKey: Sendable {
    case publicKey([UInt8])
    case fingerprint(String)
    case none
}

/// Checks a bundle with no data directory: the signed listing (`bundle.sig` over `bundle.json`, by the
/// pinned key), every entry's size and SHA-256 against it (and no entry beyond it), then each session's
/// chain rebuilt from `chain.jsonl` and the entries it names: every record's hash, links and numbers,
/// every checkpoint's signature and figures, and the final checkpoint of a closed session.
public struct BundleVerifier {
    public init() {}

    private struct Listing: Decodable {
        struct Entry: Decodable {
            var name: String
            var size: Int64
            var sha256: String
        }

        var format: String
        var keyId: String
        var publicKey: String
        var sessions: [String]
        var entries: [Entry]
    }

    public func verify(path: String, pinned: PinnedKey) throws -> BundleReport {
        let zip = try ZipReader(path: path)
        var report = BundleReport(ok: false, keyId: nil, pinned: false, sessions: [], entries: zip.entries.count, frames: 0, records: 0, checkpoints: 0)
        func fail(_ entry: String, _ problem: String) -> BundleReport {
            report.badEntry = entry
            report.problem = problem
            report.ok = false
            return report
        }
        guard let listingBytes = try zip.contents("bundle.json", limit: 1 << 30) else { return fail("bundle.json", "missing: not a HerdLens bundle") }
        guard let signature = try zip.contents("bundle.sig", limit: 1024) else { return fail("bundle.sig", "missing") }
        guard let listing = try? JSONDecoder().decode(Listing.self, from: Data(listingBytes)), listing.format == BundleExporter.format else {
            return fail("bundle.json", "not a \(BundleExporter.format) listing")
        }
        // The key: pinned by the caller, or (unpinned) the one inside.
        let inside = (try zip.contents("recording.pub", limit: 1024)).flatMap { TrustedKeys.parsePublicKey(Data($0)) }
        let key: Curve25519.Signing.PublicKey
        switch pinned {
        case .publicKey(let raw):
            guard let k = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else { return fail("--key", "not an Ed25519 public key") }
            key = k
            report.pinned = true
        case .fingerprint(let fp):
            guard let k = inside else { return fail("recording.pub", "missing or not an Ed25519 public key") }
            let raw = Array(k.rawRepresentation)
            let full = Hex.encode(SHA256.hash(data: raw))
            let wanted = fp.lowercased().replacingOccurrences(of: ":", with: "")
            guard wanted.count >= 16, full.hasPrefix(wanted) else {
                return fail("recording.pub", "its fingerprint \(RecordingKey.keyId(publicKey: raw)) is not the pinned \(fp)")
            }
            key = k
            report.pinned = true
        case .none:
            guard let k = inside else { return fail("recording.pub", "missing or not an Ed25519 public key") }
            key = k
        }
        let keyId = RecordingKey.keyId(publicKey: Array(key.rawRepresentation))
        report.keyId = keyId
        let digest = Array(SHA256.hash(data: listingBytes))
        guard key.isValidSignature(signature, for: BundleExporter.signedMessage(bundleSHA256: digest)) else {
            return fail("bundle.json", "bundle.sig does not sign it with key \(keyId)" + (report.pinned ? " (the pinned key)" : ""))
        }
        report.sessions = listing.sessions
        // Every entry as listed (present, of its size), and nothing else.
        var expectedSHA: [String: String] = [:]
        for item in listing.entries {
            expectedSHA[item.name] = item.sha256
            guard let i = zip.byName[item.name] else { return fail(item.name, "listed in bundle.json but not in the archive") }
            guard zip.entries[i].size == item.size else { return fail(item.name, "\(zip.entries[i].size) bytes where bundle.json says \(item.size)") }
        }
        if let stray = zip.entries.first(where: { expectedSHA[$0.name] == nil && $0.name != "bundle.json" && $0.name != "bundle.sig" }) {
            return fail(stray.name, "not listed in bundle.json: added after export")
        }
        // Each entry is read once: those a chain names as it checks the chain, the rest after; each is
        // hashed as read and compared with the listing.
        var hashed = Set<String>()
        func streamChecked(_ name: String, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
            guard let i = zip.byName[name], let wanted = expectedSHA[name] else { throw BadEntry(name, "named by a record but not a listed entry") }
            var hasher = SHA256()
            try zip.stream(zip.entries[i]) { chunk in
                hasher.update(bufferPointer: chunk)
                try body(chunk)
            }
            guard Hex.encode(hasher.finalize()) == wanted else { throw BadEntry(name, "its SHA-256 differs from bundle.json's: the entry was altered") }
            hashed.insert(name)
        }
        func contentsChecked(_ name: String, limit: Int) throws -> [UInt8] {
            guard let i = zip.byName[name], zip.entries[i].size <= Int64(limit) else { throw BadEntry(name, "missing, or larger than \(limit) bytes") }
            var bytes = [UInt8]()
            bytes.reserveCapacity(Int(zip.entries[i].size))
            try streamChecked(name) { bytes.append(contentsOf: $0) }
            return bytes
        }
        do {
            let trusted = TrustedKeys([key])
            for session in listing.sessions {
                let prefix = "sessions/\(session)/"
                struct Closed: Decodable { var endedAt: String? }
                let closed = (try? JSONDecoder().decode(Closed.self, from: Data(try contentsChecked(prefix + "session.json", limit: 1 << 20))))?.endedAt != nil
                var chain = ChainCheck(session: session, prefix: prefix, keyId: keyId, trusted: trusted)
                // chain.jsonl line by line as it streams: memory stays flat whatever the session's length.
                var partial = [UInt8]()
                try streamChecked(prefix + "chain.jsonl") { chunk in
                    var start = chunk.startIndex
                    for i in chunk.indices where chunk[i] == UInt8(ascii: "\n") {
                        partial.append(contentsOf: chunk[start..<i])
                        if !partial.isEmpty { try chain.check(line: partial) { try contentsChecked($0, limit: Record.maxBodySize) } }
                        partial.removeAll(keepingCapacity: true)
                        start = i + 1
                    }
                    partial.append(contentsOf: chunk[start...])
                }
                if !partial.isEmpty { try chain.check(line: partial) { try contentsChecked($0, limit: Record.maxBodySize) } }
                if closed, !chain.lastFinal { throw BadEntry(prefix + "chain.jsonl", "the session ends after record \(chain.expected) without its final signed checkpoint") }
                if chain.expected == 0 { throw BadEntry(prefix + "chain.jsonl", "no records") }
                report.frames += chain.frames
                report.records += Int(chain.expected)
                report.checkpoints += chain.checkpoints
            }
            for item in listing.entries where !hashed.contains(item.name) { try streamChecked(item.name) { _ in } }
        } catch let bad as BadEntry {
            return fail(bad.entry, bad.problem)
        }
        report.ok = true
        return report
    }
}

/// The first bad entry found, and why (thrown inside verification, reported in the `BundleReport`).
private struct BadEntry: Error {
    var entry: String
    var problem: String
    init(_ entry: String, _ problem: String) {
        self.entry = entry
        self.problem = problem
    }
}

/// One session's chain rebuilt from `chain.jsonl`, a line at a time: record numbers, links, each
/// record's hash over its meta and blobs, checkpoint signatures and the figures they sign.
private struct ChainCheck {
    struct Line: Decodable {
        struct Blob: Decodable {
            var entry: String?
            var base64: String?
        }

        var index: UInt64
        var kind: UInt8
        var version: UInt8
        var previous: String
        var hash: String
        var meta: String
        var blobs: [Blob]
    }

    let session: String
    let prefix: String
    let keyId: String
    let trusted: TrustedKeys
    var head: [UInt8]
    var expected: UInt64 = 0
    var frames = 0
    var checkpoints = 0
    var lastFinal = false
    var lineNumber = 0

    init(session: String, prefix: String, keyId: String, trusted: TrustedKeys) {
        self.session = session
        self.prefix = prefix
        self.keyId = keyId
        self.trusted = trusted
        head = Record.genesis(session: session)
    }

    /// Checks the next line; `entry` reads (and checks against the listing) an entry a blob names.
    mutating func check(line bytes: [UInt8], entry: (String) throws -> [UInt8]) throws {
        lineNumber += 1
        let here = prefix + "chain.jsonl line \(lineNumber)"
        guard let line = try? JSONDecoder().decode(Line.self, from: Data(bytes)) else { throw BadEntry(here, "not a chain record") }
        guard line.index == expected else {
            throw BadEntry(here, line.index > expected ? "record \(expected) is missing (found \(line.index))" : "record \(line.index) is out of order")
        }
        guard Hex.encode(head) == line.previous else { throw BadEntry(here, "record \(line.index) does not chain to the record before it") }
        var blobs: [[UInt8]] = []
        for blob in line.blobs {
            if let name = blob.entry {
                blobs.append(try entry(name))
            } else if let text = blob.base64, let data = Data(base64Encoded: text) {
                blobs.append(Array(data))
            } else {
                throw BadEntry(here, "a blob is neither an entry nor base64")
            }
        }
        let hash = Record.chainHash(kind: line.kind, version: line.version, index: line.index, previousHash: head, meta: Array(line.meta.utf8), blobs: blobs)
        guard Hex.encode(hash) == line.hash else {
            throw BadEntry(line.blobs.compactMap(\.entry).first ?? here, "record \(line.index)'s content does not match its hash")
        }
        if RecordKind(rawValue: line.kind) == .checkpoint {
            guard blobs.count == 2, let manifest = try? JSONDecoder().decode(Manifest.self, from: Data(blobs[0])) else {
                throw BadEntry(here, "checkpoint \(line.index) is not a manifest and signature")
            }
            switch trusted.isValid(signature: blobs[1], for: blobs[0], keyId: manifest.keyId) {
            case nil: throw BadEntry(line.blobs[1].entry ?? here, "checkpoint \(line.index) is signed by key \(manifest.keyId), not \(keyId)")
            case false?: throw BadEntry(line.blobs[1].entry ?? here, "checkpoint \(line.index): the signature does not match")
            case true?: break
            }
            guard manifest.session == session, manifest.records == expected, manifest.head == Hex.encode(head), manifest.frames == frames else {
                throw BadEntry(line.blobs[0].entry ?? here, "checkpoint \(line.index) signs other figures than the chain holds")
            }
            checkpoints += 1
            lastFinal = manifest.final
        } else {
            lastFinal = false
        }
        if RecordKind(rawValue: line.kind) == .frame { frames += 1 }
        head = hash
        expected += 1
    }
}
