import ServiceLifecycle
import Synchronization

/// Tells live sessions the server is going away, before the HTTP server itself stops, so viewers are
/// closed with 1001 rather than a plain close. `ShutdownNotifier` fires it on graceful shutdown; place
/// the notifier after the application in a `ServiceGroup` (services shut down in reverse order).
public final class ShutdownSignal: Sendable {
    private let state = Mutex<(fired: Bool, next: Int, actions: [Int: @Sendable () -> Void], active: Int)>((false, 0, [:], 0))

    public init() {}

    public var isTriggered: Bool { state.withLock { $0.fired } }

    /// Runs `action` when the signal fires (at once if it already has), for as long as the signal lives.
    public func onTrigger(_ action: @escaping @Sendable () -> Void) {
        _ = register(action)
    }

    /// Runs `body`; `action` runs if the signal fires meanwhile. The handler is removed when `body`
    /// returns, so a connection leaves nothing behind (as swift-service-lifecycle's
    /// `withGracefulShutdownHandler` does).
    public func whileRunning<T>(onTrigger action: @escaping @Sendable () -> Void, _ body: () async throws -> T) async rethrows -> T {
        state.withLock { $0.active += 1 }
        let key = register(action)
        defer {
            state.withLock { state in
                if let key { state.actions.removeValue(forKey: key) }
                state.active -= 1
            }
        }
        return try await body()
    }

    /// Sessions inside `whileRunning` now.
    public var activeSessions: Int { state.withLock { $0.active } }

    /// After `trigger`: waits until every session has closed its socket (so viewers and devices hear
    /// 1001 before the HTTP server stops), at most `timeout`.
    public func waitForSessions(timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        while activeSessions > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Handlers currently registered (tests check none is left behind).
    public var handlerCount: Int { state.withLock { $0.actions.count } }

    private func register(_ action: @escaping @Sendable () -> Void) -> Int? {
        let key = state.withLock { state -> Int? in
            guard !state.fired else { return nil }
            state.next += 1
            state.actions[state.next] = action
            return state.next
        }
        if key == nil { action() }
        return key
    }

    public func trigger() {
        let actions = state.withLock { state -> [@Sendable () -> Void] in
            guard !state.fired else { return [] }
            state.fired = true
            defer { state.actions = [:] }
            return state.actions.sorted { $0.key < $1.key }.map(\.value)
        }
        for action in actions { action() }
    }
}

/// A service that fires a `ShutdownSignal` when its group starts shutting down.
public struct ShutdownNotifier: Service {
    let signal: ShutdownSignal

    public init(signal: ShutdownSignal) {
        self.signal = signal
    }

    public func run() async throws {
        try? await gracefulShutdown()
        signal.trigger()
        await signal.waitForSessions(timeout: .seconds(5))
    }
}
