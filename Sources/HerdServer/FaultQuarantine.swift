import Synchronization

/// Device tokens whose frames keep crashing or hanging codec workers. A device re-sends what was not
/// acknowledged, so one poisoned frame would otherwise come back forever, each time costing a worker:
/// after `threshold` faults within `window` the token's frames are refused for `duration`.
/// Bounded: at most `maxTokens` tokens are remembered (the stalest forgotten first).
final class FaultQuarantine: Sendable {
    private struct Record {
        var faults: [ContinuousClock.Instant] = []
        var until: ContinuousClock.Instant?
        var last: ContinuousClock.Instant
    }

    let threshold: Int
    let window: Duration
    let duration: Duration
    static let maxTokens = 4096
    private let records = Mutex<[String: Record]>([:])

    init(threshold: Int, window: Duration, duration: Duration) {
        self.threshold = max(1, threshold)
        self.window = window
        self.duration = duration
    }

    /// When the token's quarantine ends, if it is in one now.
    func refusedUntil(_ token: String, now: ContinuousClock.Instant = .now) -> ContinuousClock.Instant? {
        records.withLock { records in
            guard let until = records[token]?.until else { return nil }
            if until > now { return until }
            records[token]?.until = nil
            return nil
        }
    }

    /// Counts a fault against the token; true when this one starts a quarantine.
    func recordFault(_ token: String, now: ContinuousClock.Instant = .now) -> Bool {
        records.withLock { records in
            if records[token] == nil, records.count >= Self.maxTokens,
               let stalest = records.min(by: { $0.value.last < $1.value.last })?.key {
                records[stalest] = nil
            }
            var record = records[token] ?? Record(last: now)
            record.last = now
            record.faults = record.faults.filter { now - $0 < window } + [now]
            var started = false
            if record.faults.count >= threshold {
                record.until = now + duration
                record.faults = []
                started = true
            }
            records[token] = record
            return started
        }
    }
}
