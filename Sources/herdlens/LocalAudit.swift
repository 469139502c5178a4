import Foundation
import HerdRecording

/// Command-line actions go into the data directory's audit log under the local user's name, signed at
/// once (the process exits next).
enum LocalAudit {
    static func record(data: String, action: String, stream: String? = nil, session: String? = nil, detail: String? = nil, frames: Int? = nil) throws(RecordingError) {
        let configuration = RecorderConfiguration(dataDirectory: data)
        let key = try RecordingKey.loadOrCreate(path: configuration.keyPath)
        let log = try AuditLog(dataDirectory: data, key: key)
        let (actor, name) = AuditEntry.localActor()
        var entry = AuditEntry(actor: actor, actorName: name, role: "local", action: action, stream: stream, session: session, detail: detail)
        entry.frames = frames
        try log.append(entry, sign: true)
    }

    /// As `record`, reporting a failure on stderr without failing the command (read-only actions).
    static func note(data: String, action: String, stream: String? = nil, session: String? = nil, detail: String? = nil) {
        do throws(RecordingError) {
            try record(data: data, action: action, stream: stream, session: session, detail: detail)
        } catch {
            FileHandle.standardError.write(Data("herdlens: warning: the audit log was not written: \(error.message)\n".utf8))
        }
    }
}
