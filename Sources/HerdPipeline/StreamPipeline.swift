import HerdCodecs
import HerdOverlay
import HerdProtocol
import Logging

/// One stream's live path: drop duplicates, decode, annotate, compose, encode once, hand the frame to
/// the hub. Each stream has its own actor, so a slow or broken stream never delays another; a bad
/// image is an error for that frame only.
public actor StreamPipeline {
    public let stream: StreamID
    private let composer: FrameComposer
    /// Reads each frame's header for its display size; reused, like the composer's codecs.
    private let headerReader: ImageDecoder
    private let annotator: FrameAnnotator
    private let hub: LiveHub
    private let logger: Logger
    private var lastSeq: UInt64?
    private var sensors: Sensors?
    private var consignment: Consignment?
    private var lastAlertCodes: Set<String> = []
    private let observer: @Sendable (ComposeReport) -> Void

    /// `observer` sees each composed frame's stage timings (the server records them as metrics).
    public init(
        stream: StreamID, hub: LiveHub, limits: DecodeLimits, annotator: FrameAnnotator = FrameAnnotator(), logger: Logger,
        observer: @escaping @Sendable (ComposeReport) -> Void = { _ in }
    ) throws {
        self.stream = stream
        self.hub = hub
        self.observer = observer
        self.annotator = annotator
        self.composer = try FrameComposer(renderer: OverlayRenderer(), limits: limits)
        self.headerReader = try ImageDecoder(limits: limits)
        var logger = logger
        logger[metadataKey: "herd.stream"] = "\(stream)"
        self.logger = logger
    }

    /// Processes one frame. Throws `CodecError` for a bad image (the stream carries on). `receivedInstant`
    /// is the same moment as `receivedAt` on the monotonic clock, for latency metrics.
    public func ingest(
        _ header: DeviceFrameHeader, image: [UInt8], receivedAt: Timestamp, receivedInstant: ContinuousClock.Instant = .now
    ) throws -> IngestOutcome {
        if let lastSeq, header.seq <= lastSeq { return .duplicate }
        if let readings = header.sensors { merge(readings) }
        let info = try headerReader.readInfo(image)
        let (set, alerts) = annotator.annotations(
            for: header, sensors: sensors, consignment: consignment, receivedAt: receivedAt,
            width: info.displayWidth, height: info.displayHeight)
        let (annotated, report) = try composer.compose(image, annotations: set)
        lastSeq = header.seq
        let live = LiveFrameHeader(
            stream: stream, seq: header.seq, capturedAt: header.capturedAt, receivedAt: receivedAt,
            width: report.width, height: report.height, overlay: true, annotations: set.items, alerts: alerts)
        hub.publish(LiveFrame(header: live, original: image, annotated: annotated, receivedInstant: receivedInstant))
        observer(report)
        raiseNewAlerts(alerts)
        logger.trace("frame composed", metadata: ["herd.frame.seq": "\(header.seq)", "herd.compose.path": "\(report.path.rawValue)"])
        return .accepted
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
