import HummingbirdWebSocket
import Synchronization

/// Why a live session (device or viewer) was ended from outside, set once by whoever ends it (today:
/// `TokenWatch`), and how its socket then closes.
final class SessionEnd: Sendable {
    private let value = Mutex<String?>(nil)

    func set(_ reason: String) { value.withLock { $0 = $0 ?? reason } }
    var reason: String? { value.withLock { $0 } }

    /// 1008 with the reason if the session was ended from outside, 1001 if the server is shutting down;
    /// otherwise the session ended on its own and the socket closes as usual.
    func closeSocket(_ outbound: WebSocketOutboundWriter, shutdown: ShutdownSignal) async {
        if let reason {
            try? await outbound.close(.policyViolation, reason: reason)
        } else if shutdown.isTriggered {
            try? await outbound.close(.goingAway, reason: "server shutting down")
        }
    }
}
