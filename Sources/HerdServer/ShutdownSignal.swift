import ServiceLifecycle
import Synchronization

/// Tells live sessions the server is going away, before the HTTP server itself stops, so viewers are
/// closed with 1001 rather than a plain close. `ShutdownNotifier` fires it on graceful shutdown; place
/// the notifier after the application in a `ServiceGroup` (services shut down in reverse order).
public final class ShutdownSignal: Sendable {
    private let state = Mutex<(fired: Bool, actions: [@Sendable () -> Void])>((false, []))

    public init() {}

    public var isTriggered: Bool { state.withLock { $0.fired } }

    /// Runs `action` when the signal fires (at once if it already has).
    public func onTrigger(_ action: @escaping @Sendable () -> Void) {
        let fired = state.withLock { state -> Bool in
            if !state.fired { state.actions.append(action) }
            return state.fired
        }
        if fired { action() }
    }

    public func trigger() {
        let actions = state.withLock { state -> [@Sendable () -> Void] in
            guard !state.fired else { return [] }
            state.fired = true
            defer { state.actions = [] }
            return state.actions
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
