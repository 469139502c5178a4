import HTTPTypes
import HerdProtocol
import Hummingbird
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTPTypes

/// Refused WebSocket upgrades, answered with their real status and JSON error body.
///
/// The WebSocket package answers any refused upgrade with a bare `400` and no body, whatever the route
/// decided. So the route's refusal is kept here per connection (`UpgradeRefusalMiddleware`), and the
/// HTTP handler on that connection (`UpgradeRefusalHandler`) rewrites the package's bare 400 into it:
/// a real client then sees 401, 403, 400 or 429 with `{"error":{"code","message"}}`.
final class UpgradeRefusals: Sendable {
    struct Refusal: Sendable {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var body: [UInt8]
    }

    private let pending = NIOLockedValueBox<[ObjectIdentifier: Refusal]>([:])

    func keep(_ refusal: Refusal, for channel: any Channel) {
        let key = ObjectIdentifier(channel)
        pending.withLockedValue { $0[key] = refusal }
        channel.closeFuture.whenComplete { [weak self] _ in self?.pending.withLockedValue { _ = $0.removeValue(forKey: key) } }
    }

    func take(for channel: any Channel) -> Refusal? {
        pending.withLockedValue { $0.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    var count: Int { pending.withLockedValue { $0.count } }
}

/// Keeps the refusal of a WebSocket upgrade request (an `Upgrade: websocket` GET) for its connection.
struct UpgradeRefusalMiddleware: RouterMiddleware {
    typealias Context = HerdRequestContext
    let refusals: UpgradeRefusals

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.headers[.upgrade]?.lowercased() == "websocket" else { return try await next(request, context) }
        do {
            let response = try await next(request, context)
            if response.status != .ok {
                let body = HTTPErrorBody(code: "upgradeRefused", message: "this path does not take a WebSocket upgrade")
                keep(response.status, headers: response.headers, body: WireJSON.encode(body), context: context)
            }
            return response
        } catch let error as HerdServerError {
            let response = try error.response(from: request, context: context)
            keep(error.status, headers: response.headers, body: WireJSON.encode(HTTPErrorBody(code: error.code, message: error.message, retryable: error.retryable)), context: context)
            throw error
        } catch let error as HTTPError {
            let code = error.status == .notFound ? "notFound" : "badRequest"
            keep(error.status, headers: [:], body: WireJSON.encode(HTTPErrorBody(code: code, message: error.body ?? "\(error.status.reasonPhrase)")), context: context)
            throw error
        }
    }

    private func keep(_ status: HTTPResponse.Status, headers: HTTPFields, body: [UInt8], context: Context) {
        var fields = HTTPFields()
        for field in headers where field.name != .contentLength && field.name != .contentType { fields.append(field) }
        refusals.keep(.init(status: status, headers: fields, body: body), for: context.channel)
    }
}

/// On a connection whose upgrade was refused, turns the WebSocket package's bare `400` into the
/// refusal the route decided (status, headers, JSON body), then the connection closes as before.
final class UpgradeRefusalHandler: ChannelOutboundHandler, RemovableChannelHandler, Sendable {
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let refusals: UpgradeRefusals
    private let body = NIOLockedValueBox<[UInt8]?>(nil)

    init(refusals: UpgradeRefusals) {
        self.refusals = refusals
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head) where head.status == .badRequest:
            guard let refusal = refusals.take(for: context.channel) else { return context.write(data, promise: promise) }
            var fields = refusal.headers
            fields[.contentType] = "application/json; charset=utf-8"
            fields[.contentLength] = "\(refusal.body.count)"
            fields[.connection] = "close"
            body.withLockedValue { $0 = refusal.body }
            context.write(wrapOutboundOut(.head(HTTPResponse(status: refusal.status, headerFields: fields))), promise: promise)
        case .end(let trailers):
            if let bytes = body.withLockedValue({ b -> [UInt8]? in defer { b = nil }; return b }) {
                context.write(wrapOutboundOut(.body(context.channel.allocator.buffer(bytes: bytes))), promise: nil)
            }
            context.write(wrapOutboundOut(.end(trailers)), promise: promise)
        default:
            context.write(data, promise: promise)
        }
    }
}
