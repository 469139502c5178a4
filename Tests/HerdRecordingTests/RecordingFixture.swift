import Foundation
import HerdProtocol
import HerdTesting
import Logging
import Synchronization
@testable import HerdRecording

/// The fixtures' data directories, removed when the test process exits (a fixture is a value, copied
/// about, and a recorder may still write in its directory after the test's last use of it).
private let fixtureDirectories = Mutex<[String]>([])
private let removeFixtureDirectoriesAtExit: Void = {
    atexit { fixtureDirectories.withLock { $0.forEach { try? FileManager.default.removeItem(atPath: $0) } } }
}()

/// A recorder over a fresh temporary data directory, with helpers that read and damage its segments.
struct RecordingFixture {
    let dataDirectory: String
    var configuration: RecorderConfiguration

    init(window: Double = 0.005, _ tune: (inout RecorderConfiguration) -> Void = { _ in }) {
        dataDirectory = NSTemporaryDirectory() + "herdrec-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        _ = removeFixtureDirectoriesAtExit
        fixtureDirectories.withLock { [dataDirectory] in $0.append(dataDirectory) }
        configuration = RecorderConfiguration(dataDirectory: dataDirectory)
        configuration.commitWindowSeconds = window
        configuration.minFreeBytes = 0
        tune(&configuration)
    }

    func recorder() throws -> Recorder {
        try Recorder(configuration: configuration, logger: Logger(label: "test"))
    }

    static let stream = StreamID("pen-1")!

    static func frame(seq: UInt64, image: [UInt8], capturedAt: Timestamp = .now(), stream: StreamID = stream) -> FrameSubmission {
        let header = Array(#"{"type":"frame","stream":"\#(stream)","seq":\#(seq),"capturedAt":"\#(capturedAt.text)"}"#.utf8)
        return FrameSubmission(stream: stream, seq: seq, capturedAt: capturedAt, receivedAt: .now(), header: header, image: image, format: "jpeg")
    }

    /// Records `count` frames and waits until each is durable.
    @discardableResult
    static func record(_ recorder: Recorder, seqs: some Sequence<UInt64>, image: (UInt64) -> [UInt8]) async throws -> [String] {
        var sessions: [String] = []
        for seq in seqs {
            guard case .recorded(let session, _, let durability) = await recorder.admit(frame(seq: seq, image: image(seq))) else {
                throw RecordingError.storage("seq \(seq) not recorded")
            }
            try await durability.wait()
            sessions.append(session)
        }
        // An ack means durable in the segments; the index commit follows on the stream's queue. A pass of
        // housekeeping runs on that queue after it, so the index is complete when this returns.
        await recorder.housekeeping()
        return sessions
    }

    func sessionDirectory(_ row: SessionRow) -> String { configuration.directory + "/" + row.stream + "/" + row.id }

    /// Start offsets and sizes of every record in a session's first segment.
    func records(_ row: SessionRow, segment: Int = 1) throws -> [(offset: Int, size: Int, record: Record)] {
        var out: [(Int, Int, Record)] = []
        _ = try SegmentWalker(directory: sessionDirectory(row), verifyHash: false).walk { record, seg, offset, size in
            if seg == segment { out.append((Int(offset), size, record)) }
            return true
        }
        return out
    }

    func segmentPath(_ row: SessionRow, _ n: Int = 1) -> String { sessionDirectory(row) + "/" + SegmentFile.name(n) }
}

/// CRC32C through the same C shim the recorder uses, for tests that forge a consistent CRC.
func herdcrcForTests(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 { CRC32C.checksum(UnsafeRawBufferPointer(bytes)) }
