import Foundation
import HTTPTypes
import HerdCodecs
import HerdProtocol
import HerdServer
import HerdTesting
import Hummingbird
import HummingbirdTesting
import HummingbirdWSTesting
import NIOCore
import Testing
import WSClient

/// A viewer's `options` messages over a real socket: scaled frames, and the original JPEG with the
/// annotations as data; bad options get an error and the socket carries on.
@Suite("Viewer options over the socket", .timeLimit(.minutes(3)))
struct ViewerOptionsTests {
    @Test("maxWidth scales the feed; overlay:false sends the device's own bytes plus annotations; bad options are answered")
    func options() async throws {
        let fixture = try ServerFixture.unthrottled()
        defer { fixture.cleanUp() }
        let app = try buildApplication(configuration: fixture.configuration, logger: fixture.logger)
        let image = try SampleFrames.bytes("frames", "pen-day-720p.jpg")
        let ready = LiveStreamingTests.Signal(), done = LiveStreamingTests.Signal()
        try await app.test(.live) { client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await ready.wait()
                    try await client.ws("/api/v1/ingest", configuration: LiveStreamingTests.wsConfiguration(token: fixture.device)) { inbound, outbound, _ in
                        var replies = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                        // Frames until the viewer has seen what it waits for (bounded for a broken server).
                        for seq in UInt64(1)...300 {
                            try await outbound.write(.binary(ByteBuffer(bytes: Envelope.encode(header: try fixture.header(seq: seq), payload: image))))
                            _ = try await replies.next()
                            if done.isFired { return }
                            try await Task.sleep(for: .milliseconds(20))
                        }
                    }
                }
                try await client.ws("/api/v1/live?stream=\(fixture.stream)", configuration: LiveStreamingTests.wsConfiguration(token: fixture.inspector)) { inbound, outbound, _ in
                    defer { done.fire() }
                    var messages = inbound.messages(maxSize: 16 << 20).makeAsyncIterator()
                    func nextText() async throws -> String? {
                        while let message = try await messages.next() {
                            if case .text(let text) = message, !text.contains(#""type":"event""#) { return text }
                        }
                        return nil
                    }
                    /// The next frame for which `accept` holds; frames before it are the old options'.
                    func frame(where accept: (LiveFrameHeader, [UInt8]) throws -> Bool) async throws -> (LiveFrameHeader, [UInt8])? {
                        while let message = try await messages.next() {
                            guard case .binary(var buffer) = message else { continue }
                            let (json, payload) = try Envelope.split(buffer.readBytes(length: buffer.readableBytes)!)
                            let header = try WireJSON.decode(LiveFrameHeader.self, from: json)
                            if try accept(header, Array(payload)) { return (header, Array(payload)) }
                        }
                        return nil
                    }

                    // Bad options first: each is answered with an error, and the socket stays open.
                    try await outbound.write(.text(#"{"type":"options","maxWidth":0}"#))
                    #expect(try await nextText()?.contains(#""code":"invalidMessage""#) == true)
                    try await outbound.write(.text(#"{"type":"hello"}"#))
                    #expect(try await nextText()?.contains(#""code":"unknownType""#) == true)
                    try await outbound.write(.text("{not json"))
                    #expect(try await nextText()?.contains(#""code":"badJSON""#) == true)
                    try await outbound.write(.binary(ByteBuffer(bytes: [1, 2, 3])))
                    #expect(try await nextText()?.contains(#""code":"unknownType""#) == true)

                    // Scaled: the header and the JPEG agree on the new size; the overlay is still drawn.
                    try await outbound.write(.text(#"{"type":"options","maxWidth":640}"#))
                    ready.fire()
                    let scaled = try await frame { header, _ in header.width <= 640 }
                    let (small, smallJPEG) = try #require(scaled)
                    let decoded = try JPEGDecoder().decode(smallJPEG)
                    #expect(small.width == 640 && small.height == 360 && small.overlay)
                    #expect(decoded.width == small.width && decoded.height == small.height)

                    // Overlay off at full size: exactly the device's bytes (the evidence), annotations as data.
                    try await outbound.write(.text(#"{"type":"options","overlay":false,"maxWidth":4096}"#))
                    let original = try await frame { header, _ in !header.overlay }
                    let (plain, plainJPEG) = try #require(original)
                    #expect(plainJPEG == image)
                    #expect(plain.width == 1280 && plain.height == 720)
                    #expect(plain.annotations.contains { $0.kind == "hud" })
                    // And it stays that way.
                    let later = try #require(try await frame { _, _ in true })
                    #expect(!later.0.overlay && later.1 == image && later.0.seq > plain.seq)
                    try await outbound.close(.normalClosure, reason: nil)
                }
                try await group.waitForAll()
            }
        }
    }

    @Test("options in the URL hold from the very first frame; bad ones refuse the upgrade with 400")
    func urlOptions() async throws {
        let fixture = try ServerFixture()
        defer { fixture.cleanUp() }
        let app = try buildApplication(configuration: fixture.configuration, logger: fixture.logger)
        let image = try SampleFrames.bytes("frames", "pen-day-720p.jpg")
        try await app.test(.live) { client in
            var headers = HTTPFields()
            headers[.authorization] = "Bearer \(fixture.inspector)"
            for bad in ["maxWidth=0", "maxWidth=wide", "overlay=no", "maxWidth=99999"] {
                let status = try await client.execute(uri: "/api/v1/live?stream=\(fixture.stream)&\(bad)", method: .get, headers: headers) { $0.status }
                #expect(status == .badRequest, "\(bad)")
            }
            let ready = LiveStreamingTests.Signal(), done = LiveStreamingTests.Signal()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await ready.wait()
                    // The viewer's client may be told of the upgrade a moment before the server has
                    // subscribed it, so frames keep coming until it has one (bounded for a broken server).
                    try await client.ws("/api/v1/ingest", configuration: LiveStreamingTests.wsConfiguration(token: fixture.device)) { inbound, outbound, _ in
                        var replies = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                        for seq in UInt64(1)...300 where !done.isFired {
                            try await outbound.write(.binary(ByteBuffer(bytes: Envelope.encode(header: try fixture.header(seq: seq), payload: image))))
                            _ = try await replies.next()
                            try await Task.sleep(for: .milliseconds(20))
                        }
                    }
                }
                try await client.ws(
                    "/api/v1/live?stream=\(fixture.stream)&maxWidth=320&overlay=false", configuration: LiveStreamingTests.wsConfiguration(token: fixture.inspector)
                ) { inbound, outbound, _ in
                    defer { done.fire() }
                    ready.fire()
                    var frames = 0
                    for try await message in inbound.messages(maxSize: 16 << 20) {
                        guard case .binary(var buffer) = message else { continue }
                        let (json, payload) = try Envelope.split(buffer.readBytes(length: buffer.readableBytes)!)
                        let header = try WireJSON.decode(LiveFrameHeader.self, from: json)
                        let decoded = try JPEGDecoder().decode(Array(payload))
                        // The very first frame this viewer gets already has the URL's options.
                        #expect(header.width == 320 && header.height == 180 && !header.overlay)
                        #expect(decoded.width == 320 && decoded.height == 180)
                        frames += 1
                        break
                    }
                    #expect(frames == 1)
                    try await outbound.close(.normalClosure, reason: nil)
                }
                try await group.waitForAll()
            }
        }
    }
}
