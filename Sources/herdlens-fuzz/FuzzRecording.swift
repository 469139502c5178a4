import Foundation
import HerdExport
import HerdProtocol
@testable import HerdRecording
import Logging

/// A real recording made once per process by the real `Recorder`: a session of six frames (with
/// annotations and a telemetry record) on stream `fuzz-cam`, and a copy of its data directory taken after
/// the first two frames were acknowledged while the session was still open, as a crash would leave it.
/// The harnesses mutate copies; the seeds are its segment file and its exported bundle. With
/// `HERDLENS_FUZZ_HOME` set (scripts/fuzz.sh sets it) the recording is made once there and reused by
/// later runs, so seeds written by one run chain with the session another run fuzzes.
struct FuzzRecording: @unchecked Sendable {
    let directory: String
    let key: RecordingKey
    /// The finished session (closed, signed).
    let session: SessionRow
    /// The data directory as a crash left it: the session open after two acknowledged frames.
    let crashed: String
    /// Frames the crashed copy's index already holds (recovery must keep at least these).
    let crashedFrames: Int

    var sessionDirectory: String { directory + "/recordings/" + session.stream + "/" + session.id }

    static let shared: FuzzRecording = {
        do {
            return try make()
        } catch {
            finding("cannot make the fuzz recording: \(error)")
        }
    }()

    private struct Saved: Codable {
        var session: String
        var crashedFrames: Int
    }

    private static func make() throws -> FuzzRecording {
        let home = ProcessInfo.processInfo.environment["HERDLENS_FUZZ_HOME"] ?? scratchRoot
        let root = home + "/recording"
        let crashed = home + "/crashed"
        let savedPath = home + "/recording.json"
        if let data = FileManager.default.contents(atPath: savedPath), let saved = try? JSONDecoder().decode(Saved.self, from: data) {
            let key = try RecordingKey.loadOrCreate(path: RecorderConfiguration(dataDirectory: root).keyPath)
            let index = try SQLiteRecordingIndex(path: root + "/recordings/index.sqlite")
            guard let row = try index.session(saved.session) else { throw FuzzSetupError("\(savedPath) names a session \(root) lacks") }
            return FuzzRecording(directory: root, key: key, session: row, crashed: crashed, crashedFrames: saved.crashedFrames)
        }
        try? FileManager.default.removeItem(atPath: root)
        var logger = Logger(label: "herdlens-fuzz")
        logger.logLevel = .critical
        var configuration = RecorderConfiguration(dataDirectory: root)
        configuration.minFreeBytes = 0
        let recorder = try Recorder(configuration: configuration, logger: logger)
        let stream = StreamID("fuzz-cam")!
        // A tiny JPEG-shaped image: the recorder stores bytes as received and never decodes them.
        let image: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0] + Array(repeating: 0x5A, count: 96) + [0xFF, 0xD9]
        let annotations = try WireJSON.decode(AnnotationSet.self, from: Array(#"{"version":1,"frame":{"width":16,"height":16},"items":[{"kind":"box","rect":{"x":1,"y":2,"width":10,"height":8},"class":"pig","confidence":0.9,"trackId":3}]}"#.utf8))
        let outcome = Blocking.run { () async throws -> (SessionRow, Int) in
            _ = try await recorder.startSession(stream: stream, consignment: nil, openedBy: "fuzz")
            var crashedFrames = 0
            for seq in UInt64(1)...6 {
                let at = Timestamp(date: Date(timeIntervalSince1970: 1_796_000_000 + Double(seq) / 10))
                let header = WireJSON.encode(DeviceFrameHeader(stream: stream, seq: seq, capturedAt: at))
                let admission = await recorder.admit(FrameSubmission(
                    stream: stream, seq: seq, capturedAt: at, receivedAt: at, header: header, image: image, format: "jpeg", width: 16, height: 16,
                    annotations: annotations))
                guard case .recorded(_, _, let durability) = admission else { throw FuzzSetupError("frame \(seq) not recorded: \(admission)") }
                try await durability.wait()
                if seq == 2 {
                    recorder.telemetry(stream: stream, message: Array(#"{"type":"telemetry","stream":"fuzz-cam"}"#.utf8), receivedAt: at)
                    try? FileManager.default.removeItem(atPath: crashed)
                    try FileManager.default.copyItem(atPath: root, toPath: crashed)
                    crashedFrames = try recorder.index.frames(session: try recorder.index.allSessions().first!.id).count
                }
            }
            guard let row = try await recorder.endSession(stream: stream, reason: "api") else { throw FuzzSetupError("no session to end") }
            return (row, crashedFrames)
        }
        let (row, crashedFrames) = try outcome.get()
        guard let closed = try recorder.index.session(row.id) else { throw FuzzSetupError("session \(row.id) not indexed") }
        try JSONEncoder().encode(Saved(session: closed.id, crashedFrames: crashedFrames)).write(to: URL(fileURLWithPath: savedPath))
        return FuzzRecording(directory: root, key: recorder.key, session: closed, crashed: crashed, crashedFrames: crashedFrames)
    }
}

struct FuzzSetupError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Runs async setup from the fuzzer's synchronous thread (never from the cooperative pool).
enum Blocking {
    static func run<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) -> Result<T, any Error> {
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox<T>()
        Task {
            do { box.result = .success(try await body()) } catch { box.result = .failure(error) }
            done.signal()
        }
        done.wait()
        return box.result!
    }

    private final class ResultBox<T>: @unchecked Sendable {
        var result: Result<T, any Error>?
    }
}
