import ArgumentParser
import Foundation
import HerdExport
import HerdRecording

/// `herdlens export [--data DIR] --format bundle|mcap --output FILE SESSION_ID` (or `--consignment ID`
/// for every session of a consignment, all streams, in one file). Works beside a running server.
///
/// Exit status: 0 written; 2 no such session or bad arguments; 3 the recordings or the output could not
/// be read or written.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export recorded evidence: a verifiable bundle (ZIP) or MCAP for Foxglove.",
        discussion: "Exit status: 0 written, 2 not found or bad arguments, 3 unreadable or unwritable.")

    @Option(help: "Data directory holding recordings/.") var data: String = "data"
    @Option(help: "bundle (evidence ZIP) or mcap.") var format: String = "bundle"
    @Option(help: "The file to write.") var output: String
    @Option(help: "Export every session of this consignment id instead of one session.") var consignment: String?
    @Flag(help: "Print what was written as JSON.") var json = false
    @Argument(help: "The session id (s-…).") var session: String?

    func validate() throws {
        guard format == "bundle" || format == "mcap" else { throw ValidationError("--format must be bundle or mcap") }
        guard (session == nil) != (consignment == nil) else { throw ValidationError("name a session id or --consignment, not both") }
    }

    func run() throws {
        let configuration = RecorderConfiguration(dataDirectory: data)
        let rows: [SessionRow]
        let index: SQLiteRecordingIndex
        do throws(RecordingError) {
            guard FileManager.default.fileExists(atPath: configuration.directory + "/index.sqlite") else { throw .notFound("no recordings in \(data)") }
            index = try SQLiteRecordingIndex(path: configuration.directory + "/index.sqlite")
            if let session {
                guard let row = try index.session(session) else { throw .notFound("no session \(session) in \(data)") }
                rows = [row]
            } else {
                var query = SessionQuery()
                query.consignment = consignment
                query.limit = 500
                rows = try index.sessions(query).sorted { ($0.startedAtMicros, $0.id) < ($1.startedAtMicros, $1.id) }
                guard !rows.isEmpty else { throw .notFound("no session of consignment \(consignment ?? "") in \(data)") }
            }
        } catch {
            FileHandle.standardError.write(Data("herdlens export: \(error.code): \(error.message)\n".utf8))
            throw ExitCode(error.code == "notFound" ? 2 : 3)
        }
        do {
            // Audited first: the bundle carries its own export entry.
            let (audit, key) = try LocalAudit.record(
                data: data, action: "export", stream: rows.count == 1 ? rows[0].stream : nil, session: rows.count == 1 ? rows[0].id : nil,
                detail: "format \(format); output \(output)" + (rows.count > 1 ? "; sessions \(rows.map(\.id).joined(separator: ","))" : ""),
                frames: rows.reduce(0) { $0 + $1.frames })
            let reader = SessionReader(recordingsDirectory: configuration.directory, index: index)
            let sink = try FileSink(path: output)
            let summary: ExportSummary
            if format == "bundle" {
                summary = try BundleExporter(reader: reader, key: key, temporaryDirectory: data + "/tmp").export(
                    sessions: rows, audit: try audit.entries(sessions: rows.map(\.id)), exportedBy: AuditEntry.localActor().actor, to: sink)
            } else {
                summary = try McapExporter(reader: reader).export(sessions: rows, to: sink)
            }
            try sink.sync()
            if json {
                JSONOutput.print(summary)
            } else {
                print("wrote \(output): \(format), \(summary.sessions.count) session(s), \(summary.frames) frames, \(summary.records) records, \(summary.bytes) bytes")
            }
        } catch {
            try? FileManager.default.removeItem(atPath: output)
            FileHandle.standardError.write(Data("herdlens export: \(error)\n".utf8))
            throw ExitCode(3)
        }
    }
}

/// `herdlens audit verify|list`: the chain of custody.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "The audit log: who watched, replayed, exported, verified, held or released what.",
        subcommands: [Verify.self, List.self])

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the audit log's chain, CRCs and signed checkpoints.",
            discussion: "Exit status: 0 intact, 1 damaged or forged (first bad record named), 3 unreadable.")
        @Option(help: "Data directory.") var data: String = "data"
        @Flag(help: "Print the report as JSON.") var json = false

        func run() throws {
            let report: VerifyReport
            do throws(RecordingError) {
                report = try LocalAudit.open(data: data).0.verify()
            } catch {
                FileHandle.standardError.write(Data("herdlens audit verify: \(error.code): \(error.message)\n".utf8))
                throw ExitCode(3)
            }
            if json {
                JSONOutput.print(report)
            } else if let failure = report.failure {
                print("FAILED audit log: \(failure.problem.rawValue) at record \(failure.record)"
                    + (failure.segment.map { " (segment \($0)\(failure.offset.map { ", offset \($0)" } ?? ""))" } ?? "") + ": \(failure.detail)")
            } else {
                print("OK audit log: \(report.records) records, \(report.checkpoints) signed checkpoints (key \(report.keyIds.joined(separator: ", ")))"
                    + (report.unsignedRecords > 0 ? "; \(report.unsignedRecords) records after the last checkpoint" : ""))
            }
            LocalAudit.note(data: data, action: "audit.verify", detail: report.ok ? "ok" : report.failure?.detail)
            if !report.ok { throw ExitCode(1) }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print audit entries (JSON lines), oldest first.")
        @Option(help: "Data directory.") var data: String = "data"
        @Option(help: "Only this session.") var session: String?
        @Option(help: "Only this actor (tok_… or local:user).") var actor: String?
        @Option(help: "At most this many.") var limit: Int = 1000

        func run() throws {
            do throws(RecordingError) {
                var query = AuditQuery()
                query.session = session
                query.actor = actor
                query.limit = limit
                for entry in try LocalAudit.open(data: data).0.entries(query) { JSONOutput.print(entry) }
            } catch {
                FileHandle.standardError.write(Data("herdlens audit list: \(error.code): \(error.message)\n".utf8))
                throw ExitCode(3)
            }
        }
    }
}
