import HerdAnalysis
import Dispatch
import Foundation
import HerdCodecs
import HerdOverlay
import HerdProtocol
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A small pool of codec worker processes (`herdlens-codec-worker`) that parse, compose and encode
/// untrusted images for the server, so a codec fault costs one frame and never the process that holds
/// tokens, sessions and keys.
///
/// Each worker has its own serial queue (a Dispatch thread, never Swift's cooperative pool or an event
/// loop) on which requests are written and answers awaited with a deadline. A worker that dies on a
/// request, or overruns the deadline (it is then killed), fails that request with `workerCrashed` or
/// `workerTimeout`, is reported through `onFault` with the bytes it was given, and is replaced for the
/// next request. Images opened on a worker stay there under a handle until rendered (or 32 newer ones are opened), so
/// the header parse and the render share one copy of the bytes.
public final class CodecWorkerPool: Sendable {
    public struct Configuration: Sendable {
        /// Path of the `herdlens-codec-worker` executable.
        public var executable: String
        public var workers: Int
        /// Longest a request may take before its worker is killed.
        public var deadline: Duration
        /// Longest a new worker may take to load its fonts and confine itself.
        public var startDeadline: Duration = .seconds(10)
        /// Address-space limit of each worker (0: none).
        public var memoryLimitMB: Int
        /// Requests waiting per worker past which new ones are refused with `workerUnavailable`.
        public var maxQueuedPerWorker: Int
        public var limits: DecodeLimits
        /// Where each worker's empty working directory is made (removed again once the worker runs).
        public var workingDirectoryParent: String = FileManager.default.temporaryDirectory.path

        public init(
            executable: String, workers: Int = 2, deadline: Duration = .seconds(10), memoryLimitMB: Int = 2048,
            maxQueuedPerWorker: Int = 32, limits: DecodeLimits = .default
        ) {
            self.executable = executable
            self.workers = max(1, workers)
            self.deadline = deadline
            self.memoryLimitMB = memoryLimitMB
            self.maxQueuedPerWorker = maxQueuedPerWorker
            self.limits = limits
        }

        /// `herdlens-codec-worker` beside the running executable (the server binary, or the test bundle
        /// in `.build`), unless `HERDLENS_CODEC_WORKER` names one.
        public static func defaultExecutable(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
            if let path = environment["HERDLENS_CODEC_WORKER"], !path.isEmpty { return path }
            let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
            return URL(fileURLWithPath: me).deletingLastPathComponent().appendingPathComponent("herdlens-codec-worker").path
        }
    }

    /// A request that crashed or hung a worker: what it was and the bytes it carried (for forensics).
    public struct Fault: Sendable {
        public var error: CodecWorkerError
        public var operation: String
        /// How the worker ended: "signal 11 (Segmentation fault)", "killed" (deadline).
        public var ending: String
        public var input: [UInt8]
    }

    /// Something an operator counts: a worker started, or a request refused because all were busy.
    public enum Event: Sendable {
        case started(WorkerConfinement)
        case busy
    }

    public let configuration: Configuration
    private let slots: [Slot]
    private let logger: Logger
    private let onFault: @Sendable (Fault) -> Void
    private let onEvent: @Sendable (Event) -> Void
    private let nextID = Atomic<UInt64>(1)
    private let closed = Atomic<Bool>(false)

    public init(
        configuration: Configuration, logger: Logger, onFault: @escaping @Sendable (Fault) -> Void = { _ in },
        onEvent: @escaping @Sendable (Event) -> Void = { _ in }
    ) {
        // A write to a worker that just died must be an EPIPE error, not a signal that ends the server.
        signal(SIGPIPE, SIG_IGN)
        self.configuration = configuration
        self.logger = logger
        self.onFault = onFault
        self.onEvent = onEvent
        slots = (0..<configuration.workers).map { Slot(index: $0) }
    }

    /// Parses the header of `image` in a worker and keeps it there for `render`. With `decode`, the worker
    /// also decodes it (a frame whose data does not decode is refused here) and keeps the decoded image,
    /// so `render` decodes nothing again.
    public func open(_ image: [UInt8], decode shouldDecode: Bool = false, analysis: Bool = false) async throws -> WorkerImage {
        let handle = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        let slot = try leastBusySlot()
        let request = OpenRequest(
            handle: handle, maxPixels: configuration.limits.maxPixels, maxDimension: configuration.limits.maxDimension, decode: shouldDecode ? true : nil,
            analysis: analysis ? true : nil)
        let (reply, generation) = try await run(on: slot, .open, json: request, blobs: [image], input: image, generation: nil)
        let open: OpenReply = try decode(reply)
        guard let format = ImageFormat(rawValue: open.format) else { throw CodecWorkerError.crashed("worker answered an unknown format") }
        var picture: AnalysisImage?
        if analysis {
            guard let w = open.analysisWidth, let h = open.analysisHeight, w > 0, h > 0, w <= AnalysisImage.maxSide, h <= AnalysisImage.maxSide,
                let rgb = reply.blobs.first, rgb.count == w * h * 3
            else { throw CodecWorkerError.crashed("worker answered a malformed analysis picture") }
            picture = AnalysisImage(rgb: rgb, width: w, height: h, frameWidth: open.displayWidth, frameHeight: open.displayHeight)
        }
        return WorkerImage(
            slot: slot.index, generation: generation, handle: handle, bytes: image, format: format, width: open.width,
            height: open.height, displayWidth: open.displayWidth, displayHeight: open.displayHeight, analysis: picture)
    }

    /// Composes `annotations` over an opened image (coefficient path where it can), plus `variants`; the
    /// worker forgets the image (an image never rendered is forgotten once 32 newer ones are open).
    public func render(_ image: WorkerImage, annotations: AnnotationSet?, variants: [VariantSpec] = []) async throws -> RenderedFrame {
        let slot = slots[image.slot]
        let request = RenderRequest(handle: image.handle, annotations: annotations, variants: variants)
        let (reply, _) = try await run(on: slot, .render, json: request, blobs: [], input: image.bytes, generation: image.generation)
        let rendered: RenderReply = try decode(reply)
        guard reply.blobs.count == rendered.variants.count + 1 else { throw CodecWorkerError.crashed("worker answered a malformed render") }
        var report = ComposeReport(path: ComposeReport.Path(rawValue: rendered.path) ?? .pixels, width: rendered.width, height: rendered.height)
        let stages = rendered.stageNanoseconds.map { Duration.nanoseconds($0) } + Array(repeating: .zero, count: 5)
        (report.decode, report.draw, report.text, report.composite, report.encode) = (stages[0], stages[1], stages[2], stages[3], stages[4])
        let variantFrames = zip(rendered.variants, reply.blobs.dropFirst()).map { variant, bytes in
            RenderedFrame.Variant(spec: variant.spec, bytes: bytes, width: variant.width, height: variant.height)
        }
        return RenderedFrame(annotated: reply.blobs[0], report: report, variants: variantFrames)
    }

    /// A JPEG scaled to fit `maxWidth` (libjpeg's 1/2, 1/4 or 1/8 decode, re-encoded at quality 80).
    public func scale(_ jpeg: [UInt8], maxWidth: Int) async throws -> (bytes: [UInt8], width: Int, height: Int) {
        let slot = try leastBusySlot()
        let (reply, _) = try await run(
            on: slot, .scale, json: ScaleRequest(maxWidth: maxWidth), blobs: [jpeg], input: jpeg, generation: nil)
        let scaled: ScaleReply = try decode(reply)
        guard let bytes = reply.blobs.first else { throw CodecWorkerError.crashed("worker answered a malformed scale") }
        return (bytes, scaled.width, scaled.height)
    }

    /// Asks a worker to try what its confinement forbids (reading `readablePath`, a socket, a new file).
    public func probe(readablePath: String) async throws -> WorkerProbe {
        let slot = try leastBusySlot()
        let (reply, _) = try await run(on: slot, .probe, json: ProbeRequest(readablePath: readablePath), blobs: [], input: [], generation: nil)
        return try decode(reply)
    }

    /// Each worker's process id (nil where none runs now); for operators and fault tests.
    public var workerPIDs: [Int32?] { slots.map { $0.pid.load(ordering: .relaxed) }.map { $0 > 0 ? $0 : nil } }

    /// The operation each worker is busy with now, or nil when idle.
    public var busyOperations: [String?] { slots.map { slot in slot.current.withLock { $0 } } }

    /// Ends every worker; requests in flight and later ones fail with `workerUnavailable`. Never
    /// blocks: a worker busy with a request is killed, and each slot's queue then reaps its process.
    public func shutdown() {
        guard !closed.exchange(true, ordering: .relaxed) else { return }
        for slot in slots {
            let pid = slot.pid.exchange(0, ordering: .relaxed)
            if pid > 0 { kill(pid, SIGKILL) }
            slot.queue.async { slot.process = nil }
        }
    }

    // MARK: - Internals

    /// One worker's place in the pool. `process` and `generation` are touched only on `queue`.
    private final class Slot: @unchecked Sendable {
        let index: Int
        let queue: DispatchQueue
        var process: CodecWorkerProcess?
        var generation: UInt64 = 0
        var lastStartFailure: ContinuousClock.Instant?
        let outstanding = Atomic<Int>(0)
        let pid = Atomic<Int32>(0)
        let current = Mutex<String?>(nil)

        init(index: Int) {
            self.index = index
            queue = DispatchQueue(label: "herdlens.codec-worker.\(index)")
        }
    }

    private func leastBusySlot() throws -> Slot {
        let slot = slots.min { $0.outstanding.load(ordering: .relaxed) < $1.outstanding.load(ordering: .relaxed) }!
        guard slot.outstanding.load(ordering: .relaxed) < configuration.maxQueuedPerWorker else {
            onEvent(.busy)
            throw CodecWorkerError.unavailable("every codec worker has \(configuration.maxQueuedPerWorker) requests waiting")
        }
        return slot
    }

    private func decode<T: Decodable>(_ reply: WorkerMessage) throws -> T {
        guard let value = try? JSONDecoder().decode(T.self, from: Data(reply.json)) else {
            throw CodecWorkerError.crashed("worker answered a malformed \(reply.op)")
        }
        return value
    }

    /// Runs one request on `slot`'s queue. `generation` pins it to the worker that holds an image.
    private func run(
        on slot: Slot, _ op: WorkerMessage.Op, json: some Encodable & Sendable, blobs: [[UInt8]], input: [UInt8], generation: UInt64?
    ) async throws -> (WorkerMessage, UInt64) {
        guard !closed.load(ordering: .relaxed) else { throw CodecWorkerError.unavailable("the codec workers are shut down") }
        let id = nextID.wrappingAdd(1, ordering: .relaxed).oldValue
        let request = WorkerMessage(op: op, id: id, json: CodecWorkerMain.encode(json), blobs: blobs)
        slot.outstanding.wrappingAdd(1, ordering: .relaxed)
        defer { slot.outstanding.wrappingSubtract(1, ordering: .relaxed) }
        let result: Result<(WorkerMessage, UInt64), any Error> = await withCheckedContinuation { continuation in
            slot.queue.async {
                continuation.resume(returning: Result { try self.perform(request, on: slot, input: input, generation: generation) })
            }
        }
        let (reply, used) = try result.get()
        if reply.op == .failure {
            let failure: FailureReply = try decode(reply)
            throw CodecError(code: failure.code, message: failure.message)
                ?? CodecWorkerError.crashed("\(failure.code): \(failure.message)")
        }
        return (reply, used)
    }

    /// On the slot's queue: start the worker if needed, exchange, and handle a death or an overrun.
    private func perform(_ request: WorkerMessage, on slot: Slot, input: [UInt8], generation: UInt64?) throws -> (WorkerMessage, UInt64) {
        if let generation, generation != slot.generation || slot.process == nil {
            throw CodecWorkerError.restarted()
        }
        let process = try ensureProcess(slot)
        slot.current.withLock { $0 = "\(request.op)" }
        defer { slot.current.withLock { $0 = nil } }
        do {
            let reply = try process.exchange(request, deadline: .now + configuration.deadline)
            // An answer to another question is a worker gone wrong: treated like garbage on the pipe.
            guard reply.op == request.op || reply.op == .failure else { throw WorkerIOError.malformed }
            return (reply, slot.generation)
        } catch where closed.load(ordering: .relaxed) {
            retire(slot)
            throw CodecWorkerError.unavailable("the codec workers are shut down")
        } catch {
            let ending: String
            let fault: CodecWorkerError
            switch error as? WorkerIOError {
            case .timedOut?:
                ending = process.end()
                fault = .timedOut("no answer within \(configuration.deadline); worker \(process.pid) killed")
            case .closed?:
                // The worker closed its end: it is dying; wait (briefly) to say how.
                ending = process.reapAfterClose()
                fault = .crashed("worker \(process.pid) ended on this image: \(ending)")
            default:
                // Garbage on the pipe or a failed pipe call: a live worker that is no longer trusted.
                ending = process.end()
                fault = .crashed("worker \(process.pid) answered nonsense on this image and was killed")
            }
            retire(slot)
            logger.error("codec worker fault", metadata: [
                "herd.worker.pid": "\(process.pid)", "herd.worker.op": "\(request.op)", "herd.worker.ending": "\(ending)",
                "herd.error": "\(fault.code)",
            ])
            onFault(Fault(error: fault, operation: "\(request.op)", ending: ending, input: input))
            throw fault
        }
    }

    private func ensureProcess(_ slot: Slot) throws -> CodecWorkerProcess {
        if let process = slot.process { return process }
        guard !closed.load(ordering: .relaxed) else { throw CodecWorkerError.unavailable("the codec workers are shut down") }
        // A worker that cannot start is not retried more than once a second.
        if let failed = slot.lastStartFailure, ContinuousClock.now - failed < .seconds(1) {
            throw CodecWorkerError.unavailable("the codec worker failed to start less than a second ago")
        }
        do {
            let process = try CodecWorkerProcess.spawn(configuration)
            slot.process = process
            slot.generation += 1
            slot.lastStartFailure = nil
            slot.pid.store(process.pid, ordering: .relaxed)
            logger.info("codec worker started", metadata: [
                "herd.worker.pid": "\(process.pid)", "herd.worker.confinement": "\(process.hello.confinement.summary)",
            ])
            onEvent(.started(process.hello.confinement))
            return process
        } catch {
            slot.lastStartFailure = .now
            logger.error("codec worker did not start", metadata: ["herd.error": "\(error)"])
            throw error
        }
    }

    private func retire(_ slot: Slot) {
        slot.process = nil
        slot.pid.store(0, ordering: .relaxed)
    }
}
