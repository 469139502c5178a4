import Foundation
import HerdCodecs
import HerdTesting
import Testing

/// `herdlens compose` end to end: the real binary, real files, documented exit codes.
@Suite("herdlens compose", .timeLimit(.minutes(5)))
struct ComposeCommandTests {
    struct Run {
        var status: Int32
        /// False when it died of a signal (`status` is then the signal).
        var exited: Bool
        var stdout: String
        var stderr: String
    }

    static let binary: URL = {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("herdlens"),
            SampleFrames.repositoryRoot.appendingPathComponent(".build/debug/herdlens"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }()

    /// Runs the real binary and waits for it off the cooperative pool (see `OffPool`).
    func herdlens(_ arguments: [String]) async throws -> Run {
        let run = try await OffPool.run { try Self.runBlocking(arguments) }
        // A signal (the crash this suite exists for) is never an exit code.
        #expect(run.exited, "herdlens \(arguments.joined(separator: " ")) died of signal \(run.status)")
        return run
    }

    private static func runBlocking(_ arguments: [String]) throws -> Run {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = SampleFrames.repositoryRoot
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // A command that hangs is killed (SIGKILL: a hung one may not answer SIGTERM): the reads below
        // then end, and the test fails on the status.
        let deadline = ProcessDeadline.killAfter(60, process)
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        deadline.cancel()
        return Run(
            status: process.terminationStatus, exited: process.terminationReason == .exit,
            stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }

    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("herdlens-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    var frame: String { SampleFrames.url("frames", "pen-day-720p.jpg").path }
    var annotations: String { SampleFrames.url("frames", "pen-day-720p.annotations.json").path }

    @Test("one frame to JPEG and to PNG")
    func singleFrame() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for name in ["out.jpg", "out.png"] {
            let output = dir.appendingPathComponent(name)
            let run = try await herdlens(["compose", "--annotations", annotations, "--output", output.path, frame])
            #expect(run.status == 0, "\(run.stderr)")
            let image = try ImageDecoder().decode([UInt8](Data(contentsOf: output)))
            #expect(image.width == 1280 && image.height == 720)
        }
        let run = try await herdlens(["compose", "--quality", "60", "-v", "--annotations", annotations, "--output", dir.appendingPathComponent("q.jpg").path, frame])
        #expect(run.status == 0 && run.stdout.contains("path=pixels"))
    }

    @Test("batch mode over a directory uses each frame's sidecar")
    func batch() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try await herdlens(["compose", "-v", "--output", dir.path, SampleFrames.root.appendingPathComponent("frames").path])
        #expect(run.status == 0, "\(run.stderr)")
        let written = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(written.count == SampleFrames.frameNames.count)
        #expect(written.allSatisfy { $0.hasSuffix(".jpg") })
        #expect(run.stdout.contains("path=coefficients") && run.stdout.contains("path=pixels"))
    }

    @Test("a bad image exits 3 naming the file, and the rest of the batch is still written")
    func badImage() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = SampleFrames.url("malformed", "truncated--jpeg-half.jpg").path
        let run = try await herdlens(["compose", "--output", dir.path, bad, frame])
        #expect(run.status == 3)
        #expect(run.stderr.contains("truncated--jpeg-half.jpg") && run.stderr.contains("truncated"))
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("pen-day-720p.jpg").path))
        // A file over the 64 MB input limit is refused without being read whole.
        let huge = dir.appendingPathComponent("huge.jpg")
        _ = FileManager.default.createFile(atPath: huge.path, contents: nil)
        let handle = try FileHandle(forWritingTo: huge)
        try handle.truncate(atOffset: 70 * 1024 * 1024)
        try handle.close()
        let tooLarge = try await herdlens(["compose", "--output", dir.appendingPathComponent("h.jpg").path, huge.path])
        #expect(tooLarge.status == 3 && tooLarge.stderr.contains("tooLarge"))
        // The pixel limit is configurable: a 720p frame is over a 0.5 MP limit.
        let limited = try await herdlens(["compose", "--max-megapixels", "0.5", "--output", dir.appendingPathComponent("l.jpg").path, frame])
        #expect(limited.status == 3 && limited.stderr.contains("tooLarge"))
    }

    /// Every refused input ends the process with exit 3 and its code, never a signal; the hostile inputs
    /// that crashed the coefficient path (issue 7) are composed.
    @Test("refused inputs exit 3 with their code, never a signal", arguments: SampleFrames.malformedNames)
    func refusedInput(name: String) async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let expected = String(name.split(separator: "-", maxSplits: 1)[0])
        let run = try await herdlens(["compose", "--output", dir.appendingPathComponent("out.jpg").path, SampleFrames.url("malformed", name).path])
        #expect(run.status == 3, "\(name): \(run.stderr)")
        #expect(run.stderr.contains(name) && run.stderr.contains(expected), "\(name): \(run.stderr)")
    }

    @Test("hostile inputs compose", arguments: SampleFrames.hostileNames)
    func hostileInput(name: String) async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let output = dir.appendingPathComponent("out.jpg")
        let run = try await herdlens(["compose", "-v", "--annotations", SampleFrames.url("frames", "pen-day-720p.annotations.json").path,
                                "--output", output.path, SampleFrames.url("hostile", name).path])
        #expect(run.status == 0, "\(name): \(run.stderr)")
        #expect(run.stdout.contains("path=pixels"))
        let image = try ImageDecoder().decode([UInt8](Data(contentsOf: output)))
        #expect(image.width == 320 && image.height == 180)
    }

    @Test("bad annotations exit 4")
    func badAnnotations() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let invalid = SampleFrames.repositoryRoot.appendingPathComponent("Protocol/v1/examples/invalid/invalidAnnotation--bad-colour.json").path
        let run = try await herdlens(["compose", "--annotations", invalid, "--output", dir.appendingPathComponent("o.jpg").path, frame])
        #expect(run.status == 4)
        #expect(run.stderr.contains("bad-colour.json") && run.stderr.contains("invalidAnnotation"))
        let garbage = SampleFrames.repositoryRoot.appendingPathComponent("Protocol/v1/examples/invalid/badJSON--not-json.json").path
        #expect(try await herdlens(["compose", "--annotations", garbage, "--output", dir.appendingPathComponent("o.jpg").path, frame]).status == 4)
    }

    @Test("I/O errors exit 5, usage errors 64")
    func ioAndUsage() async throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let missing = try await herdlens(["compose", "--output", dir.appendingPathComponent("o.jpg").path, "/nonexistent/frame.jpg"])
        #expect(missing.status == 5 && missing.stderr.contains("/nonexistent/frame.jpg"))
        let unwritable = try await herdlens(["compose", "--output", "/proc/herdlens/o.jpg", frame])
        #expect(unwritable.status == 5)
        let badExtension = try await herdlens(["compose", "--output", dir.appendingPathComponent("o.gif").path, frame])
        #expect(badExtension.status == 5)
        #expect(try await herdlens(["compose", "--quality", "500", "--output", "x.jpg", frame]).status == 64)
        #expect(try await herdlens(["compose", "--output", "x.jpg"]).status == 64)
    }
}
