import Synchronization

/// Counts open WebSockets per token so one leaked or cloned token cannot open unbounded connections.
final class SocketLimiter: Sendable {
    private let open = Mutex<[String: Int]>([:])
    let maxPerToken: Int

    init(maxPerToken: Int) {
        self.maxPerToken = maxPerToken
    }

    /// Takes a slot for `token`; false when it already holds the maximum.
    func acquire(_ token: String) -> Bool {
        open.withLock { open in
            let n = open[token, default: 0]
            guard n < maxPerToken else { return false }
            open[token] = n + 1
            return true
        }
    }

    func release(_ token: String) {
        open.withLock { open in
            let n = open[token, default: 1] - 1
            open[token] = n > 0 ? n : nil
        }
    }
}
