import Foundation
import HTTPTypes
import HerdIdentity
import HerdProtocol
import HerdServer
import HerdTesting
import Hummingbird
import HummingbirdTesting
import HummingbirdWSTesting
import NIOCore
import Testing
import WSClient

/// The web viewer's session routes (`/api/v1/session`, `/api/v1/streams`) and what revoking a token does
/// to connections it already holds.
@Suite("Viewer sign-in and token revocation", .timeLimit(.minutes(3)))
struct ViewerSignInTests {
    struct Reply {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var body: String
    }

    func request(
        _ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ path: String, bearer: String? = nil, cookie: String? = nil,
        body: String? = nil
    ) async throws -> Reply {
        var headers = HTTPFields()
        if let bearer { headers[.authorization] = "Bearer \(bearer)" }
        if let cookie { headers[.cookie] = cookie }
        if body != nil { headers[.contentType] = "application/json" }
        return try await client.execute(uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) {
            Reply(status: $0.status, headers: $0.headers, body: String(buffer: $0.body))
        }
    }

    /// Signs in with `token`; the `name=value` part of the session cookie.
    func signIn(_ client: some TestClientProtocol, token: String) async throws -> String {
        let reply = try await request(client, .post, "/api/v1/session", body: #"{"token":"\#(token)"}"#)
        #expect(reply.status == .noContent)
        let setCookie = try #require(reply.headers[.setCookie])
        #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict"))
        #expect(!setCookie.contains(token), "the token itself never goes into the cookie")
        return String(setCookie.split(separator: ";")[0])
    }

    @Test("sign-in, session and stream list: 400, 401 and 403 for every role; the cookie works and signs out")
    func sessionRoutes() async throws {
        let fixture = try ServerFixture()
        defer { fixture.cleanUp() }
        let app = try buildApplication(configuration: fixture.configuration, logger: fixture.logger)
        try await app.test(.live) { client in
            // Sign-in refusals.
            #expect(try await request(client, .post, "/api/v1/session", body: "not json").status == .badRequest)
            #expect(try await request(client, .post, "/api/v1/session", body: #"{"token":"hl_bogus"}"#).status == .unauthorized)
            #expect(try await request(client, .post, "/api/v1/session", body: #"{"token":"\#(fixture.device)"}"#).status == .forbidden)
            // Who am I, and which streams: nobody without a token or cookie.
            #expect(try await request(client, .get, "/api/v1/session").status == .unauthorized)
            #expect(try await request(client, .get, "/api/v1/streams").status == .unauthorized)
            #expect(try await request(client, .get, "/api/v1/streams", bearer: "hl_bogus").status == .unauthorized)
            #expect(try await request(client, .get, "/api/v1/session", cookie: "herd_session=0123abcd").status == .unauthorized)
            // Devices and auditors do not watch live streams.
            #expect(try await request(client, .get, "/api/v1/streams", bearer: fixture.device).status == .forbidden)
            #expect(try await request(client, .get, "/api/v1/streams", bearer: fixture.auditor).status == .forbidden)
            #expect(try await request(client, .get, "/api/v1/streams", bearer: fixture.admin).status == .ok)
            #expect(try await request(client, .post, "/api/v1/session", body: #"{"token":"\#(fixture.admin)"}"#).status == .noContent)

            // A narrow inspector sees its granted stream (offline until a device publishes).
            let narrow = try await signIn(client, token: fixture.narrowInspector)
            let me = try await request(client, .get, "/api/v1/session", cookie: narrow)
            #expect(me.status == .ok && me.body.contains(#""role":"inspector""#), "\(me.body)")
            #expect(try await request(client, .get, "/api/v1/streams", cookie: narrow).body == #"[{"online":false,"stream":"farm-jx-099.cam-1"}]"#)

            // A stream goes online when its device publishes; the all-streams inspector sees it.
            let frame = ServerFixture.multipart(
                metadata: WireJSON.encode(try fixture.header(seq: 1)), image: try SampleFrames.bytes("variants", "jpeg-420-baseline.jpg"))
            var headers = HTTPFields()
            headers[.authorization] = "Bearer \(fixture.device)"
            headers[.contentType] = "multipart/form-data; boundary=herdlens-test-boundary"
            try await client.execute(uri: "/api/v1/streams/\(fixture.stream)/frames", method: .post, headers: headers, body: ByteBuffer(bytes: frame)) {
                #expect($0.status == .created)
            }
            let all = try await signIn(client, token: fixture.inspector)
            #expect(try await request(client, .get, "/api/v1/streams", cookie: all).body == #"[{"online":true,"stream":"farm-jx-017.cam-1"}]"#)
            #expect(try await request(client, .get, "/api/v1/streams", cookie: narrow).body == #"[{"online":false,"stream":"farm-jx-099.cam-1"}]"#)

            // Signing out ends the session.
            let out = try await request(client, .delete, "/api/v1/session", cookie: all)
            #expect(out.status == .noContent && out.headers[.setCookie]?.contains("Max-Age=0") == true)
            #expect(try await request(client, .get, "/api/v1/session", cookie: all).status == .unauthorized)
            #expect(try await request(client, .get, "/api/v1/session", cookie: narrow).status == .ok)
        }
    }

    @Test("a browser session survives a server restart on the same data directory")
    func sessionSurvivesRestart() async throws {
        let fixture = try ServerFixture()
        defer { fixture.cleanUp() }
        let first = try buildApplication(configuration: fixture.configuration, logger: fixture.logger)
        let cookie = try await first.test(.live) { client in try await signIn(client, token: fixture.inspector) }
        let second = try buildApplication(configuration: fixture.configuration, logger: fixture.logger)
        try await second.test(.live) { client in
            let me = try await request(client, .get, "/api/v1/session", cookie: cookie)
            #expect(me.status == .ok && me.body.contains(#""name":"inspector""#), "\(me.body)")
        }
    }

    @Test("revoking a token closes its open sockets with 1008 and signs out its browser sessions; other tokens carry on")
    func revocationEndsConnections() async throws {
        var setup = try ServerFixture()
        setup.configuration.tokenCheckSeconds = 0.1
        let fixture = setup
        defer { fixture.cleanUp() }
        let app = try buildApplication(configuration: fixture.configuration, logger: fixture.logger)
        // `herdlens token revoke` is another process writing the same SQLite file: so is this store.
        let store = try TokenStore(dataDirectory: fixture.directory.path)
        let ids = Dictionary(uniqueKeysWithValues: try store.list().map { ($0.name, $0.id) })
        let image = try SampleFrames.bytes("variants", "jpeg-420-baseline.jpg")
        try await app.test(.live) { client in
            let cookie = try await signIn(client, token: fixture.inspector)
            let narrowCookie = try await signIn(client, token: fixture.narrowInspector)
            async let viewerClose = client.ws("/api/v1/live?stream=\(fixture.stream)", configuration: LiveStreamingTests.wsConfiguration(token: fixture.inspector)) { inbound, _, _ in
                for try await _ in inbound.messages(maxSize: 16 << 20) {}
            }
            async let deviceClose = client.ws("/api/v1/ingest", configuration: LiveStreamingTests.wsConfiguration(token: fixture.device)) { inbound, outbound, _ in
                var replies = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                // Publishes until it is cut off; every frame before that is acknowledged.
                for seq in UInt64(1)...2000 {
                    try await outbound.write(.binary(ByteBuffer(bytes: Envelope.encode(header: try fixture.header(seq: seq), payload: image))))
                    guard let reply = try await replies.next() else { return }
                    #expect("\(reply)".contains(#""type":"ack""#))
                    try await Task.sleep(for: .milliseconds(20))
                }
                Issue.record("the device socket was never closed")
            }
            // The inspector's token is revoked while its viewer socket and browser session are open.
            try await ServerFixture.waitForGauges(client, ["herd_viewers": 1, "herd_devices": 1])
            try store.revoke(id: try #require(ids["inspector"]))
            let viewer = try await viewerClose
            #expect(viewer?.closeCode == .policyViolation, "\(String(describing: viewer))")
            #expect(viewer?.reason?.contains("revoked") == true)
            #expect(try await request(client, .get, "/api/v1/session", cookie: cookie).status == .unauthorized)
            #expect(try await request(client, .get, "/api/v1/session", cookie: narrowCookie).status == .ok)
            // The device, on its own token, was not touched; now it is revoked too.
            try store.revoke(id: try #require(ids["cam"]))
            let device = try await deviceClose
            #expect(device?.closeCode == .policyViolation, "\(String(describing: device))")
            // New connections with a revoked token are refused outright.
            await #expect(throws: WebSocketClientError.webSocketUpgradeFailed) {
                try await client.ws("/api/v1/ingest", configuration: LiveStreamingTests.wsConfiguration(token: fixture.device)) { _, _, _ in }
            }
        }
    }
}
