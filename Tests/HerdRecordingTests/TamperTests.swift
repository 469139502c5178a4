import Crypto
import Foundation
import HerdProtocol
import HerdTesting
import Testing
@testable import HerdRecording

/// Each way a recording can be damaged or forged, and the problem verify names for it.
@Suite("Verify names the first bad record", .timeLimit(.minutes(2)))
struct TamperTests {
    /// A closed session of 6 frames; returns the fixture, the recorder and the session.
    static func closedSession() async throws -> (RecordingFixture, Recorder, SessionRow) {
        let f = RecordingFixture()
        let recorder = try f.recorder()
        _ = try await recorder.startSession(stream: RecordingFixture.stream, consignment: Consignment(id: "C-1"), openedBy: "device")
        try await RecordingFixture.record(recorder, seqs: 1...6, image: RecorderTests.image)
        let row = try #require(try await recorder.endSession(stream: RecordingFixture.stream, reason: "device"))
        #expect(try await recorder.verify(session: row.id).ok)
        return (f, recorder, row)
    }

    static func rewrite(_ path: String, _ change: (inout [UInt8]) -> Void) throws {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        change(&bytes)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    @Test func aFlippedByteIsAltered() async throws {
        let (f, recorder, row) = try await Self.closedSession()
        let records = try f.records(row)
        let target = records[3]  // a frame record
        try Self.rewrite(f.segmentPath(row)) { $0[target.offset + target.size - 10] ^= 0x01 }
        let report = try await recorder.verify(session: row.id)
        #expect(report.failure?.problem == .altered && report.failure?.record == 3)
    }

    @Test func aFlippedByteWithAFixedCRCIsStillAltered() async throws {
        let (f, recorder, row) = try await Self.closedSession()
        let records = try f.records(row)
        let target = records[2]
        try Self.rewrite(f.segmentPath(row)) { bytes in
            bytes[target.offset + target.size - 10] ^= 0x01
            let body = Array(bytes[(target.offset + 8)..<(target.offset + target.size)])
            let crc = body.withUnsafeBufferPointer { herdcrcForTests($0) }
            withUnsafeBytes(of: crc.littleEndian) { bytes.replaceSubrange((target.offset + 4)..<(target.offset + 8), with: $0) }
        }
        let report = try await recorder.verify(session: row.id)
        #expect(report.failure?.problem == .altered && report.failure?.record == 2)
    }

    @Test func aDroppedRecordIsMissing() async throws {
        let (f, recorder, row) = try await Self.closedSession()
        let target = try f.records(row)[4]
        try Self.rewrite(f.segmentPath(row)) { $0.removeSubrange(target.offset..<(target.offset + target.size)) }
        let report = try await recorder.verify(session: row.id)
        #expect(report.failure?.problem == .missing && report.failure?.record == 4)
    }

    @Test func twoSwappedRecordsAreReordered() async throws {
        let (f, recorder, row) = try await Self.closedSession()
        let records = try f.records(row)
        let a = records[2], b = records[3]
        try Self.rewrite(f.segmentPath(row)) { bytes in
            let first = Array(bytes[a.offset..<(a.offset + a.size)]), second = Array(bytes[b.offset..<(b.offset + b.size)])
            bytes.replaceSubrange(a.offset..<(b.offset + b.size), with: second + first)
        }
        let report = try await recorder.verify(session: row.id)
        #expect(report.failure?.problem == .reordered && report.failure?.record == 2)
    }

    @Test func aCutTailIsTruncated() async throws {
        let (f, recorder, row) = try await Self.closedSession()
        let last = try f.records(row).last!
        // Whole records dropped from the end: the final checkpoint is gone.
        try Self.rewrite(f.segmentPath(row)) { $0.removeSubrange(last.offset...) }
        #expect(try await recorder.verify(session: row.id).failure?.problem == .truncated)
        // A cut inside a record.
        try Self.rewrite(f.segmentPath(row)) { $0.removeLast(5) }
        #expect(try await recorder.verify(session: row.id).failure?.problem == .truncated)
    }

    @Test func aSessionReSignedWithAnotherKeyHasABadSignature() async throws {
        let (f, recorder, row) = try await Self.closedSession()
        // The forger rewrites the last checkpoint's manifest and signs it with a key of their own.
        let records = try f.records(row)
        let checkpoint = records.last!
        let manifest = try JSONDecoder().decode(Manifest.self, from: Data(checkpoint.record.blobs[0]))
        for forgedKeyId in [recorder.key.keyId, RecordingKey(privateKey: .init()).keyId] {
            let forger = Curve25519.Signing.PrivateKey()
            var forged = manifest
            forged.keyId = forgedKeyId
            let bytes = WireJSON.encode(forged)
            let signature = Array(try forger.signature(for: bytes))
            let record = Record.encode(
                kind: RecordKind.checkpoint.rawValue, index: checkpoint.record.index, previousHash: checkpoint.record.previousHash,
                meta: WireJSON.encode(CheckpointMeta(keyId: forgedKeyId)), blobs: [bytes, signature]).bytes
            try Self.rewrite(f.segmentPath(row)) { $0.replaceSubrange(checkpoint.offset..., with: record) }
            let report = try await recorder.verify(session: row.id)
            #expect(report.failure?.problem == .badSignature && report.failure?.record == checkpoint.record.index)
        }
    }
}
