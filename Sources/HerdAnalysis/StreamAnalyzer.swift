import HerdProtocol

/// One stream's analysis, frame after frame in arrival order: detection, tracking, counting across
/// lines, zone occupancy, frame-integrity checks, sensor rules and the alerts they raise, and the
/// reconciliation of the count against the declared head count at the seal event and at the
/// session's end. A value: the accept stage owns it and calls it one frame at a time, off the
/// cooperative pool (it costs a few milliseconds a frame).
public struct StreamAnalyzer: Sendable {
    /// Recorded with each session, with a hash of the configuration. 2: the split rule of `LineCounter`;
    /// 3: a pig hidden in a crossing box crosses with it.
    public static let version = "herdlens-analysis/3"

    public let stream: String
    public private(set) var config: AnalysisConfig
    private var detector: any Detector
    private var tracker: Tracker
    private var counter: LineCounter
    private var integrity: IntegrityChecks
    private var alertBook: AlertBook
    private var stopWatch: StopWatch
    /// Whether the e-lock has reported `locked` in this session (the seal event has passed).
    public private(set) var sealed = false
    /// The latest reconciliation findings (kept raised until the next session).
    private var reconciliation: [RuleFinding] = []

    public init(stream: String, config: AnalysisConfig = AnalysisConfig(), makeID: @escaping @Sendable () -> String) {
        self.stream = stream
        self.config = config
        detector = config.detector.detector(PenDetector(parameters: config.pen))
        tracker = Tracker(parameters: config.tracker)
        counter = LineCounter(lines: config.lines, parameters: config.counting)
        integrity = IntegrityChecks(parameters: config.integrity)
        alertBook = AlertBook(stream: stream, parameters: config.alerts, makeID: makeID)
        stopWatch = StopWatch(radiusM: config.rules.stopRadiusM)
    }

    /// A new configuration, applied from the next frame: the counts of lines that keep their id stay.
    public mutating func reconfigure(_ new: AnalysisConfig) {
        let totals = counter.totals
        config = new
        detector = new.detector.detector(PenDetector(parameters: new.pen))
        tracker.parameters = new.tracker
        counter = LineCounter(lines: new.lines, parameters: new.counting)
        counter.restore(totals: totals)
        integrity.parameters = new.integrity
        alertBook.parameters = new.alerts
        stopWatch.radiusM = new.rules.stopRadiusM
    }

    /// A session opened: counts, tracks and the seal state start afresh.
    public mutating func sessionStarted() {
        tracker = Tracker(parameters: config.tracker, firstID: tracker.upcomingID)
        counter = LineCounter(lines: config.lines, parameters: config.counting)
        sealed = false
        reconciliation = []
    }

    /// After a restart in the middle of a loading: the counts from the crossings the session recorded,
    /// and whether it was already sealed (then the count is reconciled again, as at the seal event, so
    /// a mismatch found before the restart is still raised after it).
    public mutating func restore(crossings: [Crossing], sealed: Bool, nextTrackID: Int, declaredHeadCount: Int? = nil) {
        counter.restore(crossings)
        self.sealed = sealed
        reconciliation = sealed ? reconcile(declared: declaredHeadCount) : []
        tracker = Tracker(parameters: config.tracker, firstID: nextTrackID)
    }

    /// The recorded crossings and seal state read back late, after frames were already counted: added
    /// to the count so far (tracks go on as they are).
    public mutating func add(crossings: [Crossing], sealed: Bool, declaredHeadCount: Int?) {
        counter.add(crossings)
        if sealed && !self.sealed {
            self.sealed = true
            reconciliation = reconcile(declared: declaredHeadCount)
        }
    }

    /// What one frame gave.
    public struct Frame: Sendable {
        /// Boxes of this frame's tracks (confirmed ones with `trackId`), counting lines and zones, for the overlay.
        public var annotations: [Annotation]
        public var crossings: [Crossing]
        public var events: [AlertEvent]
        /// Every alert raised now, most severe first (drawn as banners).
        public var raised: [Alert]
        public var pigsInView: Int
        public var occupancy: [String: Int]
        /// Net count on the first line (nil without lines).
        public var counted: Int?
        public var thi: Double?
    }

    public struct FrameInput: Sendable {
        public var seq: UInt64
        public var capturedAt: Timestamp
        public var receivedAt: Timestamp
        /// Seconds on a monotonic clock (alert timing).
        public var now: Double
        public var image: AnalysisImage?
        public var deviceBoxes: [BoxAnnotation]
        /// The stream's readings so far, merged.
        public var sensors: Sensors?
        public var session: String?
        public var declaredHeadCount: Int?

        public init(
            seq: UInt64, capturedAt: Timestamp, receivedAt: Timestamp, now: Double, image: AnalysisImage?, deviceBoxes: [BoxAnnotation], sensors: Sensors?,
            session: String?, declaredHeadCount: Int?
        ) {
            self.seq = seq
            self.capturedAt = capturedAt
            self.receivedAt = receivedAt
            self.now = now
            self.image = image
            self.deviceBoxes = deviceBoxes
            self.sensors = sensors
            self.session = session
            self.declaredHeadCount = declaredHeadCount
        }
    }

    public mutating func frame(_ input: FrameInput) -> Frame {
        let detections = detector.detect(DetectorInput(image: input.image, deviceBoxes: input.deviceBoxes))
        let tracks = tracker.update(detections)
        let crossings = counter.update(seq: input.seq, tracks: tracks)
        var findings = integrity.check(
            seq: input.seq, captured: input.capturedAt.secondsSince1970, received: input.receivedAt.secondsSince1970,
            signature: input.image.map(FrameSignature.init))
        findings += sensorFindings(input.sensors, now: input.now)
        var occupancy: [String: Int] = [:]
        for zone in config.zones {
            let n = zone.occupancy(tracks)
            occupancy[zone.id] = n
            if let limit = zone.maxOccupancy, n > limit {
                findings.append(RuleFinding(
                    rule: "zone.crowded", subject: zone.id, severity: .warning, values: ["zone": zone.id, "pigs": "\(n)", "limit": "\(limit)"],
                    message: LocalizedText(
                        en: "\(n) pigs in \(zone.id) (limit \(limit))", zhHans: "\(zone.id) 内有 \(n) 头猪（上限 \(limit)）", zhHant: "\(zone.id) 內有 \(n) 頭豬（上限 \(limit)）")))
            }
        }
        findings += crossCheckFindings()
        noteSeal(input.sensors, declared: input.declaredHeadCount)
        findings += reconciliation
        // A frame ends a silence at once.
        let events = alertBook.clear(rules: [Self.silentRule], now: input.now, timestamp: input.receivedAt.text) + alertBook.update(
            findings, now: input.now, timestamp: input.receivedAt.text, session: input.session, seq: input.seq, capturedAt: input.capturedAt.text)
        var annotations: [Annotation] = []
        // Every box seen in this frame is drawn; only confirmed tracks carry an id (and count).
        let untracked: AnnotationSource = detections.first?.source == .device ? .device : .detector
        for track in tracks where track.matched {
            let box = Annotation.box(BoxAnnotation(
                rect: track.rect, label: track.id.map { "pig #\($0)" } ?? "pig", objectClass: "pig", confidence: (track.confidence * 100).rounded() / 100,
                trackId: track.id))
            // A confirmed track is the tracker's, with its id; a box not (yet) confirmed is its detector's.
            annotations.append(track.id.map { box.identified("track-\($0)", source: .tracker) } ?? box.identified(nil, source: untracked))
        }
        for line in config.lines {
            let t = counter.totals[line.id] ?? (0, 0)
            annotations.append(Annotation.polyline(PolylineAnnotation(points: [line.from, line.to], label: "\(line.id): in \(t.in) · out \(t.out)"))
                .identified("line-\(line.id)", source: .rule))
        }
        for zone in config.zones {
            annotations.append(Annotation.polygon(PolygonAnnotation(points: zone.points, label: "\(zone.id): \(occupancy[zone.id] ?? 0)"))
                .identified("zone-\(zone.id)", source: .rule))
        }
        let thi = SensorRules.thi(temperatureC: input.sensors?.truck?.temperatureC, humidityPct: input.sensors?.truck?.humidityPct)
        return Frame(
            annotations: annotations, crossings: crossings, events: events, raised: alertBook.raised,
            pigsInView: tracks.filter { $0.isConfirmed && $0.matched }.count, occupancy: occupancy, counted: config.lines.first.map { counter.net($0.id) }, thi: thi)
    }

    /// Readings without a frame (telemetry): the sensor rules only.
    public mutating func reading(_ sensors: Sensors?, now: Double, at timestamp: Timestamp, session: String?, declaredHeadCount: Int?) -> [AlertEvent] {
        var findings = sensorFindings(sensors, now: now)
        noteSeal(sensors, declared: declaredHeadCount)
        findings += reconciliation
        findings += crossCheckFindings()
        return alertBook.update(findings, now: now, timestamp: timestamp.text, session: session, seq: nil, capturedAt: nil)
    }

    /// The clock (about once a second, frames or not): a stream that stops sending while its session
    /// is open raises `frame.silent` after `integrity.silenceSeconds`. `wallClock` is seconds since
    /// 1970 on the server's clock (frames' receive times are on it).
    public mutating func tick(now: Double, wallClock: Double, at timestamp: Timestamp, session: String?) -> [AlertEvent] {
        let findings = session == nil ? [] : integrity.silence(at: wallClock).map { [$0] } ?? []
        return alertBook.update(findings, now: now, timestamp: timestamp.text, session: session, seq: nil, capturedAt: nil, scope: [Self.silentRule])
    }

    static let silentRule = "frame.silent"

    /// The session's end: the count reconciled against the declared head count (an alert when they
    /// differ, naming the difference).
    public mutating func sessionEnded(declaredHeadCount: Int?, now: Double, at timestamp: Timestamp, session: String?) -> [AlertEvent] {
        reconciliation = reconcile(declared: declaredHeadCount)
        return alertBook.update(reconciliation, now: now, timestamp: timestamp.text, session: session, seq: nil, capturedAt: nil)
    }

    public mutating func acknowledge(id: String, by actor: String, at timestamp: Timestamp) -> AlertEvent? {
        alertBook.acknowledge(id: id, by: actor, at: timestamp.text)
    }

    public func alert(id: String) -> Alert? { alertBook.alert(id: id) }
    public var raised: [Alert] { alertBook.raised }
    public var totals: [String: (in: Int, out: Int)] { counter.totals }
    public var nextTrackID: Int { tracker.upcomingID }

    private mutating func sensorFindings(_ sensors: Sensors?, now: Double) -> [RuleFinding] {
        guard let sensors else { return [] }
        var stopped: Double?
        if let gps = sensors.gps { stopped = stopWatch.update(GeoPoint(lat: gps.lat, lon: gps.lon), at: now) }
        return config.rules.evaluate(sensors, sealed: sealed, stoppedFor: stopped)
    }

    /// The seal event: the e-lock reports `locked` during the session; the count is reconciled then.
    private mutating func noteSeal(_ sensors: Sensors?, declared: Int?) {
        guard !sealed, sensors?.seal?.state == .locked else { return }
        sealed = true
        reconciliation = reconcile(declared: declared)
    }

    private func crossCheckFindings() -> [RuleFinding] {
        guard let pair = config.crossCheck, pair.count == 2 else { return [] }
        let a = counter.net(pair[0]), b = counter.net(pair[1])
        guard abs(a - b) > 1 else { return [] }  // one pig between the two lines is normal
        return [RuleFinding(
            rule: "count.linesDisagree", subject: pair.joined(separator: "+"), severity: .warning,
            values: [pair[0]: "\(a)", pair[1]: "\(b)"],
            message: LocalizedText(
                en: "Counting lines disagree: \(pair[0]) \(a), \(pair[1]) \(b)", zhHans: "计数线不一致：\(pair[0]) \(a)，\(pair[1]) \(b)",
                zhHant: "計數線不一致：\(pair[0]) \(a)，\(pair[1]) \(b)"))]
    }

    private func reconcile(declared: Int?) -> [RuleFinding] {
        guard let declared, let line = config.lines.first else { return [] }
        let counted = counter.net(line.id)
        guard counted != declared else { return [] }
        let difference = counted - declared
        let signed = difference > 0 ? "+\(difference)" : "\(difference)"
        return [RuleFinding(
            rule: "count.mismatch", severity: .critical, values: ["declared": "\(declared)", "counted": "\(counted)", "difference": signed],
            message: LocalizedText(
                en: "Head count \(counted) against \(declared) declared (\(signed))", zhHans: "清点 \(counted) 头，申报 \(declared) 头（\(signed)）",
                zhHant: "清點 \(counted) 頭，申報 \(declared) 頭（\(signed)）"))]
    }
}
