import Foundation
import Synchronization

/// Per-token rate limits for the HTTP ingest route (a WebSocket has its own limiter per connection):
/// one `RateLimiter` bucket per token id, at most `capacity` tokens tracked.
final class TokenRateLimiter: Sendable {
    private let buckets = Mutex<[String: RateLimiter]>([:])
    let rate: Double
    let burst: Double
    let capacity: Int

    init(rate: Double, burst: Double, capacity: Int = 10_000) {
        self.rate = rate
        self.burst = burst
        self.capacity = capacity
    }

    func allow(_ token: String, now: Double = ProcessInfo.processInfo.systemUptime) -> Bool {
        buckets.withLock { buckets in
            if buckets[token] == nil && buckets.count >= capacity { buckets.removeAll(keepingCapacity: true) }
            var bucket = buckets[token] ?? RateLimiter(rate: rate, burst: burst, now: now)
            let allowed = bucket.allow(now: now)
            buckets[token] = bucket
            return allowed
        }
    }
}
