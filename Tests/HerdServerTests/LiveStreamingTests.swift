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
import Synchronization
import Testing
import WSClient

/// Device and inspector over real WebSockets on a live server.
@Suite("Live streaming over WebSockets", .timeLimit(.minutes(3)))
struct LiveStreamingTests {
    static func wsConfiguration(token: String) -> WebSocketClientConfiguration {
        var headers = HTTPFields()
        headers[.authorization] = "Bearer \(token)"
        return WebSocketClientConfiguration(maxFrameSize: 16 << 20, additionalHeaders: headers)
    }

    /// A one-shot signal between the device and viewer tasks; any number of tasks may wait on it, each
    /// for at most `timeout` (a task that would fire it may have failed): then the wait throws.
    final class Signal: Sendable {
        private struct State {
            var fired = false
            var nextID = 0
            var waiters: [Int: CheckedContinuation<Void, any Error>] = [:]
        }

        struct TimedOut: Error {}

        private let state = Mutex(State())

        var hasFired: Bool { state.withLock { $0.fired } }

        func fire() {
            let waiters = state.withLock { state -> [CheckedContinuation<Void, any Error>] in
                state.fired = true
                defer { state.waiters = [:] }
                return Array(state.waiters.values)
            }
            for waiter in waiters { waiter.resume() }
        }

        var isFired: Bool { state.withLock { $0.fired } }

        func wait(timeout: Duration = .seconds(60)) async throws {
            let id = state.withLock { state -> Int in
                state.nextID += 1
                return state.nextID
            }
            let timer = Task {
                try await Task.sleep(for: timeout)
                self.state.withLock { $0.waiters.removeValue(forKey: id) }?.resume(throwing: TimedOut())
            }
            defer { timer.cancel() }
            try await withCheckedThrowingContinuation { continuation in
                let fired = state.withLock { state -> Bool in
                    if !state.fired { state.waiters[id] = continuation }
                    return state.fired
                }
                if fired { continuation.resume() }
            }
        }
    }

    func frameMessage(_ fixture: ServerFixture, seq: UInt64, image: [UInt8]) throws -> ByteBuffer {
        ByteBuffer(bytes: Envelope.encode(header: try fixture.header(seq: seq), payload: image))
    }

    @Test("a device publishes SampleFrames; an inspector receives annotated frames in order; acks, duplicates and errors per message")
    func publishAndWatch() async throws {
        let fixture = try ServerFixture()
        defer { fixture.cleanUp() }
        let app = try buildApplication(configuration: fixture.configuration, logger: fixture.logger)
        let images = try ["pen-day-720p.jpg", "pen-night-720p.jpg", "pen-amp0-720p.jpg", "pen-amp1-720p.jpg"].map { try SampleFrames.bytes("frames", $0) }
        let online = Signal(), viewerReady = Signal()
        try await app.test(.live) { client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await client.ws("/api/v1/ingest", configuration: Self.wsConfiguration(token: fixture.device)) { inbound, outbound, _ in
                        var replies = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                        func reply() async throws -> String {
                            guard case .text(let text)? = try await replies.next() else { return "" }
                            return text
                        }
                        try await outbound.write(.binary(try frameMessage(fixture, seq: 1, image: images[0])))
                        #expect(try await reply() == WireJSON.encodeString(AckMessage(stream: fixture.stream, seq: 1)))
                        online.fire()
                        try await viewerReady.wait()
                        for seq in 2...4 {
                            try await outbound.write(.binary(try frameMessage(fixture, seq: UInt64(seq), image: images[seq - 1])))
                            #expect(try await reply() == WireJSON.encodeString(AckMessage(stream: fixture.stream, seq: UInt64(seq))))
                        }
                        // A re-sent seq is acknowledged as a duplicate, not processed again.
                        try await outbound.write(.binary(try frameMessage(fixture, seq: 3, image: images[2])))
                        #expect(try await reply() == WireJSON.encodeString(AckMessage(stream: fixture.stream, seq: 3, duplicate: true)))
                        // Every malformed payload gets its documented error; the socket carries on.
                        for name in SampleFrames.malformedNames {
                            let expected = String(name.split(separator: "-", maxSplits: 1)[0])
                            try await outbound.write(.binary(try frameMessage(fixture, seq: 100, image: try SampleFrames.bytes("malformed", name))))
                            let error = try WireJSON.decode(ErrorReply.self, from: Array(try await reply().utf8))
                            #expect(error.code == expected && error.seq == 100, "\(name): \(error)")
                        }
                        try await outbound.write(.binary(ByteBuffer(bytes: [0, 0])))
                        #expect(try await reply().contains("badEnvelope"))
                        try await outbound.write(.text(#"{"type":"hello"}"#))
                        #expect(try await reply().contains("unknownType"))
                        try await outbound.write(.binary(try frameMessage(fixture, seq: 5, image: images[0])))
                        #expect(try await reply() == WireJSON.encodeString(AckMessage(stream: fixture.stream, seq: 5)))
                    }
                }
                group.addTask {
                    try await online.wait()
                    try await client.ws("/api/v1/live?stream=\(fixture.stream)", configuration: Self.wsConfiguration(token: fixture.inspector)) { inbound, _, _ in
                        var frames: [LiveFrameHeader] = []
                        var sawOnline = false
                        for try await message in inbound.messages(maxSize: 16 << 20) {
                            switch message {
                            case .text(let text):
                                if text.contains("stream.online") && !sawOnline {
                                    sawOnline = true
                                    viewerReady.fire()
                                }
                            case .binary(var buffer):
                                let bytes = buffer.readBytes(length: buffer.readableBytes)!
                                let (json, payload) = try Envelope.split(bytes)
                                let header = try WireJSON.decode(LiveFrameHeader.self, from: json)
                                let image = try JPEGDecoder().decode(Array(payload))
                                #expect(image.width == header.width && header.width == 1280 && header.overlay)
                                #expect(header.annotations.contains { $0.kind == "hud" })
                                frames.append(header)
                            }
                            if frames.last?.seq == 5 { break }
                        }
                        let seqs = frames.map(\.seq)
                        #expect(sawOnline)
                        #expect(seqs == seqs.sorted() && Set(seqs).count == seqs.count, "frames arrive in order, once: \(seqs)")
                        #expect(seqs.last == 5 && seqs.contains(2))
                    }
                }
                try await group.waitForAll()
            }
            // The metrics saw it all.
            let metrics = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            #expect(metrics.contains(#"herd_frames_in_total{stream="farm-jx-017.cam-1"} 5"#), "\(metrics)")
            #expect(metrics.contains(#"herd_frames_dropped_total{reason="duplicate"} 1"#))
            #expect(metrics.contains(#"herd_frames_dropped_total{reason="rejected"}"#))
            #expect(metrics.contains(#"herd_stage_seconds_count{stage="compose"} 5"#))
            #expect(metrics.contains("herd_delivery_latency_seconds_count"))
            // Frames out are counted per stream; the viewer got at least seq 2 and 5, at most all five.
            let out = metrics.split(separator: "\n").first { $0.hasPrefix(#"herd_frames_out_total{stream="farm-jx-017.cam-1"} "#) }
            let count = out.flatMap { $0.split(separator: " ").last }.flatMap { Int($0) }
            #expect(count.map { (2...5).contains($0) } == true, "\(String(describing: out))")
        }
    }

    @Test("a device that keeps sending refused messages is disconnected with 1008; fewer are answered and kept")
    func floodDisconnect() async throws {
        var setup = try ServerFixture()
        setup.configuration.floodDisconnectAfter = 5
        let fixture = setup
        defer { fixture.cleanUp() }
        let app = try buildApplication(configuration: fixture.configuration, logger: fixture.logger)
        try await app.test(.live) { client in
            let close = try await client.ws("/api/v1/ingest", configuration: Self.wsConfiguration(token: fixture.device)) { inbound, outbound, _ in
                var replies = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                for _ in 0..<4 { try await outbound.write(.binary(ByteBuffer(bytes: [0, 0]))) }
                for _ in 0..<4 { #expect(try await replies.next().map { "\($0)" }?.contains("badEnvelope") == true) }
                // A good frame resets the count: the socket stays open.
                try await outbound.write(.binary(try frameMessage(fixture, seq: 1, image: try SampleFrames.bytes("variants", "jpeg-420-baseline.jpg"))))
                #expect(try await replies.next().map { "\($0)" }?.contains(#""type":"ack""#) == true)
                for _ in 0..<5 { try await outbound.write(.binary(ByteBuffer(bytes: [0, 0]))) }
                while try await replies.next() != nil {}
            }
            #expect(close?.closeCode == .policyViolation)
        }
    }

    @Test("a server shutdown closes device and viewer sockets with 1001")
    func shutdownGoingAway() async throws {
        let fixture = try ServerFixture()
        defer { fixture.cleanUp() }
        let signal = ShutdownSignal()
        let app = try buildApplication(configuration: fixture.configuration, logger: fixture.logger, shutdown: signal)
        try await app.test(.live) { client in
            async let deviceClose = client.ws("/api/v1/ingest", configuration: Self.wsConfiguration(token: fixture.device)) { inbound, _, _ in
                for try await _ in inbound.messages(maxSize: 1 << 20) {}
            }
            async let viewerClose = client.ws("/api/v1/live?stream=\(fixture.stream)", configuration: Self.wsConfiguration(token: fixture.inspector)) { inbound, _, _ in
                for try await _ in inbound.messages(maxSize: 1 << 20) {}
            }
            try await ServerFixture.waitForGauges(client, ["herd_viewers": 1, "herd_devices": 1])
            signal.trigger()
            let (device, viewer) = try await (deviceClose, viewerClose)
            #expect(device?.closeCode == .goingAway, "device: \(String(describing: device))")
            #expect(viewer?.closeCode == .goingAway, "viewer: \(String(describing: viewer))")
        }
    }

    @Test("WebSocket routes refuse missing tokens (401), wrong roles and streams (403)")
    func webSocketAuth() async throws {
        let fixture = try ServerFixture()
        defer { fixture.cleanUp() }
        let app = try buildApplication(configuration: fixture.configuration, logger: fixture.logger)
        @Sendable func upgradeStatus(_ client: some TestClientProtocol, _ path: String, token: String?) async throws -> HTTPResponse.Status {
            // A plain GET to the upgrade route runs the same authentication and authorization.
            var headers = HTTPFields()
            if let token { headers[.authorization] = "Bearer \(token)" }
            return try await client.execute(uri: path, method: .get, headers: headers) { $0.status }
        }
        try await app.test(.live) { client in
            let live = "/api/v1/live?stream=\(fixture.stream)"
            #expect(try await upgradeStatus(client, "/api/v1/ingest", token: nil) == .unauthorized)
            #expect(try await upgradeStatus(client, live, token: nil) == .unauthorized)
            #expect(try await upgradeStatus(client, live, token: "hl_bogus") == .unauthorized)
            #expect(try await upgradeStatus(client, "/api/v1/ingest", token: fixture.inspector) == .forbidden)
            #expect(try await upgradeStatus(client, "/api/v1/ingest", token: fixture.auditor) == .forbidden)
            #expect(try await upgradeStatus(client, live, token: fixture.device) == .forbidden)
            #expect(try await upgradeStatus(client, live, token: fixture.auditor) == .forbidden)
            #expect(try await upgradeStatus(client, live, token: fixture.narrowInspector) == .forbidden)
            #expect(try await upgradeStatus(client, "/api/v1/live?stream=a/b", token: fixture.inspector) == .badRequest)
            // A real WebSocket client is refused the upgrade too.
            await #expect(throws: WebSocketClientError.webSocketUpgradeFailed) {
                try await client.ws(live, configuration: Self.wsConfiguration(token: fixture.device)) { _, _, _ in }
            }
            // The right tokens upgrade.
            try await client.ws(live, configuration: Self.wsConfiguration(token: fixture.inspector)) { _, outbound, _ in
                try await outbound.close(.normalClosure, reason: nil)
            }
            try await client.ws("/api/v1/ingest", configuration: Self.wsConfiguration(token: fixture.device)) { _, outbound, _ in
                try await outbound.close(.normalClosure, reason: nil)
            }
            // Admin tokens may do both.
            for path in [live, "/api/v1/ingest"] {
                try await client.ws(path, configuration: Self.wsConfiguration(token: fixture.admin)) { _, outbound, _ in
                    try await outbound.close(.normalClosure, reason: nil)
                }
            }
        }
    }
}

@Suite("Slow viewers", .timeLimit(.minutes(3)))
struct SlowViewerTests {
    final class Collected: Sendable {
        let seqs = Mutex<[UInt64]>([])
    }

    @Test("a viewer that never reads does not stop a fast viewer from getting the newest frames")
    func slowViewerIsolation() async throws {
        let fixture = try ServerFixture.unthrottled()
        defer { fixture.cleanUp() }
        let app = try buildApplication(configuration: fixture.configuration, logger: fixture.logger)
        let image = try SampleFrames.bytes("frames", "pen-day-1080p.jpg")  // ~440 KB a frame
        let total: UInt64 = 60
        let online = LiveStreamingTests.Signal(), slowReady = LiveStreamingTests.Signal(), fastReady = LiveStreamingTests.Signal()
        let live = "/api/v1/live?stream=\(fixture.stream)"
        try await app.test(.live) { client in
            try await withThrowingTaskGroup(of: [UInt64].self) { group in
                group.addTask {
                    try await client.ws("/api/v1/ingest", configuration: LiveStreamingTests.wsConfiguration(token: fixture.device)) { inbound, outbound, _ in
                        var replies = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                        try await outbound.write(.binary(ByteBuffer(bytes: Envelope.encode(header: try fixture.header(seq: 1), payload: image))))
                        _ = try await replies.next()
                        online.fire()
                        try await slowReady.wait()
                        try await fastReady.wait()
                        for seq in 2...total {
                            try await outbound.write(.binary(ByteBuffer(bytes: Envelope.encode(header: try fixture.header(seq: seq), payload: image))))
                            guard case .text(let text)? = try await replies.next() else { break }
                            #expect(text.contains(#""type":"ack""#))
                        }
                    }
                    return []
                }
                group.addTask {
                    try await online.wait()
                    // Connects, then never reads a byte: its socket buffers fill and its writer stalls.
                    try await client.ws(live, configuration: LiveStreamingTests.wsConfiguration(token: fixture.inspector)) { _, _, _ in
                        slowReady.fire()
                        try await Task.sleep(for: .seconds(8))
                    }
                    return []
                }
                group.addTask {
                    try await online.wait()
                    let collected = Collected()
                    try await client.ws(live, configuration: LiveStreamingTests.wsConfiguration(token: fixture.inspector)) { inbound, _, _ in
                        for try await message in inbound.messages(maxSize: 16 << 20) {
                            switch message {
                            case .text(let text) where text.contains("stream.online"): fastReady.fire()
                            case .binary(var buffer):
                                let (json, _) = try Envelope.split(buffer.readBytes(length: buffer.readableBytes)!)
                                let seq = try WireJSON.decode(LiveFrameHeader.self, from: json).seq
                                collected.seqs.withLock { $0.append(seq) }
                                if seq == total { return }
                            default: break
                            }
                        }
                    }
                    return collected.seqs.withLock { $0 }
                }
                var fastSeqs: [UInt64] = []
                for try await seqs in group where !seqs.isEmpty { fastSeqs = seqs }
                // The fast viewer got the final frame and never went backwards, whatever the slow one did.
                #expect(fastSeqs.last == total)
                #expect(fastSeqs == fastSeqs.sorted())
            }
        }
    }
}

@Suite("Stalled viewers", .timeLimit(.minutes(3)))
struct StalledViewerTests {
    final class Gauge: Sendable {
        let value = Mutex<Double?>(nil)
    }

    @Test("a viewer that takes nothing for the write timeout is closed; the device and stream carry on")
    func stalledViewerIsClosed() async throws {
        let fixture = try ServerFixture.unthrottled { $0.viewerWriteTimeoutSeconds = 1 }
        defer { fixture.cleanUp() }
        let app = try buildApplication(configuration: fixture.configuration, logger: fixture.logger)
        let image = try SampleFrames.bytes("frames", "pen-day-1080p.jpg")  // ~440 KB a frame
        let released = LiveStreamingTests.Signal()
        try await app.test(.live) { client in
            @Sendable func viewers() async throws -> Double? {
                let text = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
                return text.split(separator: "\n").first { $0.hasPrefix("herd_viewers ") }.flatMap { Double($0.dropFirst(13)) }
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    // Connects, then never reads until the test is over.
                    try await client.ws("/api/v1/live?stream=\(fixture.stream)", configuration: LiveStreamingTests.wsConfiguration(token: fixture.inspector)) { _, _, _ in
                        try await released.wait()
                    }
                }
                while try await viewers() != 1 { try await Task.sleep(for: .milliseconds(20)) }
                let gauge = Gauge()
                try await client.ws("/api/v1/ingest", configuration: LiveStreamingTests.wsConfiguration(token: fixture.device)) { inbound, outbound, _ in
                    var replies = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                    // Frames keep coming until the socket buffers are full and the writer has stalled for
                    // the timeout; the bound only stops a broken server from looping forever.
                    for seq in UInt64(1)...400 {
                        try await outbound.write(.binary(ByteBuffer(bytes: Envelope.encode(header: try fixture.header(seq: seq), payload: image))))
                        guard case .text(let text)? = try await replies.next() else { Issue.record("device socket closed"); return }
                        #expect(text.contains(#""type":"ack""#), "\(text)")
                        if seq % 5 == 0 {
                            let value = try await viewers()
                            gauge.value.withLock { $0 = value }
                            if value == 0 { break }
                            try await Task.sleep(for: .milliseconds(50))
                        }
                    }
                    // The stream is still live for everyone else.
                    try await outbound.write(.binary(ByteBuffer(bytes: Envelope.encode(header: try fixture.header(seq: 1000), payload: image))))
                    guard case .text(let text)? = try await replies.next() else { Issue.record("device socket closed"); return }
                    #expect(text.contains(#""seq":1000"#))
                }
                #expect(gauge.value.withLock { $0 } == 0, "the stalled viewer was never closed")
                released.fire()
                try await group.waitForAll()
            }
        }
    }
}
