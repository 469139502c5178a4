import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import HerdServer

/// hummingbird-websocket keeps the routed request context inside the context's own handler slot; the
/// soak found every WebSocket connection (its channel and read buffers) kept alive by that cycle.
@Suite("WebSocket handler slot", .timeLimit(.minutes(1)))
struct WebSocketSlotTests {
    @Test("a routed WebSocket upgrade leaves no cycle: the handler slot, and the context in it, are freed with the request")
    func slotIsFreedWithTheRequest() async throws {
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish() }
        weak var slot: AnyObject?
        try await {
            let router = Router(context: HerdRequestContext.self)
            router.middlewares.add(WebSocketSlotRelease())
            router.ws("/live") { _, _, _ in }
            let context = HerdRequestContext(source: .init(channel: channel, logger: Logger(label: "herd-test")))
            slot = context.webSocketSlotForTesting
            let request = Request(head: HTTPRequest(method: .get, scheme: "http", authority: "herd", path: "/live"), body: .init(buffer: ByteBuffer()))
            let response = try await router.buildResponder().respond(to: request, context: context)
            // Routed as an upgrade: the slot now holds the handler (what the upgrade reads next).
            #expect(response.status == .ok)
            #expect(slot != nil)
        }()
        #expect(slot == nil, "the WebSocket slot outlived its request: a cycle keeps the connection alive")
    }
}
