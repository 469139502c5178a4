import Hummingbird

/// The first middleware: hands the routes a context that holds its WebSocket slot weakly, so the copy
/// hummingbird-websocket keeps in the slot does not keep the slot (and with it the connection) alive.
/// See `HerdRequestContext`.
struct WebSocketSlotRelease: RouterMiddleware {
    typealias Context = HerdRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try await next(request, context.releasingWebSocketSlot())
    }
}
