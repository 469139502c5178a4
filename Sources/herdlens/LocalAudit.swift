import Foundation
import HerdRecording

/// Command-line actions go into the data directory's audit log under the local user's name, signed at
/// once (the process exits next).
enum LocalAudit {
    /// The data directory's audit log and the recording key it signs with.
    static func open(data: String) throws(RecordingError) -> (AuditLog, RecordingKey) {
        let key = try RecordingKey.loadOrCreate(path: RecorderConfiguration(dataDirectory: data).keyPath)
        return (try AuditLog(dataDirectory: data, key: key), key)
    }

    @discardableResult
    static func record(data: String, action: String, stream: String? = nil, session: String? = nil, detail: String? = nil, frames: Int? = nil) throws(RecordingError) -> (AuditLog, RecordingKey) {
        let (log, key) = try open(data: data)
        let (actor, name) = AuditEntry.localActor()
        var entry = AuditEntry(actor: actor, actorName: name, role: "local", action: action, stream: stream, session: session, detail: detail)
        entry.frames = frames
        try log.append(entry, sign: true)
        return (log, key)
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
