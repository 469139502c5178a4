import HerdIdentity
import Hummingbird
import HummingbirdWebSocket
import NIOCore

/// Per-request context: Hummingbird's core storage, the WebSocket handler slot, the connection, and who
/// is calling.
public struct HerdRequestContext: RequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `TokenAuthenticator` when a valid token was presented.
    public var identity: Identity?
    /// The connection, for socket options a WebSocket route tunes after its upgrade.
    let channel: any Channel
    /// The WebSocket handler slot: held strongly only by the context Hummingbird made for the request (it
    /// reads the slot after routing), weakly by the copies routing hands on (`WebSocketSlotRelease`).
    /// hummingbird-websocket stores the routed copy inside the slot; a copy holding its slot strongly
    /// was a cycle that kept every WebSocket connection, its channel and buffers, alive for ever.
    private var ownedSlot: WebSocketSlot?
    private weak var sharedSlot: WebSocketSlot?

    public init(source: Source) {
        coreContext = .init(source: source)
        channel = source.channel
        let slot = WebSocketSlot()
        ownedSlot = slot
        sharedSlot = slot
        identity = nil
    }

    public var webSocket: WebSocketHandlerReference<HerdRequestContext> {
        // A copy whose request has ended gets an empty reference; nothing reads it then.
        (ownedSlot ?? sharedSlot)?.reference ?? WebSocketHandlerReference()
    }

    /// This context without its hold on the WebSocket slot (what `WebSocketSlotRelease` passes on).
    func releasingWebSocketSlot() -> HerdRequestContext {
        var copy = self
        copy.ownedSlot = nil
        return copy
    }

    /// The slot, for tests that check it is freed when the request is over.
    var webSocketSlotForTesting: AnyObject? { ownedSlot ?? sharedSlot }

    /// Uploads are bounded by the route that reads them (image limit plus metadata).
    public var maxUploadSize: Int { 9 * 1024 * 1024 }

    /// The client's address as text (for the audit log).
    var remote: String? {
        guard let address = channel.remoteAddress else { return nil }
        return address.ipAddress.map { "\($0):\(address.port ?? 0)" } ?? "\(address)"
    }

    /// The caller, or 401.
    func requireIdentity() throws -> Identity {
        guard let identity else { throw HerdServerError.unauthorized("missing or invalid bearer token") }
        return identity
    }
}

/// Holds a request's `WebSocketHandlerReference` so the context can refer to it weakly.
final class WebSocketSlot: Sendable {
    let reference = WebSocketHandlerReference<HerdRequestContext>()
}
