import HerdCodecs
import HerdOverlay
import HerdProtocol
import HerdWorker
import Logging

/// One stream's live path: drop duplicates, read the image's header and compose the overlay in a codec
/// worker, hand the frame to the hub. Each stream has its own actor and frames of one stream are taken
/// one at a time, in arrival order; a slow or broken stream never delays another, and a bad image (or a
/// worker that dies on it) is an error for that frame only.
public actor StreamPipeline {
    public let stream: StreamID
    private let codecs: CodecWorkerPool
    private let annotator: FrameAnnotator
    private let hub: LiveHub
    private let logger: Logger
    private var lastSeq: UInt64?
    private var sensors: Sensors?
    private var consignment: Consignment?
    private var lastAlertCodes: Set<String> = []
    private let observer: @Sendable (ComposeReport) -> Void
    /// One frame at a time: an actor alone is re-entered at every `await`, and a stream's frames must
    /// not overtake each other while one waits on its codec worker.
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []
    /// Variants viewers asked for lately; built with the frame in the same worker round trip.
    private let demand = VariantDemand()

    /// Frames of this stream waiting for the one in progress, past which new ones are refused.
    public static let maxWaiting = 16

    /// `observer` sees each composed frame's stage timings (the server records them as metrics).
    public init(
        stream: StreamID, hub: LiveHub, codecs: CodecWorkerPool, annotator: FrameAnnotator = FrameAnnotator(), logger: Logger,
        observer: @escaping @Sendable (ComposeReport) -> Void = { _ in }
    ) {
        self.stream = stream
        self.hub = hub
        self.codecs = codecs
        self.observer = observer
        self.annotator = annotator
        var logger = logger
        logger[metadataKey: "herd.stream"] = "\(stream)"
        self.logger = logger
    }

    /// Processes one frame. Throws `CodecError` for a bad image and `CodecWorkerError` when a worker
    /// crashed or hung on it (the stream carries on). `receivedInstant` is the same moment as
    /// `receivedAt` on the monotonic clock, for latency metrics.
    public func ingest(
        _ header: DeviceFrameHeader, image: [UInt8], receivedAt: Timestamp, receivedInstant: ContinuousClock.Instant = .now
    ) async throws -> IngestOutcome {
        guard await enterInTurn() else {
            throw CodecWorkerError.unavailable("stream \(stream) already has \(Self.maxWaiting) frames waiting")
        }
        defer { leaveTurn() }
        if let lastSeq, header.seq <= lastSeq { return .duplicate }
        if let readings = header.sensors { merge(readings) }
        let (set, alerts, rendered) = try await render(header, image: image, receivedAt: receivedAt)
        lastSeq = header.seq
        let report = rendered.report
        let live = LiveFrameHeader(
            stream: stream, seq: header.seq, capturedAt: header.capturedAt, receivedAt: receivedAt,
            width: report.width, height: report.height, overlay: true, annotations: set.items, alerts: alerts)
        hub.publish(LiveFrame(
            header: live, original: image, annotated: rendered.annotated, variants: rendered.variants, source: VariantSource(codecs: codecs, demand: demand),
            receivedInstant: receivedInstant))
        observer(report)
        raiseNewAlerts(alerts)
        logger.trace("frame composed", metadata: ["herd.frame.seq": "\(header.seq)", "herd.compose.path": "\(report.path.rawValue)"])
        return .accepted
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

    /// Header read and render in one worker; when that worker restarted in between (another frame
    /// crashed it), once more on a fresh one: this frame was not at fault.
    private func render(_ header: DeviceFrameHeader, image: [UInt8], receivedAt: Timestamp) async throws
        -> (set: AnnotationSet, alerts: [AlertAnnotation], rendered: RenderedFrame)
    {
        var attempt = 0
        while true {
            attempt += 1
            let opened = try await codecs.open(image)
            let (set, alerts) = annotator.annotations(
                for: header, sensors: sensors, consignment: consignment, receivedAt: receivedAt,
                width: opened.displayWidth, height: opened.displayHeight)
            do {
                let rendered = try await codecs.render(opened, annotations: set, variants: demand.wanted(width: opened.displayWidth))
                return (set, alerts, rendered)
            } catch let error as CodecWorkerError where error == .restarted() && attempt == 1 {
                continue
            }
        }
    }

    /// Readings without a frame: kept for the next frame's HUD and checked against the rules.
    public func telemetry(_ message: TelemetryMessage) {
        merge(message.sensors)
        raiseNewAlerts(annotator.alerts(for: sensors))
    }

    public func session(_ message: SessionMessage) {
        if message.action == .start {
            consignment = message.consignment ?? consignment
            lastSeq = nil
        }
        hub.publish(event: LiveEvent(
            event: message.action == .start ? "session.start" : "session.end", stream: stream, at: .now(),
            consignment: message.consignment))
    }

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
