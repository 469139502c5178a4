import Foundation
import HerdRecording
import Testing

@Suite("Audit log: hash-chained, signed, shared between processes", .timeLimit(.minutes(1)))
struct AuditLogTests {
    func scratch() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("herd-audit-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    func entry(_ action: String, session: String? = nil) -> AuditEntry {
        AuditEntry(actor: "tok_test", actorName: "Auditor Lee", role: "auditor", action: action, stream: "farm-jx-017.cam-1", session: session)
    }

    @Test("entries are numbered, queryable, and the chain verifies; two writers (as two processes would) keep one chain")
    func appendAndVerify() throws {
        let data = try scratch()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let key = try RecordingKey.loadOrCreate(path: data + "/keys/recording.key")
        let a = try AuditLog(dataDirectory: data, key: key), b = try AuditLog(dataDirectory: data, key: key)
        for i in 0..<20 { try (i.isMultiple(of: 2) ? a : b).append(entry("replay.start", session: "s-\(i % 3)")) }
        try a.checkpoint()
        var q = AuditQuery()
        q.session = "s-1"
        let found = try b.entries(q)
        #expect(found.count == 7 && found.allSatisfy { $0.session == "s-1" })
        #expect(try a.entries(AuditQuery()).map(\.index) == (0..<20).map { UInt64($0) }, "numbered in order across both writers")
        let report = try a.verify()
        #expect(report.ok && report.checkpoints >= 1 && report.unsignedRecords == 0, "\(report)")
    }

    @Test("a changed byte, a cut tail, a forged signature: each is found by verify")
    func tampering() throws {
        let data = try scratch()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let key = try RecordingKey.loadOrCreate(path: data + "/keys/recording.key")
        let log = try AuditLog(dataDirectory: data, key: key)
        for i in 0..<10 { try log.append(entry("export", session: "s-\(i)"), sign: i == 9) }
        let segment = data + "/audit/" + SegmentFile.name(1)
        let clean = try Data(contentsOf: URL(fileURLWithPath: segment))
        // An altered actor name in entry 4.
        var altered = clean
        let at = try #require(altered.range(of: Data(#""session":"s-4""#.utf8))?.lowerBound)
        altered[at + 12] = UInt8(ascii: "9")
        try altered.write(to: URL(fileURLWithPath: segment))
        let a = try log.verify()
        #expect(!a.ok && a.failure?.problem == .altered && a.failure?.record == 4, "\(a)")
        // The last records cut off.
        try clean.prefix(clean.count - 300).write(to: URL(fileURLWithPath: segment))
        let t = try log.verify()
        #expect(!t.ok && (t.failure?.problem == .truncated), "\(t)")
        // Verified against another key: the signatures do not hold.
        try clean.write(to: URL(fileURLWithPath: segment))
        #expect(try log.verify().ok)
        let stranger = try RecordingKey.loadOrCreate(path: data + "/other.key")
        let forged = try log.verify(trusted: TrustedKeys.load(dataDirectory: data + "/nowhere", current: stranger))
        #expect(!forged.ok && forged.failure?.problem == .badSignature, "\(forged)")
    }

    @Test("a crash that left a segment without its header, or a torn last entry, is repaired by the next append; nothing acknowledged is lost")
    func crashLeftovers() throws {
        let data = try scratch()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let key = try RecordingKey.loadOrCreate(path: data + "/keys/recording.key")
        // The first segment created, the process killed before its header was written.
        try FileManager.default.createDirectory(atPath: data + "/audit", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: data + "/audit/" + SegmentFile.name(1), contents: Data())
        let log = try AuditLog(dataDirectory: data, key: key)
        for i in 0..<3 { try log.append(entry("verify", session: "s-\(i)")) }
        // A torn write after the last acknowledged entry.
        let segment = data + "/audit/" + SegmentFile.name(1)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: segment))
        handle.seekToEndOfFile()
        handle.write(Data(Record.encode(kind: 9, index: 3, previousHash: [UInt8](repeating: 0, count: 32), meta: Array("{}".utf8), blobs: []).bytes.prefix(40)))
        try handle.close()
        try log.append(entry("export", session: "s-3"), sign: true)
        let report = try log.verify()
        #expect(report.ok && report.records == 5, "\(report)")
        #expect(try log.entries(AuditQuery()).map(\.session) == ["s-0", "s-1", "s-2", "s-3"])
    }
}
