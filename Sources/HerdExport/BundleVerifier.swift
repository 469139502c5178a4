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

    private struct ChainLine: Decodable {
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
        // Every entry as listed, and nothing else.
        var listed = Set<String>(["bundle.json", "bundle.sig"])
        for item in listing.entries {
            listed.insert(item.name)
            guard let i = zip.byName[item.name] else { return fail(item.name, "listed in bundle.json but not in the archive") }
            let entry = zip.entries[i]
            guard entry.size == item.size else { return fail(item.name, "\(entry.size) bytes where bundle.json says \(item.size)") }
            var hasher = SHA256()
            try zip.stream(entry) { hasher.update(bufferPointer: $0) }
            guard Hex.encode(hasher.finalize()) == item.sha256 else { return fail(item.name, "its SHA-256 differs from bundle.json's: the entry was altered") }
        }
        if let stray = zip.entries.first(where: { !listed.contains($0.name) }) { return fail(stray.name, "not listed in bundle.json: added after export") }
        // Each session's chain.
        let trusted = TrustedKeys([key])
        for session in listing.sessions {
            let prefix = "sessions/\(session)/"
            guard let chainBytes = try zip.contents(prefix + "chain.jsonl", limit: 1 << 31) else { return fail(prefix + "chain.jsonl", "missing") }
            struct Closed: Decodable { var endedAt: String? }
            let closed = (try zip.contents(prefix + "session.json", limit: 1 << 20)).flatMap { try? JSONDecoder().decode(Closed.self, from: Data($0)) }?.endedAt != nil
            var head = Record.genesis(session: session)
            var expected: UInt64 = 0
            var frames = 0
            var lastFinal = false
            var lineNumber = 0
            for lineBytes in chainBytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
                lineNumber += 1
                let here = prefix + "chain.jsonl line \(lineNumber)"
                guard let line = try? JSONDecoder().decode(ChainLine.self, from: Data(lineBytes)) else { return fail(here, "not a chain record") }
                guard line.index == expected else {
                    return fail(here, line.index > expected ? "record \(expected) is missing (found \(line.index))" : "record \(line.index) is out of order")
                }
                guard Hex.encode(head) == line.previous else { return fail(here, "record \(line.index) does not chain to the record before it") }
                var blobs: [[UInt8]] = []
                for blob in line.blobs {
                    if let name = blob.entry {
                        guard let bytes = try zip.contents(name, limit: Int64(Record.maxBodySize)) else { return fail(name, "named by record \(line.index) but missing") }
                        blobs.append(bytes)
                    } else if let text = blob.base64, let data = Data(base64Encoded: text) {
                        blobs.append(Array(data))
                    } else {
                        return fail(here, "a blob is neither an entry nor base64")
                    }
                }
                let meta = Array(line.meta.utf8)
                let hash = Record.chainHash(kind: line.kind, version: line.version, index: line.index, previousHash: head, meta: meta, blobs: blobs)
                guard Hex.encode(hash) == line.hash else {
                    let culprit = line.blobs.compactMap(\.entry).first ?? here
                    return fail(culprit, "record \(line.index)'s content does not match its hash")
                }
                let kind = RecordKind(rawValue: line.kind)
                if kind == .checkpoint {
                    guard blobs.count == 2, let manifest = try? JSONDecoder().decode(Manifest.self, from: Data(blobs[0])) else {
                        return fail(here, "checkpoint \(line.index) is not a manifest and signature")
                    }
                    switch trusted.isValid(signature: blobs[1], for: blobs[0], keyId: manifest.keyId) {
                    case nil: return fail(line.blobs[1].entry ?? here, "checkpoint \(line.index) is signed by key \(manifest.keyId), not \(keyId)")
                    case false?: return fail(line.blobs[1].entry ?? here, "checkpoint \(line.index): the signature does not match")
                    case true?: break
                    }
                    guard manifest.session == session, manifest.records == expected, manifest.head == Hex.encode(head), manifest.frames == frames else {
                        return fail(line.blobs[0].entry ?? here, "checkpoint \(line.index) signs other figures than the chain holds")
                    }
                    report.checkpoints += 1
                    lastFinal = manifest.final
                } else {
                    lastFinal = false
                }
                if kind == .frame { frames += 1 }
                head = hash
                expected += 1
            }
            if closed, !lastFinal { return fail(prefix + "chain.jsonl", "the session ends after record \(expected) without its final signed checkpoint") }
            if expected == 0 { return fail(prefix + "chain.jsonl", "no records") }
            report.frames += frames
            report.records += Int(expected)
        }
        report.ok = true
        return report
    }
}
