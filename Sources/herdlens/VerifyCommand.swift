import ArgumentParser
import Foundation
import HerdExport
import HerdRecording

/// `herdlens verify --data DIR SESSION_ID`: checks a recorded session offline (no server needed).
/// `herdlens verify [--key PUBKEY | --fingerprint FP] BUNDLE.zip`: checks an exported evidence bundle on
/// any machine, with no data directory.
///
/// Exit status: 0 every record, chain link, checkpoint signature and indexed frame checks (for a
/// bundle: with the pinned key); 1 damaged or forged (the first bad record or entry is named); 2 no
/// such session or bad arguments; 3 the recordings could not be read; 4 a bundle is intact but was
/// checked only against the key inside it (not pinned).
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify a recorded session: CRCs, hash chain, record order, signed checkpoints, the index.",
        discussion: "Exit status: 0 ok, 1 damaged or forged (first bad record or entry named), 2 not found or bad arguments, 3 unreadable, 4 bundle intact but its key not pinned (--key or --fingerprint).")

    @Option(help: "Data directory holding recordings/.") var data: String = "data"
    @Flag(help: "Print the report as JSON.") var json = false
    @Option(help: "Bundles: the recording key's public half to check against (a file: base64, or `herdlens key export --json` output).") var key: String?
    @Option(help: "Bundles: the expected key fingerprint (the 16-hex key id, or the full SHA-256 of the public key).") var fingerprint: String?
    @Argument(help: "The session id (s-…), or an evidence bundle (.zip).") var session: String

    func run() throws {
        if session.hasSuffix(".zip") || (FileManager.default.fileExists(atPath: session) && !session.hasPrefix("s-")) {
            try verifyBundle()
            return
        }
        let configuration = RecorderConfiguration(dataDirectory: data)
        let report: VerifyReport
        do throws(RecordingError) {
            guard FileManager.default.fileExists(atPath: configuration.directory + "/index.sqlite") else {
                throw .notFound("no recordings in \(data)")
            }
            let index = try SQLiteRecordingIndex(path: configuration.directory + "/index.sqlite")
            let frames = try index.frames(session: session)  // before the row: see Recorder.verify
            guard let row = try index.session(session) else { throw .notFound("no session \(session) in \(data)") }
            let key = FileManager.default.fileExists(atPath: configuration.keyPath) ? try RecordingKey.loadOrCreate(path: configuration.keyPath) : nil
            let trusted = TrustedKeys.load(dataDirectory: data, current: key)
            report = Verifier(trusted: trusted).verify(
                directory: configuration.directory + "/" + row.stream + "/" + row.id, session: row.id, indexed: frames,
                closed: !row.isOpen, upTo: row.isOpen ? (row.segment, row.segmentOffset) : nil)
        } catch {
            FileHandle.standardError.write(Data("herdlens verify: \(error.code): \(error.message)\n".utf8))
            throw ExitCode(error.code == "notFound" ? 2 : 3)
        }
        if json {
            JSONOutput.print(report, pretty: true)
        } else if let failure = report.failure {
            print("FAILED \(report.session): \(failure.problem.rawValue) at record \(failure.record)"
                + (failure.segment.map { " (segment \($0)\(failure.offset.map { ", offset \($0)" } ?? ""))" } ?? "") + ": \(failure.detail)")
        } else {
            print("OK \(report.session): \(report.records) records, \(report.frames) frames, \(report.checkpoints) signed checkpoints "
                + "(key \(report.keyIds.joined(separator: ", "))), \(report.bytes) bytes"
                + (report.unsignedRecords > 0 ? "; \(report.unsignedRecords) records after the last checkpoint (session open)" : ""))
        }
        LocalAudit.note(data: data, action: "verify", session: session, detail: report.ok ? "ok" : report.failure?.detail)
        if !report.ok { throw ExitCode(1) }
    }

    private func verifyBundle() throws {
        var pinned = PinnedKey.none
        if key != nil && fingerprint != nil { throw ValidationError("pin the key one way: --key or --fingerprint") }
        if let key {
            guard let data = FileManager.default.contents(atPath: key) else { throw ValidationError("cannot read \(key)") }
            struct Exported: Decodable { var publicKey: String }
            let text = (try? JSONDecoder().decode(Exported.self, from: data))?.publicKey ?? String(decoding: data, as: UTF8.self)
            guard let raw = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), raw.count == 32 else {
                throw ValidationError("\(key) holds no Ed25519 public key (base64 of 32 bytes)")
            }
            pinned = .publicKey(Array(raw))
        } else if let fingerprint {
            pinned = .fingerprint(fingerprint)
        }
        let report: BundleReport
        do {
            report = try BundleVerifier().verify(path: session, pinned: pinned)
        } catch let error as ExportError {
            FileHandle.standardError.write(Data("herdlens verify: \(error.code): \(error.message)\n".utf8))
            throw ExitCode(error.code == "notFound" ? 2 : 1)
        }
        if json {
            JSONOutput.print(report, pretty: true)
        } else if !report.ok {
            print("FAILED \(session): first bad entry \(report.badEntry ?? "?"): \(report.problem ?? "")")
        } else {
            print("OK \(session): \(report.sessions.count) session(s), \(report.records) records, \(report.frames) frames, \(report.checkpoints) signed checkpoints, \(report.entries) entries; key \(report.keyId ?? "?")"
                + (report.pinned ? " (pinned)" : ""))
            if !report.pinned {
                print("NOT PINNED: checked against the key inside the bundle (fingerprint \(report.keyId ?? "?")); a key inside a bundle proves nothing by itself. Pin it with --key or --fingerprint.")
            }
        }
        if !report.ok { throw ExitCode(1) }
        if !report.pinned { throw ExitCode(4) }
    }
}

/// `herdlens key export`: the recording key's public half, for auditors to pin.
struct KeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key", abstract: "The recording signing key.", subcommands: [Export.self])

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the Ed25519 public key checkpoints are signed with (base64, one line; --json adds the key id).")

        @Option(help: "Data directory holding keys/recording.key.") var data: String = "data"
        @Option(help: "The key file, when not in the data directory.") var key: String?
        @Flag(help: "Print {\"algorithm\",\"keyId\",\"publicKey\"}.") var json = false

        func run() throws {
            let path = key ?? RecorderConfiguration(dataDirectory: data).keyPath
            guard FileManager.default.fileExists(atPath: path) else { throw ValidationError("no recording key at \(path): the server creates it on first start") }
            do throws(RecordingError) {
                let loaded = try RecordingKey.loadOrCreate(path: path)
                if json {
                    print(#"{"algorithm":"Ed25519","keyId":"\#(loaded.keyId)","publicKey":"\#(loaded.publicKeyBase64)"}"#)
                } else {
                    print(loaded.publicKeyBase64)
                }
            } catch {
                throw ValidationError(error.message)
            }
        }
    }
}

/// `herdlens session list|hold|release`: sessions in a data directory, and the legal hold.
struct SessionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "session", abstract: "Recorded sessions: list, and the legal hold (held sessions are never purged).",
        subcommands: [List.self, Hold.self, Release.self])

    static func index(_ data: String) throws(RecordingError) -> SQLiteRecordingIndex {
        let path = RecorderConfiguration(dataDirectory: data).directory + "/index.sqlite"
        guard FileManager.default.fileExists(atPath: path) else { throw .notFound("no recordings in \(data)") }
        return try SQLiteRecordingIndex(path: path)
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List sessions, newest first.")
        @Option(help: "Data directory.") var data: String = "data"
        @Option(help: "Only this stream.") var stream: String?
        @Option(help: "At most this many.") var limit: Int = 50

        func run() throws {
            var query = SessionQuery()
            query.streams = stream.map { [$0] }
            query.limit = limit
            do throws(RecordingError) {
                for row in try SessionCommand.index(data).sessions(query) {
                    let ended = row.endedAtMicros.map { "\(Micros.text($0)) (\(row.endReason ?? "?"))" } ?? "open"
                    print("\(row.id)\t\(row.stream)\t\(Micros.text(row.startedAtMicros))\t\(ended)\t\(row.frames) frames\(row.hold ? "\theld" : "")")
                }
            } catch {
                throw ValidationError(error.message)
            }
        }
    }

    struct Hold: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Place a legal hold on a session (while the server runs, prefer PUT /api/v1/sessions/{id}/hold).")
        @Option(help: "Data directory.") var data: String = "data"
        @Argument(help: "The session id.") var session: String
        func run() throws { try SessionCommand.setHold(data, session, true) }
    }

    struct Release: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Lift a session's legal hold.")
        @Option(help: "Data directory.") var data: String = "data"
        @Argument(help: "The session id.") var session: String
        func run() throws { try SessionCommand.setHold(data, session, false) }
    }

    static func setHold(_ data: String, _ id: String, _ hold: Bool) throws {
        do throws(RecordingError) {
            try index(data).setHold(id, hold)
            try LocalAudit.record(data: data, action: hold ? "hold" : "release", session: id)
            print("\(id): \(hold ? "held" : "released")")
        } catch {
            FileHandle.standardError.write(Data("herdlens session: \(error.message)\n".utf8))
            throw ExitCode(error.code == "notFound" ? 2 : 3)
        }
    }
}
