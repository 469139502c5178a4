import Crypto
import Dispatch
import Foundation
import HerdWorker
import Logging

/// Keeps the inputs that crashed or hung a codec worker, for whoever investigates: each as
/// `<dataDirectory>/forensics/<time>-<sha256 prefix>.bin` with a `.json` beside it (operation, how the
/// worker ended, size, SHA-256). Bounded in files and bytes, oldest removed first; written on a queue of
/// its own, never on an event loop or the cooperative pool.
final class FaultForensics: Sendable {
    let directory: URL
    let maxFiles: Int
    let maxBytes: Int
    private let logger: Logger
    private let queue = DispatchQueue(label: "herdlens.forensics")

    init(dataDirectory: String, maxFiles: Int, maxBytes: Int, logger: Logger) {
        directory = URL(fileURLWithPath: dataDirectory).appendingPathComponent("forensics")
        self.maxFiles = maxFiles
        self.maxBytes = maxBytes
        self.logger = logger
    }

    func keep(_ fault: CodecWorkerPool.Fault) {
        guard maxFiles > 0, fault.input.count <= maxBytes else { return }
        queue.async { [self] in
            do {
                try write(fault)
            } catch {
                logger.warning("could not keep a fault input", metadata: ["herd.error": "\(error)"])
            }
        }
    }

    private struct Note: Encodable {
        var operation: String
        var error: String
        var ending: String
        var bytes: Int
        var sha256: String
        var at: String
    }

    private func write(_ fault: CodecWorkerPool.Fault) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let digest = SHA256.hash(data: fault.input).map { String(format: "%02x", $0) }.joined()
        let now = Date()
        let stamp = ISO8601DateFormatter.string(from: now, timeZone: .gmt, formatOptions: [.withInternetDateTime, .withFractionalSeconds])
            .replacingOccurrences(of: ":", with: "")
        let base = directory.appendingPathComponent("\(stamp)-\(digest.prefix(16))")
        try Data(fault.input).write(to: base.appendingPathExtension("bin"))
        let note = Note(
            operation: fault.operation, error: fault.error.code, ending: fault.ending, bytes: fault.input.count, sha256: digest,
            at: ISO8601DateFormatter().string(from: now))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(note).write(to: base.appendingPathExtension("json"))
        try prune()
        logger.notice("kept a fault input", metadata: ["herd.forensics.file": "\(base.lastPathComponent).bin", "herd.error": "\(fault.error.code)"])
    }

    /// Oldest inputs (and their notes) removed until both bounds hold.
    private func prune() throws {
        let keys: [URLResourceKey] = [.fileSizeKey, .contentModificationDateKey]
        var inputs = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: keys)
            .filter { $0.pathExtension == "bin" }
            .map { url in (url: url, values: try url.resourceValues(forKeys: Set(keys))) }
            .sorted { $0.url.lastPathComponent < $1.url.lastPathComponent }
        var total = inputs.reduce(0) { $0 + ($1.values.fileSize ?? 0) }
        while !inputs.isEmpty, inputs.count > maxFiles || total > maxBytes {
            let oldest = inputs.removeFirst()
            total -= oldest.values.fileSize ?? 0
            try? FileManager.default.removeItem(at: oldest.url)
            try? FileManager.default.removeItem(at: oldest.url.deletingPathExtension().appendingPathExtension("json"))
        }
    }
}
