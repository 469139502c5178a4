import Foundation
import HerdProtocol
import HerdTesting
import Testing
@testable import HerdRecording

@Suite("Recorder: durable, deduplicated, recovered", .timeLimit(.minutes(2)))
struct RecorderTests {
    static func image(_ seq: UInt64) -> [UInt8] { Array("jpeg-bytes-\(seq)-".utf8) + [UInt8](repeating: UInt8(seq % 251), count: 2000) }

    @Test func everyAcknowledgedFrameIsIndexedWithItsExactBytes() async throws {
        let f = RecordingFixture()
        let recorder = try f.recorder()
        let sessions = try await RecordingFixture.record(recorder, seqs: 1...30, image: Self.image)
        #expect(Set(sessions).count == 1)
        let row = try #require(try recorder.index.session(sessions[0]))
        #expect(row.frames == 30 && row.isOpen)
        for seq in UInt64(1)...30 {
            let indexed = try #require(try recorder.index.frame(stream: "pen-1", seq: seq))
            let data = try Data(contentsOf: URL(fileURLWithPath: f.segmentPath(row, indexed.segment)))
            let read = data.withUnsafeBytes { Record.read($0, at: Int(indexed.offset), verifyHash: true) }
            guard case .record(let record, _) = read else { Issue.record("seq \(seq) unreadable"); continue }
            #expect(record.knownKind == .frame)
            #expect(record.blobs[1] == Self.image(seq))
            #expect(String(decoding: record.blobs[0], as: UTF8.self).contains("\"seq\":\(seq)"))
        }
        let report = try await recorder.verify(session: row.id)
        #expect(report.ok, "\(String(describing: report.failure))")
    }

    @Test func resentSeqIsDuplicateWithSameBytesAndConflictWithOthersAcrossARestart() async throws {
        let f = RecordingFixture()
        do {
            let recorder = try f.recorder()
            try await RecordingFixture.record(recorder, seqs: 1...5, image: Self.image)
            // Before the commit window closes, too.
            guard case .duplicate = await recorder.admit(RecordingFixture.frame(seq: 5, image: Self.image(5))) else {
                Issue.record("re-sent seq 5 not a duplicate")
                return
            }
        }
        let restarted = try f.recorder()
        #expect(restarted.recovery.sessionsClosed == 1)
        guard case .duplicate(_, let durability) = await restarted.admit(RecordingFixture.frame(seq: 3, image: Self.image(3))) else {
            Issue.record("after a restart, re-sent seq 3 was not a duplicate")
            return
        }
        try await durability.wait()
        guard case .conflict = await restarted.admit(RecordingFixture.frame(seq: 4, image: Self.image(99))) else {
            Issue.record("seq 4 with other bytes was not a conflict")
            return
        }
        // A new session does not forget either.
        _ = try await restarted.startSession(stream: RecordingFixture.stream, consignment: Consignment(id: "C-2"), openedBy: "device")
        guard case .duplicate = await restarted.admit(RecordingFixture.frame(seq: 2, image: Self.image(2))) else {
            Issue.record("a session start forgot seq 2")
            return
        }
    }

    @Test func sessionsCloseSignedAndVerify() async throws {
        let f = RecordingFixture()
        let recorder = try f.recorder()
        let consignment = Consignment(id: "HK-2026-0042", declaredHeadCount: 98, farm: "F-0331", vehiclePlate: "ZH-12345")
        let opened = try await recorder.startSession(stream: RecordingFixture.stream, consignment: consignment, openedBy: "device")
        try await RecordingFixture.record(recorder, seqs: 1...10, image: Self.image)
        let closed = try #require(try await recorder.endSession(stream: RecordingFixture.stream, reason: "device"))
        #expect(closed.id == opened.id && closed.endReason == "device" && closed.frames == 10)
        let manifest = try #require(closed.manifest.flatMap { try? JSONDecoder().decode(Manifest.self, from: Data($0.utf8)) })
        #expect(manifest.final && manifest.frames == 10 && manifest.consignment?.vehiclePlate == "ZH-12345" && manifest.keyId == recorder.key.keyId)
        let report = try await recorder.verify(session: closed.id)
        #expect(report.ok && report.frames == 10 && report.checkpoints == 1 && report.unsignedRecords == 0)
    }

    @Test func crashMidWriteCutsTheTornTailAndKeepsEveryDurableFrame() async throws {
        let f = RecordingFixture()
        var row: SessionRow
        do {
            let recorder = try f.recorder()
            let sessions = try await RecordingFixture.record(recorder, seqs: 1...8, image: Self.image)
            row = try #require(try recorder.index.session(sessions[0]))
        }
        // Simulate what the index never heard of: a full record past its commit point and a torn one.
        let extra = Record.encode(kind: RecordKind.event.rawValue, index: row.records, previousHash: Hex.decode(row.head)!, meta: Array("{}".utf8), blobs: []).bytes
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: f.segmentPath(row)))
        handle.seekToEndOfFile()
        handle.write(Data(extra))
        handle.write(Data([1, 2, 3, 4, 5, 6, 7]))
        try handle.close()
        let recorder = try f.recorder()
        #expect(recorder.recovery.recordsRecovered == 1 && recorder.recovery.bytesTruncated == 7 && recorder.recovery.sessionsClosed == 1)
        row = try #require(try recorder.index.session(row.id))
        #expect(row.endReason == "recovered" && row.frames == 8)
        let report = try await recorder.verify(session: row.id)
        #expect(report.ok, "\(String(describing: report.failure))")
    }

    /// Found by scripts/fault-test.py (read-only): the index is written with synchronous=NORMAL, so a
    /// filesystem failure or power loss can take its last transactions, a new session's row among them,
    /// while the segments (fsynced before every ack) survive. Recovery only walked sessions the index
    /// knew, so those acknowledged frames were on disk and found by nothing. Here the index is lost whole.
    @Test func sessionsTheIndexLostAreRecoveredFromTheirSegments() async throws {
        let f = RecordingFixture()
        let id: String
        do {
            let recorder = try f.recorder()
            id = try await RecordingFixture.record(recorder, seqs: 1...5, image: Self.image)[0]
        }
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: f.configuration.directory + "/index.sqlite" + suffix) }
        let recorder = try f.recorder()
        #expect(recorder.recovery.sessionsClosed == 1 && recorder.recovery.framesRecovered == 5)
        let row = try #require(try recorder.index.session(id))
        #expect(row.stream == RecordingFixture.stream.rawValue && row.frames == 5 && row.endReason == "recovered")
        #expect(try recorder.index.frames(session: id).map(\.seq) == [1, 2, 3, 4, 5])
        for seq in UInt64(1)...5 {
            let frame = try #require(try recorder.index.frame(stream: RecordingFixture.stream.rawValue, seq: seq))
            #expect(try SessionReader(recordingsDirectory: f.configuration.directory, index: recorder.index).read(frame, session: row).image == Self.image(seq))
        }
        let report = try await recorder.verify(session: id)
        #expect(report.ok, "\(String(describing: report.failure))")
    }

    /// Found by the segment_recovery fuzz harness: well-formed records that do not continue the chain
    /// (another session's, or planted) after the commit point were left in place, and the session closed
    /// by recovery then failed verify for good. They are cut like a damaged record.
    @Test func recordsThatDoNotChainAreCutAtRecovery() async throws {
        let f = RecordingFixture()
        var row: SessionRow
        do {
            let recorder = try f.recorder()
            let sessions = try await RecordingFixture.record(recorder, seqs: 1...3, image: Self.image)
            row = try #require(try recorder.index.session(sessions[0]))
        }
        // A valid record (CRC and hash hold) numbered as the next one, but linked to another chain.
        let planted = Record.encode(kind: RecordKind.event.rawValue, index: row.records, previousHash: [UInt8](repeating: 7, count: 32), meta: Array("{}".utf8), blobs: []).bytes
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: f.segmentPath(row)))
        handle.seekToEndOfFile()
        handle.write(Data(planted))
        try handle.close()
        let recorder = try f.recorder()
        #expect(recorder.recovery.recordsRecovered == 0 && recorder.recovery.bytesTruncated == Int64(planted.count))
        row = try #require(try recorder.index.session(row.id))
        #expect(row.endReason == "recovered" && row.frames == 3)
        let report = try await recorder.verify(session: row.id)
        #expect(report.ok, "\(String(describing: report.failure))")
    }

    /// Found by scripts/crash-test.sh: a kill right after a segment rotation leaves a new segment the
    /// index never heard of; recovery continues after it.
    @Test func crashRightAfterARotationRecovers() async throws {
        let f = RecordingFixture { $0.segmentMaxBytes = 1024 * 1024 }
        var row: SessionRow
        do {
            let recorder = try f.recorder()
            let big: (UInt64) -> [UInt8] = { seq in [UInt8](repeating: UInt8(seq), count: 300_000) }
            let sessions = try await RecordingFixture.record(recorder, seqs: 1...8, image: big)
            row = try #require(try recorder.index.session(sessions[0]))
        }
        #expect(row.segment >= 2)
        // The next segment, created (header only) by a rotation the index never heard of.
        let next = row.segment + 1
        FileManager.default.createFile(atPath: f.segmentPath(row, next), contents: Data(SegmentFile.header(number: next)))
        let recorder = try f.recorder()
        #expect(recorder.recovery.sessionsClosed == 1)
        let report = try await recorder.verify(session: row.id)
        #expect(report.ok && report.frames == 8, "\(String(describing: report.failure))")
    }

    @Test func lateFramesJoinTheClosedSessionAsASignedAddendum() async throws {
        let f = RecordingFixture()
        let recorder = try f.recorder()
        let first = try await recorder.startSession(stream: RecordingFixture.stream, consignment: nil, openedBy: "device")
        try await RecordingFixture.record(recorder, seqs: 1...3, image: Self.image)
        _ = try await recorder.endSession(stream: RecordingFixture.stream, reason: "device")
        let second = try await recorder.startSession(stream: RecordingFixture.stream, consignment: nil, openedBy: "device")
        try await RecordingFixture.record(recorder, seqs: 10...12, image: Self.image)
        // seq 4, captured during the first session, arrives now.
        let late = FrameSubmission(
            stream: RecordingFixture.stream, seq: 4, capturedAt: Timestamp(date: Date(timeIntervalSince1970: Double(first.startedAtMicros) / 1e6 + 0.001)),
            receivedAt: .now(), header: Array("{}".utf8), image: Self.image(4))
        guard case .recorded(let session, let isLate, let durability) = await recorder.admit(late) else {
            Issue.record("late frame not recorded")
            return
        }
        try await durability.wait()
        #expect(session == first.id && isLate && session != second.id)
        await recorder.shutdown()
        let row = try #require(try recorder.index.session(first.id))
        #expect(row.frames == 4 && row.late == 1 && row.addenda == 1)
        let indexed = try #require(try recorder.index.frame(stream: "pen-1", seq: 4))
        #expect(indexed.late && indexed.session == first.id)
        let report = try await recorder.verify(session: first.id)
        #expect(report.ok && report.checkpoints == 2, "\(String(describing: report.failure))")
        #expect(try recorder.index.gaps(session: second.id, limit: 10).isEmpty)
    }

    /// Recovery rebuilds session directories the index lacks, so retention must never leave one: it moves
    /// the directory aside (`.purge-…`) before deleting the row. A crash at either step leaves nothing
    /// that comes back as a session.
    @Test func purgedSessionsStayPurgedAcrossACrashInThePurge() async throws {
        let f = RecordingFixture {
            $0.retentionDays = 1e-9
            $0.housekeepingSeconds = 3600
        }
        var ids: [String] = []
        do {
            let recorder = try f.recorder()
            for stream in ["pen-1", "pen-2", "pen-3"].map({ StreamID($0)! }) {
                let row = try await recorder.startSession(stream: stream, consignment: nil, openedBy: "api")
                guard case .recorded(_, _, let d) = await recorder.admit(RecordingFixture.frame(seq: 1, image: Self.image(1), stream: stream)) else {
                    Issue.record("frame not recorded")
                    return
                }
                try await d.wait()
                _ = try await recorder.endSession(stream: stream, reason: "api")
                ids.append(row.id)
            }
            // A whole purge of the first; for the others, a crash after the move (row kept) and after the
            // row was deleted (directory still aside).
            let rows = try ids.map { try #require(try recorder.index.session($0)) }
            let dirs = rows.map(f.sessionDirectory)
            #expect(rename(dirs[1], Recorder.purgeName(dirs[1])) == 0)
            #expect(rename(dirs[2], Recorder.purgeName(dirs[2])) == 0)
            try recorder.index.deleteSession(ids[2])
            await recorder.shutdown()
        }
        let recorder = try f.recorder()
        #expect(try recorder.index.session(ids[2]) == nil, "a session whose purge was interrupted came back")
        await recorder.retention()
        for id in ids { #expect(try recorder.index.session(id) == nil) }
        for stream in ["pen-1", "pen-2", "pen-3"] {
            let left = (try? FileManager.default.contentsOfDirectory(atPath: f.configuration.directory + "/" + stream)) ?? []
            #expect(left.isEmpty, "left in \(stream): \(left)")
        }
        // And again: nothing purged comes back at the next start.
        await recorder.shutdown()
        let again = try f.recorder()
        #expect(try again.index.allSessions().isEmpty && again.recovery.sessionsClosed == 0)
    }

    @Test func storageFullRefusesUnheldStreamsAndKeepsHeldSessions() async throws {
        let f = RecordingFixture { $0.maxBytes = 60_000 }
        let recorder = try f.recorder()
        let held = try await recorder.startSession(stream: StreamID("held")!, consignment: nil, openedBy: "api")
        try await recorder.setHold(held.id, true)
        var refused: RecordingError?
        for seq in UInt64(1)...100 {
            let outcome = await recorder.admit(RecordingFixture.frame(seq: seq, image: Self.image(seq)))
            if case .refused(let error) = outcome {
                refused = error
                break
            }
            if case .recorded(_, _, let d) = outcome { try await d.wait() }
            await recorder.retention()
        }
        #expect(refused?.code == "storageFull" && refused?.isRetryable == true)
        // The held stream keeps recording; nothing held was purged.
        guard case .recorded(_, _, let d) = await recorder.admit(RecordingFixture.frame(seq: 1, image: Self.image(1), stream: StreamID("held")!)) else {
            Issue.record("held stream refused")
            return
        }
        try await d.wait()
        #expect(try recorder.index.session(held.id) != nil)
        let sessions = try recorder.index.allSessions()
        for s in sessions { #expect(try await recorder.verify(session: s.id).ok) }
    }
}
