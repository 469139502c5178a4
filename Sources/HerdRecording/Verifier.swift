import Foundation

/// The outcome of verifying one session.
public struct VerifyReport: Sendable, Hashable, Codable {
    public enum Problem: String, Sendable, Hashable, Codable {
        /// A record's bytes differ from what its CRC or hash says.
        case altered
        /// A record of the chain is not there (a gap in the record numbers, or an indexed frame not found).
        case missing
        /// Records out of their chain order.
        case reordered
        /// The session ends before its final signed checkpoint, or a file ends inside a record.
        case truncated
        /// A checkpoint's signature does not check with a trusted key, or names an unknown key.
        case badSignature
    }

    public struct Failure: Sendable, Hashable, Codable {
        public var problem: Problem
        /// The chain position expected there.
        public var record: UInt64
        public var segment: Int?
        public var offset: Int64?
        public var detail: String
    }

    public var session: String
    public var ok: Bool
    public var records: UInt64
    public var frames: Int
    public var checkpoints: Int
    public var bytes: Int64
    /// Key ids that signed this session's checkpoints.
    public var keyIds: [String]
    /// Records after the last checkpoint (an open session's tail, not yet signed).
    public var unsignedRecords: UInt64
    public var failure: Failure?
}

struct FramePlace: Hashable {
    var segment: Int
    var offset: Int64
}

/// Verifies a session from its segment files alone: every CRC, the hash of every record and the chain
/// between them, record numbers in order, every checkpoint's signature (by a trusted key) and figures,
/// a closed session ending on a final checkpoint, and every indexed frame present where the index says.
public struct Verifier: Sendable {
    public let trusted: TrustedKeys

    public init(trusted: TrustedKeys) {
        self.trusted = trusted
    }

    /// The `seq` of a frame record's meta without a JSON decode (verify reads every frame; the meta is
    /// the server's own sorted-key JSON, and the hash chain has already vouched for its bytes).
    static func seq(inMeta meta: [UInt8]) -> UInt64? {
        let key = Array(#""seq":"#.utf8)
        guard meta.count > key.count else { return nil }
        var i = 0
        while i + key.count < meta.count {
            if meta[i] == key[0], meta[i..<i + key.count].elementsEqual(key) {
                var j = i + key.count, value: UInt64 = 0, digits = 0
                while j < meta.count, (48...57).contains(meta[j]) {
                    let (m, o1) = value.multipliedReportingOverflow(by: 10)
                    let (a, o2) = m.addingReportingOverflow(UInt64(meta[j] - 48))
                    if o1 || o2 { return nil }
                    value = a
                    digits += 1
                    j += 1
                }
                return digits > 0 ? value : nil
            }
            i += 1
        }
        return nil
    }

    /// `indexed`: the frames the index lists for the session (empty when verifying a bundle offline).
    /// `closed`: whether the session must end on a final checkpoint.
    public func verify(directory: String, session: String, indexed: [FrameRow], closed: Bool, upTo limit: (segment: Int, offset: Int64)? = nil) -> VerifyReport {
        var report = VerifyReport(
            session: session, ok: false, records: 0, frames: 0, checkpoints: 0, bytes: 0, keyIds: [], unsignedRecords: 0, failure: nil)
        var head = Record.genesis(session: session)
        var expected: UInt64 = 0
        var frames = 0
        var lastFinal = false
        var failure: VerifyReport.Failure?
        var frameOffsets: [FramePlace: UInt64] = [:]
        var keyIds = Set<String>()
        /// After a record number jumps ahead: the number looked for further on (found: reordered, else missing).
        var searching: UInt64?
        var foundLater = false
        let walker = SegmentWalker(directory: directory, verifyHash: true, keepBlobs: { $0 == RecordKind.checkpoint.rawValue })
        let stop: SegmentWalker.Stop?
        do {
            stop = try walker.walk(upTo: limit) { record, segment, offset, size in
                func fail(_ problem: VerifyReport.Problem, _ detail: String) -> Bool {
                    failure = .init(problem: problem, record: expected, segment: segment, offset: offset, detail: detail)
                    return false
                }
                if let wanted = searching {
                    if record.index == wanted {
                        foundLater = true
                        return false
                    }
                    return true
                }
                if record.index > expected {
                    _ = fail(.missing, "record \(expected) is missing: the next one found is \(record.index)")
                    searching = expected
                    return true
                }
                if record.index < expected {
                    return fail(.reordered, "record \(record.index) found where record \(expected) belongs")
                }
                guard record.previousHash == head else {
                    return fail(.altered, "record \(record.index) does not chain to the record before it")
                }
                if record.knownKind == .checkpoint {
                    guard record.blobs.count == 2, let manifest = Meta.decode(Manifest.self, record.blobs[0]) else {
                        return fail(.altered, "checkpoint \(record.index) is not a manifest and signature")
                    }
                    switch trusted.isValid(signature: record.blobs[1], for: record.blobs[0], keyId: manifest.keyId) {
                    case nil: return fail(.badSignature, "checkpoint \(record.index) is signed by key \(manifest.keyId), which is not trusted")
                    case false?: return fail(.badSignature, "checkpoint \(record.index): the signature does not match key \(manifest.keyId)")
                    case true?: break
                    }
                    guard manifest.session == session, manifest.records == expected, manifest.head == Hex.encode(head), manifest.frames == frames else {
                        return fail(.altered, "checkpoint \(record.index) signs other figures than the chain holds")
                    }
                    keyIds.insert(manifest.keyId)
                    report.checkpoints += 1
                    report.unsignedRecords = 0
                    lastFinal = manifest.final
                } else {
                    report.unsignedRecords += 1
                    lastFinal = false
                }
                if record.knownKind == .frame {
                    frames += 1
                    if let seq = Self.seq(inMeta: record.meta) { frameOffsets[FramePlace(segment: segment, offset: offset)] = seq }
                }
                head = record.hash
                expected += 1
                report.bytes += Int64(size)
                return true
            }
        } catch {
            report.failure = .init(problem: .missing, record: expected, segment: nil, offset: nil, detail: "\(error)")
            return report
        }
        if foundLater, var f = failure {
            f.problem = .reordered
            f.detail = "record \(f.record) is out of place: found after a later record"
            failure = f
        }
        report.records = expected
        report.frames = frames
        report.keyIds = keyIds.sorted()
        if failure == nil || searching != nil, let stop, failure == nil {
            switch stop {
            case .truncated(let segment, let offset):
                failure = .init(problem: .truncated, record: expected, segment: segment, offset: offset, detail: "segment \(segment) ends inside record \(expected)")
            case .corrupt(let segment, let offset, let reason):
                failure = .init(problem: .altered, record: expected, segment: segment, offset: offset, detail: "record \(expected): \(reason)")
            case .badHeader(let segment, let reason):
                failure = .init(problem: .altered, record: expected, segment: segment, offset: 0, detail: "segment \(segment): \(reason)")
            }
        }
        if failure == nil {
            for frame in indexed where frameOffsets[FramePlace(segment: frame.segment, offset: frame.offset)] != frame.seq {
                failure = .init(
                    problem: .missing, record: expected, segment: frame.segment, offset: frame.offset,
                    detail: "frame seq \(frame.seq) is in the index but not in segment \(frame.segment) at \(frame.offset)")
                break
            }
        }
        if failure == nil, closed, !lastFinal {
            failure = .init(problem: .truncated, record: expected, segment: nil, offset: nil, detail: "the session ends after record \(expected) without its final signed checkpoint")
        }
        if failure == nil, expected == 0 {
            failure = .init(problem: .missing, record: 0, segment: nil, offset: nil, detail: "no records")
        }
        report.failure = failure
        report.ok = failure == nil
        return report
    }
}
