import Foundation
@testable import HerdRecording
import Logging

/// The recording read back: the segment reader (every reader of segments: verify, replay, export and
/// recovery walk records with it) and crash recovery at start.
enum SegmentHarnesses {
    /// The input is a whole segment file of the fuzz session. `SegmentWalker` (with and without hash
    /// checks) and `Verifier` read it. Checks: never crashes or traps; every record and every stop lies
    /// inside the file; a verify that passes saw a closed session ending on a final checkpoint.
    static let reader = Harness(name: "segment_reader", run: { input in
        let recording = FuzzRecording.shared
        let directory = scratchRoot + "/reader/" + recording.session.id
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/" + SegmentFile.name(1)
        guard FileManager.default.createFile(atPath: path, contents: Data(input)) else { finding("cannot write \(path)") }
        let size = Int64(input.count)
        // A small buffer, and one smaller than most records: the refill and grow paths run on every input.
        for (verifyHash, chunk) in [(true, 4096), (false, 64)] {
            let walker = SegmentWalker(directory: directory, verifyHash: verifyHash, chunk: chunk)
            let stop: SegmentWalker.Stop?
            do {
                stop = try walker.walk { _, segment, offset, length in
                    if segment != 1 || offset < Int64(SegmentFile.headerSize) || length <= 0 || offset + Int64(length) > size {
                        finding("a record at segment \(segment) offset \(offset) length \(length) outside a \(size)-byte file")
                    }
                    return true
                }
            } catch {
                continue  // an I/O error reading the file: reported, not a crash
            }
            switch stop {
            case .truncated(_, let offset), .corrupt(_, let offset, _):
                if offset < 0 || offset > size { finding("a stop at \(offset) outside a \(size)-byte file") }
            case .badHeader, nil:
                break
            }
        }
        let report = Verifier(trusted: TrustedKeys.load(dataDirectory: recording.directory, current: recording.key)).verify(
            directory: directory, session: recording.session.id, indexed: [], closed: true)
        if report.ok && report.checkpoints == 0 { finding("a closed session verified without a checkpoint") }
    }, seeds: { directory in
        let recording = FuzzRecording.shared
        var written = 0
        for number in SegmentFile.numbers(in: recording.sessionDirectory) {
            try FileManager.default.copyItem(atPath: recording.sessionDirectory + "/" + SegmentFile.name(number), toPath: directory + "/session-\(number)")
            written += 1
        }
        return written
    }, prepare: { _ = FuzzRecording.shared })

    /// The input is appended to the segment of a session a crash left open (two frames acknowledged),
    /// then recovery runs as at start. Checks: recovery never crashes; no acknowledged frame is lost; the
    /// session ends closed; and it verifies, whatever garbage (or real records) followed.
    static let recovery = Harness(name: "segment_recovery", run: { input in
        let recording = FuzzRecording.shared
        let data = scratchRoot + "/recovery"
        try? FileManager.default.removeItem(atPath: data)
        do {
            try FileManager.default.copyItem(atPath: recording.crashed, toPath: data)
        } catch {
            finding("cannot copy the crashed recording: \(error)")
        }
        let recordings = data + "/recordings"
        let directory = recordings + "/" + recording.session.stream + "/" + recording.session.id
        let last = SegmentFile.numbers(in: directory).last ?? 1
        guard let handle = FileHandle(forWritingAtPath: directory + "/" + SegmentFile.name(last)) else { finding("no segment in the crashed copy") }
        handle.seekToEndOfFile()
        handle.write(Data(input))
        handle.closeFile()
        var logger = Logger(label: "herdlens-fuzz")
        logger.logLevel = .critical
        do {
            let index = try SQLiteRecordingIndex(path: recordings + "/index.sqlite")
            _ = try RecoveryWorker(directory: recordings, index: index, key: recording.key, logger: logger).run()
            guard let row = try index.session(recording.session.id) else { finding("recovery lost the session") }
            let frames = try index.frames(session: row.id)
            if frames.count < recording.crashedFrames { finding("recovery kept \(frames.count) frames of \(recording.crashedFrames) acknowledged") }
            if row.isOpen { finding("recovery left the session open") }
            let report = Verifier(trusted: TrustedKeys.load(dataDirectory: recording.directory, current: recording.key)).verify(
                directory: directory, session: row.id, indexed: frames, closed: true)
            if !report.ok { finding("the recovered session does not verify: \(String(describing: report.failure))") }
        } catch {
            finding("recovery failed: \(error)")
        }
    }, seeds: { directory in
        // Real records that followed the crash point: what a crash after the copy would have left.
        let recording = FuzzRecording.shared
        let crashedDirectory = recording.crashed + "/recordings/" + recording.session.stream + "/" + recording.session.id
        let name = SegmentFile.name(SegmentFile.numbers(in: crashedDirectory).last ?? 1)
        guard let before = FileManager.default.contents(atPath: crashedDirectory + "/" + name),
            let after = FileManager.default.contents(atPath: recording.sessionDirectory + "/" + name), after.count > before.count
        else { return 0 }
        let tail = after[before.count...]
        FileManager.default.createFile(atPath: directory + "/real-tail", contents: Data(tail))
        FileManager.default.createFile(atPath: directory + "/torn-tail", contents: Data(tail.prefix(tail.count / 2)))
        FileManager.default.createFile(atPath: directory + "/zeros", contents: Data(count: 512))
        return 3
    }, prepare: { _ = FuzzRecording.shared })
}
