import HerdAnalysis
import HerdCodecs
import HerdOverlay
import HerdProtocol
import HerdWorker
import Logging

/// One stream's live path in two stages.
///
/// **Accept** (`accept`): frames of the stream one at a time, in arrival order: open the image in a codec
/// worker (its header parsed and its data decoded, so a frame that does not decode is refused before it
/// is kept, and a scaled decode returned for analysis), analyse it (`StreamAnalyzer`, on the analysis
/// executor: detection, tracking, counting, integrity checks, rules, alerts), build its annotations,
/// then hand it to the caller's `record` step (deduplicate, append to the recording). Nothing in it
/// waits for the disk or for drawing.
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
    let hub: LiveHub
    private let logger: Logger
    private var sensors: Sensors?
    var consignment: Consignment?
    private var analyzer: StreamAnalyzer
    /// A frame's analysis is on the executor with a copy of `analyzer`: every other change to it waits
    /// (`settled()`), or the copy coming back would undo it (an acknowledgement lost, say).
    private var analysing = false
    private var analysisWaiters: [CheckedContinuation<Void, Never>] = []
    /// Created with `awaitsRestore`: frames and messages wait until `restore` has been called, so a
    /// pipeline made for a stream whose session is open never counts before it knows the count so far.
    private var restoring: Bool
    private var restoreWaiters: [CheckedContinuation<Void, Never>] = []
    /// The wait is bounded (`restoreWait`): a slow read of a long session must not hold up ingest. A
    /// read back that comes later is added to what was counted meanwhile.
    /// The timer that stops waiting for the read back; cancelled when the read back comes first, so a
    /// pipeline does not leave a task asleep for `restoreWait` behind it.
    private var restoreDeadline: Task<Void, Never>?
    private var restoreLate = false
    private let restoreWait: Duration
    private let executor: AnalysisExecutor
    var session: String?
    /// Read back from a session a crash ended: kept until the next session start, which continues it if
    /// it names the same consignment.
    private var carryOver: (session: String, consignment: String?, crossings: [Crossing])?
    /// The newest seq analysed: an older or repeated frame is recorded but not fed to the tracker.
    private var lastAnalyzedSeq: UInt64?
    private let started = ContinuousClock.now
    private let observer: @Sendable (ComposeReport) -> Void
    private let onRenderFault: @Sendable (PreparedFrame, any Error) -> Void
    let onAnalysis: @Sendable (AnalysisNote) -> Void
    /// Accept stage: one frame at a time (an actor alone is re-entered at every `await`).
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []
    /// Render stage: the frame waiting to be drawn (newest wins) and whether the render task runs.
    private var nextRender: PreparedFrame?
    private var rendering = false
    private var lastRenderedSeq: UInt64?
    var lastActivity = ContinuousClock.now
    private let demand = VariantDemand()
    /// Inspector marks live on this stream (`StreamPipeline+Marks.swift`), and the field devices they go to.
    var marks: MarkBoard
    let field: FieldHub

    /// Frames of this stream waiting for the one in progress, past which new ones are refused.
    public static let maxWaiting = 64

    /// `observer` sees each composed frame's stage timings (the server records them as metrics).
    /// `onAnalysis` receives alerts, crossings and configuration changes for the recording.
    public init(
        stream: StreamID, hub: LiveHub, codecs: CodecWorkerPool, annotator: FrameAnnotator = FrameAnnotator(), logger: Logger,
        analysis: AnalysisConfig = AnalysisConfig(), executor: AnalysisExecutor = .shared,
        observer: @escaping @Sendable (ComposeReport) -> Void = { _ in },
        onRenderFault: @escaping @Sendable (PreparedFrame, any Error) -> Void = { _, _ in },
        onAnalysis: @escaping @Sendable (AnalysisNote) -> Void = { _ in }, awaitsRestore: Bool = false, restoreWait: Duration = .seconds(10),
        field: FieldHub = FieldHub(), markLimits: MarkBoard.Limits = MarkBoard.Limits()
    ) {
        self.field = field
        self.marks = MarkBoard(limits: markLimits)
        self.restoring = awaitsRestore
        self.restoreWait = restoreWait
        self.stream = stream
        self.hub = hub
        self.codecs = codecs
        self.observer = observer
        self.onRenderFault = onRenderFault
        self.onAnalysis = onAnalysis
        self.annotator = annotator
        self.executor = executor
        let name = stream.rawValue
        self.analyzer = StreamAnalyzer(stream: name, config: analysis) { Self.alertID(name) }
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
        await restored()
        lastActivity = .now
        let opened = try await codecs.open(image, decode: true, analysis: true)
        if let readings = header.sensors { merge(readings) }
        var analysis: StreamAnalyzer.Frame?
        if lastAnalyzedSeq.map({ header.seq > $0 }) ?? true {
            lastAnalyzedSeq = header.seq
            let input = StreamAnalyzer.FrameInput(
                seq: header.seq, capturedAt: header.capturedAt, receivedAt: receivedAt, now: secondsNow, image: opened.analysis,
                deviceBoxes: header.detections ?? [], sensors: sensors, session: session, declaredHeadCount: consignment?.declaredHeadCount)
            let before = analyzer
            analysing = true
            let (after, result) = await executor.run(for: stream) {
                var analyzer = before
                let result = analyzer.frame(input)
                return (analyzer, result)
            }
            let sealedNow = !analyzer.sealed && after.sealed
            analyzer = after
            analysing = false
            if sealedNow { onAnalysis(.sealed(seq: header.seq)) }
            for waiter in analysisWaiters { waiter.resume() }
            analysisWaiters.removeAll()
            analysis = result
        }
        var set = annotator.annotations(
            for: header, sensors: sensors, consignment: consignment, receivedAt: receivedAt, width: opened.displayWidth,
            height: opened.displayHeight, analysis: analysis, deviceBoxesAsSent: analyzer.config.detector == .none)
        if analysis != nil { marksFollow(seq: header.seq, items: set.items) }
        set.items += marks.annotations
        let alerts = (analysis?.raised ?? analyzer.raised).prefix(4).map(\.banner)
        let frame = PreparedFrame(
            header: header, image: image, opened: opened, annotations: set, alerts: Array(alerts), receivedAt: receivedAt,
            receivedInstant: receivedInstant)
        let (result, decision) = await record(frame)
        if let analysis {
            publish(analysis.events)
            for crossing in analysis.crossings { publish(crossing) }
        }
        if decision == .render, lastRenderedSeq.map({ header.seq > $0 }) ?? true { queueRender(frame) }
        return result
    }

    /// Seconds since this pipeline started (the alert book's and the marks' clock).
    var secondsNow: Double {
        let d = ContinuousClock.now - started
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    /// Alert ids: the stream and a random part, unique across restarts.
    static func alertID(_ stream: String) -> String {
        "al-" + String(UInt64.random(in: 0...UInt64.max) & 0xFFFF_FFFF_FFFF, radix: 16)
    }

    private func publish(_ events: [AlertEvent]) {
        for event in events {
            let name = switch event.change {
            case .raised, .escalated: "alert"
            case .cleared: "alert.cleared"
            case .acknowledged: "alert.acknowledged"
            }
            hub.publish(event: LiveEvent(event: name, stream: stream, at: .now(), alert: event.alert.banner, session: event.alert.session, detail: event.alert))
            onAnalysis(.alert(event))
            logger.notice("alert \(event.change.rawValue)", metadata: ["herd.alert.rule": "\(event.alert.rule)", "herd.alert.id": "\(event.alert.id)"])
        }
    }

    private func publish(_ crossing: Crossing) {
        let counts = analyzer.totals.mapValues { $0.in - $0.out }
        hub.publish(event: LiveEvent(event: "crossing", stream: stream, at: .now(), session: session, crossing: crossing, counts: counts))
        onAnalysis(.crossing(crossing, counts: counts))
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

    /// Returns once no frame's analysis is in flight (and the recording has been read back).
    private func settled() async {
        await restored()
        await analysed()
    }

    /// Returns once no frame's analysis is in flight.
    private func analysed() async {
        while analysing { await withCheckedContinuation { analysisWaiters.append($0) } }
    }

    func restored() async {
        guard restoring else { return }
        if restoreDeadline == nil {
            let wait = restoreWait
            restoreDeadline = Task { [weak self] in
                guard (try? await Task.sleep(for: wait)) != nil else { return }
                await self?.restoreTimedOut()
            }
        }
        while restoring { await withCheckedContinuation { restoreWaiters.append($0) } }
    }

    private func restoreTimedOut() {
        guard restoring else { return }
        logger.warning("the open session was not read back within \(restoreWait): counting goes on; its recorded count is added when it comes")
        restoreLate = true
        releaseRestoreWaiters()
    }

    private func releaseRestoreWaiters() {
        restoring = false
        restoreDeadline?.cancel()
        for waiter in restoreWaiters { waiter.resume() }
        restoreWaiters.removeAll()
    }

    /// The clock (the server calls it about once a second): silence in an open session is an alert
    /// even though no frame comes to raise it.
    /// A pipeline busy with a frame's analysis, or still waiting for its read back, skips the tick
    /// rather than hold up the clock that ticks every stream (a frame is no silence anyway).
    public func tick() {
        expireMarks()
        guard !analysing, !restoring else { return }
        publish(analyzer.tick(now: secondsNow, wallClock: Timestamp.now().secondsSince1970, at: .now(), session: session))
    }

    /// Readings without a frame: kept for the next frame's HUD and checked against the rules.
    public func telemetry(_ message: TelemetryMessage) async {
        await settled()
        lastActivity = .now
        merge(message.sensors)
        let wasSealed = analyzer.sealed
        publish(analyzer.reading(sensors, now: secondsNow, at: .now(), session: session, declaredHeadCount: consignment?.declaredHeadCount))
        if !wasSealed && analyzer.sealed { onAnalysis(.sealed(seq: nil)) }
    }

    /// A session start or end (from the device or the API), with the session id the recorder gave it.
    /// A start resets the count and the seal state and records the analyser's version and
    /// configuration (the reconciliation at the end comes first, in `sessionEnding`).
    public func session(_ action: SessionMessage.Action, consignment: Consignment?, session: String?) async {
        await settled()
        lastActivity = .now
        if action == .start, let consignment { self.consignment = consignment }
        if action == .start {
            if let carried = carryOver, carried.consignment != nil, carried.consignment == self.consignment?.id, self.session == nil {
                // The loading the crash interrupted goes on: its count is kept, and recorded in this session.
                onAnalysis(.carried(from: carried.session, crossings: carried.crossings))
            } else if session != self.session {
                analyzer.sessionStarted()
            }
            carryOver = nil
            self.session = session
            onAnalysis(.configuration(version: StreamAnalyzer.version, json: analyzer.config.canonicalJSON))
        }
        hub.publish(event: LiveEvent(
            event: action == .start ? "session.start" : "session.end", stream: stream, at: .now(), consignment: consignment, session: session))
        if action == .end { self.session = nil }
    }

    /// The session is about to end: the count is reconciled against the declared head count now, so
    /// that a mismatch alert is recorded in the session it is about (call before the recorder closes it).
    public func sessionEnding() async {
        await settled()
        publish(analyzer.sessionEnded(declaredHeadCount: consignment?.declaredHeadCount, now: secondsNow, at: .now(), session: session))
    }

    /// An inspector's acknowledgement of an alert; nil when this stream has no such alert.
    public func acknowledge(alert id: String, by actor: String) async -> Alert? {
        await settled()
        guard let event = analyzer.acknowledge(id: id, by: actor, at: .now()) else { return nil }
        publish([event])
        return event.alert
    }

    /// A new analysis configuration, applied from the next frame and recorded.
    public func reconfigure(_ config: AnalysisConfig) async {
        await settled()
        analyzer.reconfigure(config)
        onAnalysis(.configuration(version: StreamAnalyzer.version, json: config.canonicalJSON))
    }

    /// What a stream's open session recorded, read back after a restart mid-loading.
    public struct Restored: Sendable {
        public var session: String
        public var consignment: Consignment?
        public var crossings: [Crossing]
        public var sealed: Bool
        public var nextTrackID: Int
        /// Inspector marks placed in the session and neither cleared nor expired (v1.4).
        public var marks: [Mark]
        /// The session was closed by recovery after a crash: its count carries over to the next session
        /// of the same consignment instead.
        public var closedByRecovery: Bool

        public init(
            session: String, consignment: Consignment?, crossings: [Crossing], sealed: Bool, nextTrackID: Int, marks: [Mark] = [],
            closedByRecovery: Bool = false
        ) {
            self.marks = marks
            self.closedByRecovery = closedByRecovery
            self.session = session
            self.consignment = consignment
            self.crossings = crossings
            self.sealed = sealed
            self.nextTrackID = nextTrackID
        }
    }

    /// After a restart mid-loading: the session, its consignment, the count rebuilt from its recorded
    /// crossings and its seal state; nil when there is nothing to restore. Either way, frames and
    /// messages that waited go on (they wait at most `restoreWait`; a later call adds to the count).
    public func restore(_ state: Restored?) async {
        await analysed()
        if let state {
            if state.closedByRecovery {
                carryOver = (state.session, state.consignment?.id, state.crossings)
            } else if session == nil {
                session = state.session
            }
            if consignment == nil, let consignment = state.consignment { self.consignment = consignment }
            if restoreLate {
                // Frames went on meanwhile: the recorded crossings are added to their count.
                analyzer.add(crossings: state.crossings, sealed: state.sealed, declaredHeadCount: consignment?.declaredHeadCount)
            } else {
                analyzer.restore(
                    crossings: state.crossings, sealed: state.sealed, nextTrackID: state.nextTrackID, declaredHeadCount: consignment?.declaredHeadCount)
            }
            marks.restore(state.marks, now: secondsNow, wallClock: Timestamp.now().secondsSince1970)
        }
        releaseRestoreWaiters()
    }

    /// Whether a frame's analysis is on the executor now, and how many changes wait for it (tests
    /// watch both to exercise the overlap).
    public var analysisInFlight: (analysing: Bool, waitingChanges: Int) { (analysing, analysisWaiters.count) }

    /// The alerts raised now and the net count per line (the console's tile, tests).
    public var analysisState: (raised: [Alert], counts: [String: Int]) {
        (analyzer.raised, analyzer.totals.mapValues { $0.in - $0.out })
    }

    /// Seconds since the last frame or message, and whether the render stage is done (for release).
    public var idleFor: Duration { ContinuousClock.now - lastActivity }
    /// Live marks keep a pipeline: they are sent again to a device that reconnects.
    public var isQuiet: Bool { !busy && waiting.isEmpty && !rendering && nextRender == nil && marks.isEmpty }

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
}
