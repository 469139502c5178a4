import HerdCodecs
import HerdOverlay
import HerdProtocol
import HerdWorker
import Logging

/// One stream's live path in two stages.
///
/// **Accept** (`accept`): frames of the stream one at a time, in arrival order: open the image in a codec
/// worker (its header parsed and its data decoded, so a frame that does not decode is refused before it
/// is kept), compute annotations and alerts, then hand it to the caller's `record` step (deduplicate,
/// append to the recording). Nothing in it waits for the disk or for drawing.
///
/// **Render**: drawing, encoding and fan-out, on its own task. Only this stage drops frames under load:
/// when it falls behind, the newest accepted frame replaces the one waiting. A worker fault here costs
/// the live picture of one frame, never its record (`onRenderFault` lets the server note it).
///
/// A slow or broken stream never delays another; a bad image is an error for that frame only.
public actor StreamPipeline {
    public let stream: StreamID
    private let codecs: CodecWorkerPool
    private let annotator: FrameAnnotator
    private let hub: LiveHub
    private let logger: Logger
    private var sensors: Sensors?
    private var consignment: Consignment?
    private var lastAlertCodes: Set<String> = []
    private let observer: @Sendable (ComposeReport) -> Void
    private let onRenderFault: @Sendable (PreparedFrame, any Error) -> Void
    /// Accept stage: one frame at a time (an actor alone is re-entered at every `await`).
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []
    /// Render stage: the frame waiting to be drawn (newest wins) and whether the render task runs.
    private var nextRender: PreparedFrame?
    private var rendering = false
    private var lastRenderedSeq: UInt64?
    private(set) var lastActivity = ContinuousClock.now
    private let demand = VariantDemand()

    /// Frames of this stream waiting for the one in progress, past which new ones are refused.
    public static let maxWaiting = 64

    /// `observer` sees each composed frame's stage timings (the server records them as metrics).
    public init(
        stream: StreamID, hub: LiveHub, codecs: CodecWorkerPool, annotator: FrameAnnotator = FrameAnnotator(), logger: Logger,
        observer: @escaping @Sendable (ComposeReport) -> Void = { _ in },
        onRenderFault: @escaping @Sendable (PreparedFrame, any Error) -> Void = { _, _ in }
    ) {
        self.stream = stream
        self.hub = hub
        self.codecs = codecs
        self.observer = observer
        self.onRenderFault = onRenderFault
        self.annotator = annotator
        var logger = logger
        logger[metadataKey: "herd.stream"] = "\(stream)"
        self.logger = logger
    }

    /// The accept stage for one frame. Throws `CodecError` for an image that does not parse or decode and
    /// `CodecWorkerError` when a worker crashed or hung on it. `record` runs in arrival order and returns
    /// its own result with whether the frame is to be shown.
    public func accept<T: Sendable>(
        _ header: DeviceFrameHeader, image: [UInt8], receivedAt: Timestamp, receivedInstant: ContinuousClock.Instant = .now,
        record: @Sendable (PreparedFrame) async -> (T, RecordDecision)
    ) async throws -> T {
        guard await enterInTurn() else {
            throw CodecWorkerError.unavailable("stream \(stream) already has \(Self.maxWaiting) frames waiting")
        }
        defer { leaveTurn() }
        lastActivity = .now
        let opened = try await codecs.open(image, decode: true)
        if let readings = header.sensors { merge(readings) }
        let (set, alerts) = annotator.annotations(
            for: header, sensors: sensors, consignment: consignment, receivedAt: receivedAt, width: opened.displayWidth,
            height: opened.displayHeight)
        let frame = PreparedFrame(
            header: header, image: image, opened: opened, annotations: set, alerts: alerts, receivedAt: receivedAt,
            receivedInstant: receivedInstant)
        let (result, decision) = await record(frame)
        if decision == .render {
            raiseNewAlerts(alerts)
            if lastRenderedSeq.map({ header.seq > $0 }) ?? true { queueRender(frame) }
        }
        return result
    }

    /// Waits for the frames before this one, in arrival order; false at once when too many wait.
    private func enterInTurn() async -> Bool {
        guard busy else {
            busy = true
            return true
        }
        guard waiting.count < Self.maxWaiting else { return false }
        await withCheckedContinuation { waiting.append($0) }
        return true
    }

    private func leaveTurn() {
        if waiting.isEmpty {
            busy = false
        } else {
            waiting.removeFirst().resume()
        }
    }

    // MARK: render stage

    private func queueRender(_ frame: PreparedFrame) {
        nextRender = frame
        guard !rendering else { return }
        rendering = true
        Task { await renderLoop() }
    }

    private func renderLoop() async {
        while let frame = nextRender {
            nextRender = nil
            if let last = lastRenderedSeq, frame.header.seq <= last { continue }
            do {
                let rendered = try await render(frame)
                lastRenderedSeq = frame.header.seq
                let report = rendered.report
                let live = LiveFrameHeader(
                    stream: stream, seq: frame.header.seq, capturedAt: frame.header.capturedAt, receivedAt: frame.receivedAt,
                    width: report.width, height: report.height, overlay: true, annotations: frame.annotations.items, alerts: frame.alerts)
                hub.publish(LiveFrame(
                    header: live, original: frame.image, annotated: rendered.annotated, variants: rendered.variants,
                    source: VariantSource(codecs: codecs, demand: demand), receivedInstant: frame.receivedInstant))
                observer(report)
                logger.trace("frame composed", metadata: ["herd.frame.seq": "\(frame.header.seq)", "herd.compose.path": "\(report.path.rawValue)"])
            } catch {
                logger.warning("frame recorded but not shown: rendering failed", metadata: [
                    "herd.frame.seq": "\(frame.header.seq)", "herd.error": "\(error)",
                ])
                onRenderFault(frame, error)
            }
        }
        rendering = false
    }

    /// Render on the worker that opened the image; when that worker restarted in between (another frame
    /// crashed it), open once more on a fresh one: this frame was not at fault.
    private func render(_ frame: PreparedFrame) async throws -> RenderedFrame {
        do {
            return try await codecs.render(frame.opened, annotations: frame.annotations, variants: demand.wanted(width: frame.opened.displayWidth))
        } catch let error as CodecWorkerError where error == .restarted() {
            let reopened = try await codecs.open(frame.image, decode: true)
            return try await codecs.render(reopened, annotations: frame.annotations, variants: demand.wanted(width: reopened.displayWidth))
        }
    }

    /// Waits until the render stage has nothing left (tests and benchmarks).
    public func renderIdle() async {
        while rendering || nextRender != nil { await Task.yield() }
    }

    // MARK: telemetry and sessions

    /// Readings without a frame: kept for the next frame's HUD and checked against the rules.
    public func telemetry(_ message: TelemetryMessage) {
        lastActivity = .now
        merge(message.sensors)
        raiseNewAlerts(annotator.alerts(for: sensors))
    }

    /// A session start or end (from the device or the API), with the session id the recorder gave it.
    public func session(_ action: SessionMessage.Action, consignment: Consignment?, session: String?) {
        lastActivity = .now
        if action == .start, let consignment { self.consignment = consignment }
        hub.publish(event: LiveEvent(
            event: action == .start ? "session.start" : "session.end", stream: stream, at: .now(), consignment: consignment, session: session))
    }

    /// Seconds since the last frame or message, and whether the render stage is done (for release).
    public var idleFor: Duration { ContinuousClock.now - lastActivity }
    public var isQuiet: Bool { !busy && waiting.isEmpty && !rendering && nextRender == nil }

    private func merge(_ readings: Sensors) {
        var merged = sensors ?? Sensors()
        if let gps = readings.gps { merged.gps = gps }
        if let truck = readings.truck { merged.truck = truck }
        if let seal = readings.seal { merged.seal = seal }
        if let tags = readings.earTags { merged.earTags = tags }
        if let c = readings.consignment {
            merged.consignment = c
            consignment = c
        }
        sensors = merged
    }

    /// An alert becomes an event when it starts, not on every frame it persists.
    private func raiseNewAlerts(_ alerts: [AlertAnnotation]) {
        let codes = Set(alerts.compactMap(\.code))
        for alert in alerts where alert.code.map({ !lastAlertCodes.contains($0) }) ?? false {
            hub.publish(event: LiveEvent(event: "alert", stream: stream, at: .now(), alert: alert))
            logger.notice("alert raised", metadata: ["herd.alert.code": "\(alert.code ?? "")"])
        }
        lastAlertCodes = codes
    }
}
