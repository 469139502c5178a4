import HerdIdentity
import Hummingbird
import HummingbirdWebSocket
import NIOCore

/// Per-request context: Hummingbird's core storage, the WebSocket handler slot, the connection, and who
/// is calling.
public struct HerdRequestContext: RequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    public var webSocket: WebSocketHandlerReference<HerdRequestContext>
    /// Set by `TokenAuthenticator` when a valid token was presented.
    public var identity: Identity?
    /// The connection, for socket options a WebSocket route tunes after its upgrade.
    let channel: any Channel

    public init(source: Source) {
        coreContext = .init(source: source)
        channel = source.channel
        webSocket = .init()
        identity = nil
    }

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
