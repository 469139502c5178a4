import ServiceLifecycle
import Synchronization

/// Tells live sessions the server is going away, before the HTTP server itself stops, so viewers are
/// closed with 1001 rather than a plain close. `ShutdownNotifier` fires it on graceful shutdown; place
/// the notifier after the application in a `ServiceGroup` (services shut down in reverse order).
public final class ShutdownSignal: Sendable {
    private let state = Mutex<(fired: Bool, next: Int, actions: [Int: @Sendable () -> Void])>((false, 0, [:]))

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
        let key = register(action)
        defer { if let key { _ = state.withLock { $0.actions.removeValue(forKey: key) } } }
        return try await body()
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
    }
}
