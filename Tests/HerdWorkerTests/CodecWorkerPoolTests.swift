import Foundation
import HerdCodecs
import HerdImaging
import HerdOverlay
import HerdProtocol
import HerdTesting
import HerdWorker
import Logging
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The codec workers as the server meets them: real processes of the built `herdlens-codec-worker`,
/// real pipes, real crashes (SIGKILL mid-frame) and real hangs (a deadline shorter than the frame).
@Suite("Codec worker pool", .timeLimit(.minutes(2)))
struct CodecWorkerPoolTests {
    static let logger = Logger(label: "test.worker")

    final class Faults: Sendable {
        let list = Mutex<[CodecWorkerPool.Fault]>([])
        func add(_ fault: CodecWorkerPool.Fault) { list.withLock { $0.append(fault) } }
        var all: [CodecWorkerPool.Fault] { list.withLock { $0 } }
    }

    func pool(workers: Int = 1, deadline: Duration = .seconds(20), faults: Faults = Faults()) -> CodecWorkerPool {
        CodecWorkerPool(
            configuration: .init(executable: CodecWorkerPool.Configuration.defaultExecutable(), workers: workers, deadline: deadline),
            logger: Self.logger, onFault: { faults.add($0) })
    }

    /// A valid frame that takes seconds on purpose: 6000x6000 PNG (pixel path) with large labelled boxes.
    static func slowFrame() throws -> (bytes: [UInt8], annotations: AnnotationSet) {
        let bytes = try PNGEncoder().encode(
            PixelBuffer(width: 6000, height: 6000, format: .rgb, fill: Color(red: 90, green: 110, blue: 70)), fast: true)
        let style = AnnotationStyle(stroke: "#FF3B30", fill: "#FF3B3040", strokeWidth: 12, fontSize: 48)
        let boxes = (0..<8).map { i in
            Annotation.box(BoxAnnotation(rect: PixelRect(x: Double(i) * 550, y: 300, width: 1500, height: 1200), label: "pig \(i)", style: style))
        }
        return (bytes, AnnotationSet(frame: FrameSize(width: 6000, height: 6000), items: boxes))
    }

    /// Waits (with a deadline) until a worker reports `operation` in progress.
    func waitUntilBusy(_ pool: CodecWorkerPool, with operation: String) async throws -> Int32 {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let i = pool.busyOperations.firstIndex(of: operation), let pid = pool.workerPIDs[i] { return pid }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw CodecWorkerError.timedOut("no worker became busy with \(operation)")
    }

    @Test("every sample frame renders in a worker exactly as in process", arguments: SampleFrames.frameNames)
    func rendersLikeInProcess(name: String) async throws {
        let pool = pool()
        defer { pool.shutdown() }
        let bytes = try SampleFrames.bytes("frames", name)
        let base = (name as NSString).deletingPathExtension
        let annotations = try JSONDecoder().decode(AnnotationSet.self, from: Data(SampleFrames.bytes("frames", "\(base).annotations.json")))
        let image = try await pool.open(bytes)
        let info = try ImageDecoder().readInfo(bytes)
        #expect(image.displayWidth == info.displayWidth && image.displayHeight == info.displayHeight)
        let rendered = try await pool.render(image, annotations: annotations, variants: [VariantSpec(overlay: true, maxWidth: 640), VariantSpec(overlay: false, maxWidth: 320)])
        let (expected, report) = try FrameComposer(renderer: OverlayRenderer()).compose(bytes, annotations: annotations)
        #expect(rendered.annotated == expected)
        #expect(rendered.report.path == report.path)
        #expect(rendered.variants.count == 2)
        for variant in rendered.variants {
            let decoded = try ImageDecoder().decode(variant.bytes)
            #expect(decoded.width == variant.width)
            // Scaling is libjpeg's scaled decode: a PNG original (overlay off) goes out as it came.
            if variant.spec.overlay || info.format == .jpeg { #expect(decoded.width <= variant.spec.maxWidth) }
        }
    }

    @Test("refused images answer their codec error and the worker carries on", arguments: SampleFrames.malformedNames)
    func malformed(name: String) async throws {
        let pool = pool()
        defer { pool.shutdown() }
        let expected = String(name.split(separator: "-", maxSplits: 1)[0])
        let bytes = try SampleFrames.bytes("malformed", name)
        var failed: (any Error)?
        do {
            let image = try await pool.open(bytes)
            _ = try await pool.render(image, annotations: nil)
        } catch {
            failed = error
        }
        let codec = try #require(failed as? CodecError, "\(name): \(String(describing: failed))")
        #expect(codec.code == expected, "\(name): \(codec)")
        let pid = pool.workerPIDs[0]
        let good = try await pool.open(try SampleFrames.bytes("variants", "jpeg-420-baseline.jpg"))
        #expect(try await pool.render(good, annotations: nil).annotated.count > 0)
        #expect(pool.workerPIDs[0] == pid, "a refused image must not cost a worker")
    }

    @Test("the hostile JPEGs of issue 7 render through the pixel path", arguments: SampleFrames.hostileNames)
    func hostile(name: String) async throws {
        let pool = pool()
        defer { pool.shutdown() }
        let image = try await pool.open(try SampleFrames.bytes("hostile", name))
        let rendered = try await pool.render(image, annotations: AnnotationSet(frame: FrameSize(width: 320, height: 180), items: [
            .box(BoxAnnotation(rect: PixelRect(x: 10, y: 10, width: 100, height: 80), label: "pig")),
        ]))
        #expect(rendered.report.path == .pixels)
        #expect(try JPEGDecoder().decode(rendered.annotated).width == 320)
    }

    @Test("a worker killed mid-frame fails that frame only, is replaced, and its input is kept")
    func killedMidFrame() async throws {
        let faults = Faults()
        let pool = pool(faults: faults)
        defer { pool.shutdown() }
        let slow = try Self.slowFrame()
        let image = try await pool.open(slow.bytes)
        let rendering = Task { try await pool.render(image, annotations: slow.annotations) }
        let pid = try await waitUntilBusy(pool, with: "render")
        #expect(kill(pid, SIGKILL) == 0)
        await #expect(throws: CodecWorkerError.crashed()) { _ = try await rendering.value }
        let fault = try #require(faults.all.first)
        #expect(fault.error == .crashed() && fault.operation == "render" && fault.input == slow.bytes)
        #expect(fault.ending.contains("signal 9"), "\(fault.ending)")
        // The next frame gets a new worker.
        let good = try await pool.open(try SampleFrames.bytes("frames", "pen-day-720p.jpg"))
        #expect(try await pool.render(good, annotations: nil).report.width == 1280)
        #expect(pool.workerPIDs[0] != pid)
    }

    @Test("a frame that overruns the deadline is refused, its worker killed and replaced")
    func hangs() async throws {
        let faults = Faults()
        let pool = pool(deadline: .milliseconds(300), faults: faults)
        defer { pool.shutdown() }
        let slow = try Self.slowFrame()
        let image = try await pool.open(slow.bytes)
        let pid = try #require(pool.workerPIDs[0])
        await #expect(throws: CodecWorkerError.timedOut()) { _ = try await pool.render(image, annotations: slow.annotations) }
        #expect(faults.all.map(\.error) == [.timedOut()])
        // The hung worker is gone, not left running.
        #expect(kill(pid, 0) != 0)
        let good = try await pool.open(try SampleFrames.bytes("variants", "jpeg-420-baseline.jpg"))
        #expect(try await pool.render(good, annotations: nil).report.width == 320)
    }

    @Test("runaway memory past the worker's limit fails that frame, not the next one")
    func runawayMemory() async throws {
        let faults = Faults()
        let pool = CodecWorkerPool(
            configuration: .init(executable: CodecWorkerPool.Configuration.defaultExecutable(), workers: 1, memoryLimitMB: 200),
            logger: Self.logger, onFault: { faults.add($0) })
        defer { pool.shutdown() }
        let slow = try Self.slowFrame()  // 36 MP: 108 MB of RGB and a 144 MB overlay canvas, over 200 MB
        var failure: (any Error)?
        do {
            _ = try await pool.render(try await pool.open(slow.bytes), annotations: slow.annotations)
        } catch {
            failure = error
        }
        // libjpeg or libpng may report the failed allocation (outOfMemory), or the process dies of it.
        let refused = (failure as? CodecError).map { $0 == .outOfMemory() } ?? ((failure as? CodecWorkerError) == .crashed())
        #expect(refused, "\(String(describing: failure))")
        let good = try await pool.open(try SampleFrames.bytes("frames", "pen-day-720p.jpg"))
        #expect(try await pool.render(good, annotations: nil).report.width == 1280)
    }

    @Test("an image opened on a worker that then crashed answers workerRestarted, not a fault of its own")
    func handleOutlivesWorker() async throws {
        let faults = Faults()
        let pool = pool(faults: faults)
        defer { pool.shutdown() }
        let waiting = try await pool.open(try SampleFrames.bytes("variants", "jpeg-420-baseline.jpg"))
        let slow = try Self.slowFrame()
        let image = try await pool.open(slow.bytes)
        let rendering = Task { try await pool.render(image, annotations: slow.annotations) }
        let pid = try await waitUntilBusy(pool, with: "render")
        kill(pid, SIGKILL)
        _ = try? await rendering.value
        await #expect(throws: CodecWorkerError.restarted()) { _ = try await pool.render(waiting, annotations: nil) }
        #expect(faults.all.count == 1)
    }

    @Test("workers are confined: no new privileges, seccomp, no files, no sockets")
    func confinement() async throws {
        let pool = pool()
        defer { pool.shutdown() }
        let probe = try await pool.probe(readablePath: SampleFrames.url("frames", "pen-day-720p.jpg").path)
        #expect(!probe.readFile)
        #expect(!probe.openedSocket)
        #expect(!probe.createdFile)
    }

    @Test("a worker's empty working directory is gone once it runs, so a killed server leaves none behind")
    func workingDirectoryRemoved() async throws {
        let parent = NSTemporaryDirectory() + "herdworker-test-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: parent) }
        var configuration = CodecWorkerPool.Configuration(executable: CodecWorkerPool.Configuration.defaultExecutable(), workers: 1)
        configuration.workingDirectoryParent = parent
        let pool = CodecWorkerPool(configuration: configuration, logger: Self.logger)
        defer { pool.shutdown() }
        let probe = try await pool.probe(readablePath: SampleFrames.url("frames", "pen-day-720p.jpg").path)
        #expect(!probe.createdFile)
        let pid = try #require(pool.workerPIDs.first ?? nil)
        #expect(kill(pid, 0) == 0, "the worker still runs")
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent) == [])
    }

    @Test("a missing worker executable refuses frames with workerUnavailable")
    func missingExecutable() async throws {
        let pool = CodecWorkerPool(configuration: .init(executable: "/nonexistent/herdlens-codec-worker"), logger: Self.logger)
        defer { pool.shutdown() }
        await #expect(throws: CodecWorkerError.unavailable()) { _ = try await pool.open(try SampleFrames.bytes("variants", "jpeg-420-baseline.jpg")) }
    }
}
