import Foundation
import HerdServer
import Hummingbird
import HummingbirdTesting
import Testing

/// Heads the HTTP decoder refuses and heads that never finish, as a raw client meets them: each is
/// answered (or closed) and the server goes on serving.
@Suite("Request heads: too large, malformed, too slow", .timeLimit(.minutes(2)))
struct RequestHeadGuardTests {
    static func bigHead(_ requestLine: String, extra: [String] = []) -> [UInt8] {
        // 100 KB of one header: past the decoder's 80 KB list limit, as the client reported (about 82 KB).
        let lines = [requestLine, "Host: 127.0.0.1"] + extra + ["X-Padding: " + String(repeating: "a", count: 100_000)]
        return Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8)
    }

    static func expectError(_ received: [UInt8], status: Int, code: String) throws {
        let response = try RawHTTP.parse(received)
        #expect(response.status == status, "\(response)")
        #expect(response.headers["connection"] == "close")
        #expect(response.headers["content-type"]?.hasPrefix("application/json") == true)
        let body = try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any]
        #expect((body?["error"] as? [String: Any])?["code"] as? String == code, "\(response.body)")
    }

    @Test("a head over 80 KB is answered 431 and closed, on a plain GET, a POST and a WebSocket upgrade")
    func headerTooLarge() async throws {
        let fixture = try ServerFixture()
        defer { fixture.cleanUp() }
        let app = try buildApplication(configuration: fixture.configuration, logger: fixture.logger)
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let upgrade = ["Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"]
            for head in [
                Self.bigHead("GET /healthz HTTP/1.1"), Self.bigHead("POST /api/v1/frames HTTP/1.1", extra: ["Content-Length: 4"]),
                Self.bigHead("GET /api/v1/ingest HTTP/1.1", extra: upgrade),
            ] {
                // `received` returns only once the server closes: an unanswered head would time out instead.
                try Self.expectError(try await RawHTTP.received(port: port, head), status: 431, code: "headerTooLarge")
            }
            // A second request on a connection whose first was fine, then one too large.
            let keepAlive = Array("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8) + Self.bigHead("GET /healthz HTTP/1.1")
            let both = String(decoding: try await RawHTTP.received(port: port, keepAlive), as: UTF8.self)
            #expect(both.hasPrefix("HTTP/1.1 200"), "\(both.prefix(200))")
            #expect(both.contains("HTTP/1.1 431"), "\(both.prefix(400))")
            let after = try await RawHTTP.exchange(port: port, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            #expect(after.status == 200)
        }
    }

    @Test("a malformed request is answered 400 with the JSON body and closed")
    func malformed() async throws {
        let fixture = try ServerFixture()
        defer { fixture.cleanUp() }
        let app = try buildApplication(configuration: fixture.configuration, logger: fixture.logger)
        try await app.test(.live) { client in
            let port = try #require(client.port)
            for request in ["GET / HTTP/1.1\r\nHo\u{1}st: x\r\n\r\n", "\u{16}\u{3}\u{1}\u{2}\u{0}\u{1}\u{0}\u{1}\r\n\r\n", "GET / HTTP/1.1\r\nContent-Length: -5\r\n\r\n"] {
                try Self.expectError(try await RawHTTP.received(port: port, Array(request.utf8)), status: 400, code: "badRequest")
            }
        }
    }

    @Test("slowloris: a head that stops half way is answered 408, also on a keep-alive connection")
    func slowHead() async throws {
        let fixture = try ServerFixture()
        defer { fixture.cleanUp() }
        var configuration = fixture.configuration
        configuration.requestHeadTimeoutSeconds = 0.5
        let app = try buildApplication(configuration: configuration, logger: fixture.logger)
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let clock = ContinuousClock()
            let start = clock.now
            let partial = try await RawHTTP.received(port: port, Array("GET /api/v1/ingest HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgr".utf8))
            try Self.expectError(partial, status: 408, code: "requestTimeout")
            // Closed by the deadline, not by the client's own 30 s read limit.
            #expect(clock.now - start < .seconds(20))
            // On a keep-alive connection the deadline runs from the first byte of the next head (an idle
            // one is left to its client).
            let both = String(decoding: try await RawHTTP.conversation(
                port: port, Array("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".utf8), until: "ok\n",
                then: Array("GET /healthz HTTP/1.1\r\nHo".utf8)), as: UTF8.self)
            #expect(both.hasPrefix("HTTP/1.1 200") && both.contains("HTTP/1.1 408"), "\(both)")
        }
    }
}
