import Foundation
import HTTPTypes
import HerdProtocol
import HerdServer
import HerdTesting
import Hummingbird
import HummingbirdTesting
import HummingbirdWSTesting
import NIOCore
import Testing
import WSClient

@Suite("Analysis over real sockets: configuration, alerts, acknowledgement, the recording", .timeLimit(.minutes(3)))
struct AnalysisTests {
    typealias Signal = LiveStreamingTests.Signal

    func put(_ client: some TestClientProtocol, _ uri: String, token: String, _ body: String) async throws -> (HTTPResponse.Status, String) {
        var headers = HTTPFields()
        headers[.authorization] = "Bearer \(token)"
        headers[.contentType] = "application/json"
        return try await client.execute(uri: uri, method: .put, headers: headers, body: ByteBuffer(string: body)) { ($0.status, String(buffer: $0.body)) }
    }

    @Test("PUT config is validated (admins only, unknown fields and bad thresholds refused by name); it applies to the running stream; an alert reaches the inspector, who acknowledges it; all of it is in the session's recording")
    func configAlertsAck() async throws {
        let fixture = try ServerFixture.unthrottled()
        defer { fixture.cleanUp() }
        let app = try buildApplication(configuration: fixture.configuration, logger: fixture.logger)
        let config = "/api/v1/streams/\(fixture.stream)/config"
        try await app.test(.live) { client in
            #expect(try await put(client, config, token: fixture.inspector, "{}").0 == .forbidden)
            let unknown = try await put(client, config, token: fixture.admin, #"{"rules":{"maxTemperatureF":90}}"#)
            #expect(unknown.0 == .badRequest && unknown.1.contains("invalidConfig") && unknown.1.contains("rules.maxTemperatureF"), "\(unknown)")
            let disorder = try await put(client, config, token: fixture.admin, #"{"rules":{"thiAlert":90}}"#)
            #expect(disorder.0 == .badRequest && disorder.1.contains("thiAlert"), "\(disorder)")
            let badJSON = try await put(client, config, token: fixture.admin, #"{"lines":[{"id":"a","id":"b"}]}"#)
            #expect(badJSON.0 == .badRequest && badJSON.1.contains("badJSON"), "\(badJSON)")
            // Every frame of the fixture reads 21.5 °C: with this limit each one is too hot.
            let body = #"{"rules":{"minTemperatureC":-50,"maxTemperatureC":-40},"lines":[{"id":"ramp","from":[640,720],"to":[640,0]}]}"#
            let stored = try await put(client, config, token: fixture.admin, body)
            #expect(stored.0 == .ok && stored.1.contains(#""revision":1"#) && stored.1.contains("herdlens-analysis/3"), "\(stored)")
            var read = HTTPFields()
            read[.authorization] = "Bearer \(fixture.inspector)"
            let got = try await client.execute(uri: config, method: .get, headers: read) { ($0.status, String(buffer: $0.body)) }
            #expect(got.0 == .ok && got.1.contains(#""maxTemperatureC":-40"#) && got.1.contains(#""id":"ramp""#), "\(got)")

            let viewerReady = Signal(), acknowledged = Signal()
            let session = Shared("")
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await client.ws("/api/v1/live?stream=\(fixture.stream)", configuration: LiveStreamingTests.wsConfiguration(token: fixture.inspector)) { inbound, outbound, _ in
                        viewerReady.fire()
                        var alertID: String?, sawLine = false, sawAck = false, sawNotFound = false
                        for try await message in inbound.messages(maxSize: 16 << 20) {
                            switch message {
                            case .text(let text):
                                let json = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
                                let detail = json["detail"] as? [String: Any]
                                if json["event"] as? String == "alert", detail?["rule"] as? String == "temperature.high", alertID == nil {
                                    alertID = detail?["id"] as? String
                                    #expect((detail?["values"] as? [String: String])?["temperatureC"] == "21.5", "\(text)")
                                    #expect((detail?["message"] as? [String: String])?["zh-Hant"]?.contains("車廂溫度") == true, "\(text)")
                                    try await outbound.write(.text(#"{"type":"alert.ack","id":"al-nosuch"}"#))
                                    try await outbound.write(.text(#"{"type":"alert.ack","id":"\#(alertID ?? "")"}"#))
                                } else if json["type"] as? String == "error", json["code"] as? String == "notFound" {
                                    sawNotFound = true
                                } else if json["event"] as? String == "alert.acknowledged", detail?["id"] as? String == alertID {
                                    let by = (detail?["acknowledged"] as? [String: Any])?["by"] as? String
                                    #expect(by?.hasPrefix("inspector (tok_") == true, "\(text)")
                                    sawAck = true
                                }
                            case .binary(let buffer):
                                let (json, _) = try Envelope.split(Array(buffer.readableBytesView))
                                let header = try WireJSON.decode(LiveFrameHeader.self, from: json)
                                if header.annotations.contains(where: { if case .polyline(let l) = $0 { l.label?.hasPrefix("ramp: in 0") == true } else { false } }) { sawLine = true }
                            }
                            if sawAck && sawLine && sawNotFound { break }
                        }
                        #expect(sawAck && sawLine && sawNotFound, "ack \(sawAck) line \(sawLine) notFound \(sawNotFound)")
                        acknowledged.fire()
                        try await outbound.close(.normalClosure, reason: nil)
                    }
                }
                group.addTask {
                    try await viewerReady.wait()
                    try await ServerFixture.waitForGauges(client, ["herd_viewers": 1])
                    try await client.ws("/api/v1/ingest", configuration: LiveStreamingTests.wsConfiguration(token: fixture.device)) { inbound, outbound, _ in
                        var replies = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                        try await outbound.write(.text(#"{"type":"session","stream":"\#(fixture.stream)","action":"start","consignment":{"id":"HK-2026-0900","declaredHeadCount":98}}"#))
                        guard case .text(let opened)? = try await replies.next() else { Issue.record("no session reply"); return }
                        session.set(try #require(try WireJSON.decode(SessionReply.self, from: Array(opened.utf8)).session))
                        let image = try SampleFrames.bytes("frames", "pen-amp0-720p.jpg")
                        var seq: UInt64 = 0
                        // Frames until the inspector has acknowledged (bounded by the signal's deadline below).
                        while !acknowledged.isFired && seq < 300 {
                            seq += 1
                            // Loading: the seal still open, so the count is reconciled only at the session's end.
                            var header = try fixture.header(seq: seq)
                            header.sensors?.seal = .init(id: "EL-1", state: .open)
                            try await outbound.write(.binary(ByteBuffer(bytes: Envelope.encode(header: header, payload: image))))
                            guard case .text(let ack)? = try await replies.next() else { Issue.record("no ack"); return }
                            #expect(ack.contains(#""type":"ack""#), "\(ack)")
                        }
                        try await acknowledged.wait(timeout: .seconds(60))
                        try await outbound.write(.text(#"{"type":"session","stream":"\#(fixture.stream)","action":"end"}"#))
                        _ = try await replies.next()
                    }
                }
                // Waits end: the whole exchange within 90 s, or the test fails (and the sockets close).
                group.addTask {
                    try await Task.sleep(for: .seconds(90))
                    throw Signal.TimedOut()
                }
                try await group.next()
                try await group.next()
                group.cancelAll()
            }
            // The session's recording holds the configuration, the alert, its acknowledgement and the
            // count mismatch found at the end (0 counted, 98 declared; the seal never locked, so only the end reconciles), as the bundle an auditor takes away.
            var auth = HTTPFields()
            auth[.authorization] = "Bearer \(fixture.auditor)"
            let zip = try await client.execute(uri: "/api/v1/sessions/\(session.get)/export?format=bundle", method: .get, headers: auth) { String(decoding: Array($0.body.readableBytesView), as: UTF8.self) }
            for needle in [#""event":"analysis.config""#, "configSHA256", #""event":"alert.raised""#, #""event":"alert.acknowledged""#, #"count.mismatch"#, #"\"difference\":\"-98\""#] {
                let found = zip.contains(needle)  // (not inside #expect: it would print the whole bundle)
                #expect(found, "\(needle) not in the session's bundle")
            }
            // The alert list answers what is raised now.
            let alerts = try await client.execute(uri: "/api/v1/streams/\(fixture.stream)/alerts", method: .get, headers: read) { String(buffer: $0.body) }
            #expect(alerts.contains("temperature.high") && alerts.contains(#""ramp":0"#), "\(alerts)")
        }
    }

    @Test("a pipeline made again mid-loading (released while idle, or after a restart) rebuilds count, consignment and seal state from the recording before its first frame")
    func restoreMidLoading() async throws {
        let fixture = try ServerFixture.unthrottled { $0.pipelineIdleSeconds = 1 }
        defer { fixture.cleanUp() }
        let app = try buildApplication(configuration: fixture.configuration, logger: fixture.logger)
        let image = try SampleFrames.bytes("frames", "pen-day-720p.jpg")
        // The device's own boxes (detector "device"): one pig walking left to right over the line.
        @Sendable func frame(_ seq: UInt64, x: Double, seal: Sensors.Seal.State) throws -> ByteBuffer {
            var header = try fixture.header(seq: seq)
            header.sensors?.seal = .init(id: "EL-1", state: seal)
            header.detections = [BoxAnnotation(rect: PixelRect(x: x, y: 300, width: 100, height: 100), objectClass: "pig", confidence: 0.9)]
            return ByteBuffer(bytes: Envelope.encode(header: header, payload: image))
        }
        try await app.test(.live) { client in
            let configured = try await put(
                client, "/api/v1/streams/\(fixture.stream)/config", token: fixture.admin, #"{"detector":"device","lines":[{"id":"ramp","from":[640,720],"to":[640,0]}]}"#)
            #expect(configured.0 == .ok, "\(configured)")
            let read: HTTPFields = [.authorization: "Bearer \(fixture.admin)"]
            @Sendable func alerts() async throws -> String {
                try await client.execute(uri: "/api/v1/streams/\(fixture.stream)/alerts", method: .get, headers: read) { String(buffer: $0.body) }
            }
            func send(_ frames: [ByteBuffer], session: String?, whileConnected: @escaping @Sendable () async throws -> Void = {}) async throws {
                try await client.ws("/api/v1/ingest", configuration: LiveStreamingTests.wsConfiguration(token: fixture.device)) { inbound, outbound, _ in
                    var replies = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                    if let session {
                        try await outbound.write(.text(session))
                        _ = try await replies.next()
                    }
                    for frame in frames {
                        try await outbound.write(.binary(frame))
                        guard case .text(let ack)? = try await replies.next() else { Issue.record("no ack"); return }
                        #expect(ack.contains(#""type":"ack""#), "\(ack)")
                    }
                    try await whileConnected()  // (a device online keeps its pipeline)
                    try await outbound.close(.normalClosure, reason: nil)
                }
            }
            // Loading: the pig crosses near seq 11; the e-lock locks at seq 20 (the seal event: 1 counted, 3 declared).
            let first = Shared("")
            try await send(
                try (1...24).map { try frame(UInt64($0), x: 300 + 30 * Double($0 - 1), seal: $0 < 20 ? .open : .locked) },
                session: #"{"type":"session","stream":"\#(fixture.stream)","action":"start","consignment":{"id":"HK-2026-0901","declaredHeadCount":3}}"#
            ) { first.set(try await alerts()) }
            let before = first.get
            let net = before.contains(#""ramp":1"#) ? 1 : before.contains(#""ramp":-1"#) ? -1 : 0
            #expect(net != 0 && before.contains("count.mismatch"), "\(before)")
            // No device online, idle for a second: the pipeline is released, and its state with it.
            let deadline = ContinuousClock.now + .seconds(60)
            while try await alerts().contains(#""ramp":"#) {
                guard ContinuousClock.now < deadline else { Issue.record("the idle pipeline was never released"); return }
                try await Task.sleep(for: .milliseconds(100))
            }
            // The device comes back without a session message. Its first frame is analysed with the count
            // rebuilt from the recorded crossing, the consignment's declared head count (the mismatch is
            // raised again) and the seal locked (open now is an alert; during the loading it was not).
            let after = Shared("")
            try await send([try frame(25, x: 1100, seal: .open)], session: nil) { after.set(try await alerts()) }
            #expect(after.get.contains(#""ramp":\#(net)"#), "\(after.get)")
            #expect(after.get.contains("seal.open") && after.get.contains("count.mismatch") && after.get.contains(#""declared":"3""#), "\(after.get)")
        }
    }
}
