import Foundation
import HerdExport
@testable import HerdRecording

/// The evidence bundle as `herdlens verify` reads it on an auditor's machine: ZIP directory, entries,
/// the signed listing, each session's chain. The input is a whole bundle file. Checks: never crashes,
/// traps or runs out of memory (the harness's RSS limit); a refusal is an `ExportError`; a bundle that
/// verifies names the pinned key.
enum BundleHarness {
    static let harness = Harness(name: "bundle_reader", run: { input in
        let recording = FuzzRecording.shared
        let path = scratchRoot + "/bundle.zip"
        guard FileManager.default.createFile(atPath: path, contents: Data(input)) else { finding("cannot write \(path)") }
        for pinned in [PinnedKey.publicKey(recording.key.publicKey), .none] {
            do {
                let report = try BundleVerifier().verify(path: path, pinned: pinned)
                if report.ok, case .publicKey = pinned, !report.pinned { finding("a bundle verified under a pinned key reports it unpinned") }
            } catch is ExportError {
                // Refused with a reason.
            } catch {
                finding("unexpected error type \(type(of: error)): \(error)")
            }
        }
    }, seeds: { directory in
        let recording = FuzzRecording.shared
        let index = try SQLiteRecordingIndex(path: recording.directory + "/recordings/index.sqlite")
        let reader = SessionReader(recordingsDirectory: recording.directory + "/recordings", index: index)
        let sink = try FileSink(path: directory + "/session.zip")
        _ = try BundleExporter(reader: reader, key: recording.key, temporaryDirectory: scratchRoot + "/tmp").export(
            sessions: [recording.session], audit: [], exportedBy: "fuzz", to: sink)
        return 1
    }, prepare: { _ = FuzzRecording.shared })
}
