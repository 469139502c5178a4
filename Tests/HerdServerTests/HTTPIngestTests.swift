import Foundation
import HTTPTypes
import HerdProtocol
import HerdServer
import HerdTesting
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@Suite("HTTP ingest and auth", .timeLimit(.minutes(3)))
struct HTTPIngestTests {
    func post(_ client: some TestClientProtocol, _ fixture: ServerFixture, token: String?, stream: String? = nil,
              body: [UInt8], contentType: String = "multipart/form-data; boundary=herdlens-test-boundary") async throws -> (HTTPResponse.Status, String) {
        var headers = HTTPFields()
        if let token { headers[.authorization] = "Bearer \(token)" }
        headers[.contentType] = contentType
        return try await client.execute(
            uri: "/api/v1/streams/\(stream ?? fixture.stream.rawValue)/frames", method: .post, headers: headers,
            body: ByteBuffer(bytes: body)) { response in (response.status, String(buffer: response.body)) }
    }

    @Test("health endpoints answer without a token")
    func health() async throws {
        let fixture = try ServerFixture()
        defer { fixture.cleanUp() }
        let app = try buildApplication(configuration: fixture.configuration, logger: fixture.logger)
        try await app.test(.live) { client in
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/readyz", method: .get) { #expect($0.status == .ok) }
        }
    }

    @Test("a device posts a frame: 201 and the ack once durable; the same seq and bytes again is 200 duplicate, other bytes 409 seqConflict")
    func postFrame() async throws {
        let fixture = try ServerFixture()
        defer { fixture.cleanUp() }
        let app = try buildApplication(configuration: fixture.configuration, logger: fixture.logger)
        let image = try SampleFrames.bytes("frames", "pen-day-720p.jpg")
        let body = ServerFixture.multipart(metadata: WireJSON.encode(try fixture.header(seq: 1)), image: image)
        try await app.test(.live) { client in
            let (status, text) = try await post(client, fixture, token: fixture.device, body: body)
            #expect(status == .created)
            let ack = try WireJSON.decode(AckMessage.self, from: Array(text.utf8))
            #expect(ack.seq == 1 && ack.stream == fixture.stream && ack.duplicate == nil)
            let (again, duplicate) = try await post(client, fixture, token: fixture.device, body: body)
            let dup = try WireJSON.decode(AckMessage.self, from: Array(duplicate.utf8))
            #expect(again == .ok && dup.duplicate == true, "\(duplicate)")
            let other = ServerFixture.multipart(
                metadata: WireJSON.encode(try fixture.header(seq: 1)), image: try SampleFrames.bytes("frames", "pen-night-720p.jpg"))
            let (conflict, error) = try await post(client, fixture, token: fixture.device, body: other)
            #expect(conflict == .conflict && error.contains(#""code":"seqConflict""#) && error.contains(#""retryable":false"#), "\(error)")
        }
    }

    @Test("401 and 403 for every role that may not publish")
    func authorization() async throws {
        let fixture = try ServerFixture()
        defer { fixture.cleanUp() }
        let app = try buildApplication(configuration: fixture.configuration, logger: fixture.logger)
        let image = try SampleFrames.bytes("variants", "jpeg-420-baseline.jpg")
        let body = ServerFixture.multipart(metadata: WireJSON.encode(try fixture.header(seq: 1)), image: image)
        try await app.test(.live) { client in
            var (status, text) = try await post(client, fixture, token: nil, body: body)
            #expect(status == .unauthorized)
            let error = try WireJSON.decode(HTTPErrorBody.self, from: Array(text.utf8))
            #expect(error.error.code == "unauthenticated")
            (status, _) = try await post(client, fixture, token: "hl_not-a-real-token", body: body)
            #expect(status == .unauthorized)
            for token in [fixture.inspector, fixture.auditor, fixture.otherDevice] {
                (status, text) = try await post(client, fixture, token: token, body: body)
                #expect(status == .forbidden, "\(text)")
            }
            (status, _) = try await post(client, fixture, token: fixture.admin, body: body)
            #expect(status == .created)
        }
    }

    @Test("bad requests get their documented status and code", arguments: [
        ("text/plain", "metadata", 415, "unsupportedMediaType"),
        ("multipart", "not json", 400, "badJSON"),
        ("multipart", "other stream", 400, "invalidStream"),
        ("multipart", "gif", 415, "unknownFormat"),
        ("multipart", "truncated", 400, "truncated"),
        ("multipart", "bad seq", 400, "invalidSeq"),
        ("multipart", "cut body", 400, "badMultipart"),
        ("multipart", "no image part", 400, "badMultipart"),
    ])
    func badRequests(contentType: String, variant: String, status: Int, code: String) async throws {
        let fixture = try ServerFixture()
        defer { fixture.cleanUp() }
        let app = try buildApplication(configuration: fixture.configuration, logger: fixture.logger)
        var metadata = WireJSON.encode(try fixture.header(seq: 5))
        var image = try SampleFrames.bytes("variants", "jpeg-420-baseline.jpg")
        switch variant {
        case "not json": metadata = Array("{not json".utf8)
        case "other stream": metadata = WireJSON.encode(try fixture.header(seq: 5, stream: fixture.otherStream))
        case "gif": image = try SampleFrames.bytes("malformed", "unknownFormat--gif-magic.gif")
        case "truncated": image = try SampleFrames.bytes("malformed", "truncated--jpeg-half.jpg")
        case "bad seq": metadata = Array(#"{"type":"frame","stream":"farm-jx-017.cam-1","seq":-4,"capturedAt":"2026-11-20T08:00:00Z"}"#.utf8)
        default: break
        }
        var body = ServerFixture.multipart(metadata: metadata, image: image)
        if variant == "cut body" { body.removeLast(40) }  // into the image part: no closing boundary
        if variant == "no image part" {
            body = Array("--herdlens-test-boundary\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n".utf8) + metadata
                + Array("\r\n--herdlens-test-boundary--\r\n".utf8)
        }
        let sent = body
        try await app.test(.live) { client in
            let (got, text) = try await post(client, fixture, token: fixture.device, body: sent,
                                             contentType: contentType == "multipart" ? "multipart/form-data; boundary=herdlens-test-boundary" : contentType)
            #expect(Int(got.code) == status, "\(variant): \(text)")
            #expect((try? WireJSON.decode(HTTPErrorBody.self, from: Array(text.utf8)))?.error.code == code, "\(variant): \(text)")
        }
    }
}

@Suite("HTTP rate limit", .timeLimit(.minutes(3)))
struct HTTPRateLimitTests {
    @Test("posting faster than the token's rate gets 429 rateLimited")
    func rateLimited() async throws {
        var setup = try ServerFixture()
        // One token per thousand seconds: however slowly a loaded machine runs the three posts, none refills.
        setup.configuration.framesPerSecondPerDevice = 0.001
        setup.configuration.frameBurst = 2
        let fixture = setup
        defer { fixture.cleanUp() }
        let app = try buildApplication(configuration: fixture.configuration, logger: fixture.logger)
        let image = try SampleFrames.bytes("variants", "jpeg-420-baseline.jpg")
        try await app.test(.live) { client in
            var statuses: [HTTPResponse.Status] = []
            for seq in 1...3 {
                let body = ServerFixture.multipart(metadata: WireJSON.encode(try fixture.header(seq: UInt64(seq))), image: image)
                var headers = HTTPFields()
                headers[.authorization] = "Bearer \(fixture.device)"
                headers[.contentType] = "multipart/form-data; boundary=herdlens-test-boundary"
                let (status, text) = try await client.execute(
                    uri: "/api/v1/streams/\(fixture.stream)/frames", method: .post, headers: headers, body: ByteBuffer(bytes: body)
                ) { ($0.status, String(buffer: $0.body)) }
                statuses.append(status)
                if seq == 3 { #expect(text.contains("rateLimited")) }
            }
            #expect(statuses == [.created, .created, .tooManyRequests])
        }
    }
}
