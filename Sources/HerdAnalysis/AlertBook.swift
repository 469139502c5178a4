import HerdProtocol

/// One stream's alerts and their lifecycle. A finding raises an alert (one per rule and subject); it
/// stays raised while findings keep coming and clears once none has come for `clearAfterSeconds`, so a
/// reading that flickers is one alert, not a storm. If the same finding returns within `quietSeconds`
/// of clearing, the same alert is raised again (`repeats` + 1) rather than a new one. An inspector
/// acknowledges an alert by id; the acknowledgement names them. Bounded: at most `maxAlerts` kept
/// (the oldest cleared ones are forgotten first). Times are seconds on any clock the caller keeps.
public struct AlertBook: Sendable {
    public struct Parameters: Sendable, Hashable, Codable {
        public var clearAfterSeconds = 10.0
        public var quietSeconds = 60.0
        public var maxAlerts = 200
        public init() {}
    }

    public let stream: String
    public var parameters: Parameters
    private var alerts: [String: Alert] = [:]  // by key
    private var lastSeen: [String: Double] = [:]
    private var clearedAtSeconds: [String: Double] = [:]
    private var keyOfID: [String: String] = [:]
    private var order: [String] = []  // keys, oldest first
    private var makeID: @Sendable () -> String

    public init(stream: String, parameters: Parameters = Parameters(), makeID: @escaping @Sendable () -> String) {
        self.stream = stream
        self.parameters = parameters
        self.makeID = makeID
    }

    /// The alerts now raised, most severe first.
    public var raised: [Alert] {
        alerts.values.filter { $0.state == .raised }.sorted { ($0.severity, $1.raisedAt) > ($1.severity, $0.raisedAt) }
    }

    public func alert(id: String) -> Alert? { keyOfID[id].flatMap { alerts[$0] } }

    /// Folds in the findings of one frame or reading at `now` (seconds) and `timestamp` (its text);
    /// returns what changed.
    /// `scope`, when given, limits clearing to alerts of those rules (a check that looked at only
    /// some rules says nothing about the others).
    public mutating func update(
        _ findings: [RuleFinding], now: Double, timestamp: String, session: String?, seq: UInt64?, capturedAt: String?, scope: Set<String>? = nil
    ) -> [AlertEvent] {
        var events: [AlertEvent] = []
        var seen = Set<String>()
        for finding in findings {
            let key = finding.key
            guard !seen.contains(key) else { continue }
            seen.insert(key)
            lastSeen[key] = now
            if var alert = alerts[key] {
                if alert.state == .cleared {
                    if let cleared = clearedAtSeconds[key], now - cleared <= parameters.quietSeconds {
                        alert.state = .raised
                        alert.clearedAt = nil
                        alert.repeats += 1
                        alert.severity = finding.severity
                        alert.values = finding.values
                        alert.message = finding.message
                        alert.seq = seq
                        alert.capturedAt = capturedAt
                        alert.session = session
                        alert.acknowledged = nil
                        alerts[key] = alert
                        events.append(AlertEvent(change: .raised, alert: alert))
                        continue
                    }
                    forget(key)
                } else {
                    if finding.severity > alert.severity {
                        alert.severity = finding.severity
                        alert.values = finding.values
                        alert.message = finding.message
                        alert.seq = seq
                        alert.capturedAt = capturedAt
                        alerts[key] = alert
                        events.append(AlertEvent(change: .escalated, alert: alert))
                    } else {
                        alert.values = finding.values
                        alerts[key] = alert
                    }
                    continue
                }
            }
            let alert = Alert(
                id: makeID(), rule: finding.rule, subject: finding.subject.isEmpty ? nil : finding.subject, severity: finding.severity,
                stream: stream, session: session, seq: seq, capturedAt: capturedAt, values: finding.values, message: finding.message,
                state: .raised, raisedAt: timestamp, clearedAt: nil, acknowledged: nil, repeats: 0)
            alerts[key] = alert
            keyOfID[alert.id] = key
            order.append(key)
            events.append(AlertEvent(change: .raised, alert: alert))
        }
        for (key, var alert) in alerts where alert.state == .raised && !seen.contains(key) && (scope?.contains(alert.rule) ?? true) {
            if now - (lastSeen[key] ?? now) >= parameters.clearAfterSeconds {
                alert.state = .cleared
                alert.clearedAt = timestamp
                alerts[key] = alert
                clearedAtSeconds[key] = now
                events.append(AlertEvent(change: .cleared, alert: alert))
            }
        }
        trim()
        return events
    }

    /// Clears every raised alert of `rules` now (a rule that no longer applies, e.g. after a config change).
    public mutating func clear(rules: Set<String>, now: Double, timestamp: String) -> [AlertEvent] {
        var events: [AlertEvent] = []
        for (key, var alert) in alerts where alert.state == .raised && rules.contains(alert.rule) {
            alert.state = .cleared
            alert.clearedAt = timestamp
            alerts[key] = alert
            clearedAtSeconds[key] = now
            events.append(AlertEvent(change: .cleared, alert: alert))
        }
        return events
    }

    /// An inspector's acknowledgement; nil for an unknown id. Acknowledging twice keeps the first.
    public mutating func acknowledge(id: String, by actor: String, at timestamp: String) -> AlertEvent? {
        guard let key = keyOfID[id], var alert = alerts[key] else { return nil }
        guard alert.acknowledged == nil else { return AlertEvent(change: .acknowledged, alert: alert) }
        alert.acknowledged = Alert.Acknowledgement(by: actor, at: timestamp)
        alerts[key] = alert
        return AlertEvent(change: .acknowledged, alert: alert)
    }

    private mutating func forget(_ key: String) {
        if let alert = alerts.removeValue(forKey: key) { keyOfID[alert.id] = nil }
        lastSeen[key] = nil
        clearedAtSeconds[key] = nil
        order.removeAll { $0 == key }
    }

    private mutating func trim() {
        var i = 0
        while alerts.count > parameters.maxAlerts, i < order.count {
            let key = order[i]
            if alerts[key]?.state == .cleared { forget(key) } else { i += 1 }
        }
    }
}
