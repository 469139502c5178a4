import Foundation
import HTTPTypes
import HerdProtocol
import HerdDevice
import HerdRecording
import HerdServer
import HerdTesting
import HummingbirdTesting
import HummingbirdWSTesting
import Logging
import NIOCore
import Synchronization
import Testing
import WSClient

/// A value shared between a test and the client closures it runs.
final class Shared<T: Sendable>: Sendable {
    private let value: Mutex<T>
    init(_ value: T) { self.value = Mutex(value) }
    var get: T { value.withLock { $0 } }
    func set(_ new: T) { value.withLock { $0 = new } }
    func update(_ body: (inout T) -> Void) { value.withLock { body(&$0) } }
}

/// Evidence recording checked over real sockets and a real data directory, the way devices and
/// auditors meet it.
@Suite("Recording over real sockets", .timeLimit(.minutes(3)))
struct RecordingTests {
    func frame(_ fixture: ServerFixture, seq: UInt64, _ image: [UInt8], capturedAt: Timestamp = .now()) throws -> (WebSocketOutboundWriter.OutboundFrame, [UInt8]) {
        var header = try fixture.header(seq: seq)
        header.capturedAt = capturedAt
        let json = WireJSON.encode(header)
        return (.binary(ByteBuffer(bytes: Envelope.encode(headerJSON: json, payload: image))), json)
    }

    func get(_ client: some TestClientProtocol, _ uri: String, token: String) async throws -> (HTTPResponse.Status, String) {
        var headers = HTTPFields()
        headers[.authorization] = "Bearer \(token)"
        return try await client.execute(uri: uri, method: .get, headers: headers) { ($0.status, String(buffer: $0.body)) }
    }

    static let images = ["pen-day-720p.jpg", "pen-night-720p.jpg", "pen-amp0-720p.jpg"]

    @Test("a device records a consignment session: every acked seq is in the index with its exact image and header bytes; the session verifies")
    func consignmentSession() async throws {
        let fixture = try ServerFixture.unthrottled()
        defer { fixture.cleanUp() }
        let app = try buildApplication(configuration: fixture.configuration, logger: fixture.logger)
        let images = try Self.images.map { try SampleFrames.bytes("frames", $0) }
        let sentBox = Shared<[UInt64: [[UInt8]]]>([:])
        let sessionBox = Shared("")
        try await app.test(.live) { client in
            try await client.ws("/api/v1/ingest", configuration: LiveStreamingTests.wsConfiguration(token: fixture.device)) { inbound, outbound, _ in
                var replies = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                let start = #"{"type":"session","stream":"\#(fixture.stream)","action":"start","consignment":{"id":"HK-2026-0042","farm":"F-0331","vehiclePlate":"ZH-12345","declaredHeadCount":98,"healthCertificateNo":"HC-77","sealId":"EL-9","destinationCode":"HK","notes":"loading bay 2"}}"#
                try await outbound.write(.text(start))
                guard case .text(let opened)? = try await replies.next() else { Issue.record("no session reply"); return }
                let reply = try WireJSON.decode(SessionReply.self, from: Array(opened.utf8))
                let sessionID = try #require(reply.session)
                sessionBox.set(sessionID)
                #expect(reply.action == .start && reply.consignment?.destinationCode == "HK")
                // 24 frames sent without waiting: many in flight, acks come as group commits complete.
                for seq in UInt64(1)...24 {
                    let (message, header) = try frame(fixture, seq: seq, images[Int(seq) % images.count])
                    sentBox.update { $0[seq] = [images[Int(seq) % images.count], header] }
                    try await outbound.write(message)
                }
                var acked = Set<UInt64>()
                while acked.count < 24, case .text(let text)? = try await replies.next() {
                    let ack = try WireJSON.decode(AckMessage.self, from: Array(text.utf8))
                    #expect(ack.stream == fixture.stream && ack.duplicate == nil)
                    acked.insert(ack.seq)
                }
                #expect(acked == Set(1...24))
                try await outbound.write(.text(#"{"type":"session","stream":"\#(fixture.stream)","action":"end"}"#))
                guard case .text(let ended)? = try await replies.next() else { Issue.record("no end reply"); return }
                #expect(try WireJSON.decode(SessionReply.self, from: Array(ended.utf8)).session == sessionID)
            }
            let sessionID = sessionBox.get
            let (status, summaryText) = try await get(client, "/api/v1/sessions/\(sessionID)", token: fixture.auditor)
            #expect(status == .ok, "\(summaryText)")
            let summary = try JSONSerialization.jsonObject(with: Data(summaryText.utf8)) as? [String: Any]
            #expect(summary?["frames"] as? Int == 24 && summary?["endReason"] as? String == "device" && summary?["open"] as? Bool == false)
            #expect((summary?["manifest"] as? [String: Any])?["final"] as? Bool == true)
            let (_, verify) = try await get(client, "/api/v1/sessions/\(sessionID)/verify", token: fixture.auditor)
            #expect(verify.contains(#""ok":true"#), "\(verify)")
            let (_, listing) = try await get(client, "/api/v1/sessions?plate=ZH-12345", token: fixture.auditor)
            #expect(listing.contains(sessionID) && listing.contains(#""frames":24"#), "\(listing)")
            // Who may see it: a device none, an inspector of another stream not this one.
            #expect(try await get(client, "/api/v1/sessions", token: fixture.device).0 == .forbidden)
            #expect(try await get(client, "/api/v1/sessions/\(sessionID)", token: fixture.narrowInspector).0 == .notFound)
            #expect(try await get(client, "/api/v1/sessions?stream=\(fixture.stream)", token: fixture.narrowInspector).0 == .forbidden)
            let (_, narrowList) = try await get(client, "/api/v1/sessions", token: fixture.narrowInspector)
            #expect(!narrowList.contains(sessionID))
        }
        // The evidence itself, read back from the data directory.
        let sessionID = sessionBox.get, sent = sentBox.get
        #expect(sent.count == 24)
        let index = try SQLiteRecordingIndex(path: fixture.directory.path + "/recordings/index.sqlite")
        for (seq, expected) in sent {
            let row = try #require(try index.frame(stream: fixture.stream.rawValue, seq: seq))
            let path = fixture.directory.path + "/recordings/\(fixture.stream)/\(row.session)/" + SegmentFile.name(row.segment)
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            let read = data.withUnsafeBytes { Record.read($0, at: Int(row.offset), verifyHash: true) }
            guard case .record(let record, _) = read else { Issue.record("seq \(seq) unreadable"); continue }
            #expect(record.blobs[0] == expected[1], "seq \(seq): header bytes differ")
            #expect(record.blobs[1] == expected[0], "seq \(seq): image bytes differ")
            #expect(row.session == sessionID)
        }
    }

    @Test("deduplication survives a restart: the same seq and bytes is a duplicate, other bytes seqConflict")
    func dedupeAcrossRestart() async throws {
        let fixture = try ServerFixture.unthrottled()
        defer { fixture.cleanUp() }
        let day = try SampleFrames.bytes("frames", "pen-day-720p.jpg"), night = try SampleFrames.bytes("frames", "pen-night-720p.jpg")
        for round in 0..<2 {
            let app = try buildApplication(configuration: fixture.configuration, logger: fixture.logger)
            try await app.test(.live) { client in
                try await client.ws("/api/v1/ingest", configuration: LiveStreamingTests.wsConfiguration(token: fixture.device)) { inbound, outbound, _ in
                    var replies = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                    func send(_ seq: UInt64, _ image: [UInt8]) async throws -> String {
                        try await outbound.write(try frame(fixture, seq: seq, image).0)
                        guard case .text(let text)? = try await replies.next() else { return "" }
                        return text
                    }
                    if round == 0 {
                        for seq in UInt64(1)...3 { #expect(try await send(seq, day).contains(#""type":"ack""#)) }
                    } else {
                        // A session start in between does not forget either.
                        try await outbound.write(.text(#"{"type":"session","stream":"\#(fixture.stream)","action":"start","consignment":{"id":"C-2"}}"#))
                        _ = try await replies.next()
                        let again = try await send(2, day)
                        #expect(again.contains(#""duplicate":true"#), "\(again)")
                        let conflict = try WireJSON.decode(ErrorReply.self, from: Array(try await send(3, night).utf8))
                        #expect(conflict.code == "seqConflict" && conflict.seq == 3 && !conflict.retryable)
                        #expect(try await send(4, night).contains(#""type":"ack""#))
                    }
                }
            }
        }
    }

    @Test("store-and-forward: frames captured long ago are recorded by capture time and marked late; the summary tells gaps from late frames")
    func lateFrames() async throws {
        let fixture = try ServerFixture.unthrottled()
        defer { fixture.cleanUp() }
        let app = try buildApplication(configuration: fixture.configuration, logger: fixture.logger)
        let image = try SampleFrames.bytes("variants", "jpeg-420-baseline.jpg")
        try await app.test(.live) { client in
            try await client.ws("/api/v1/ingest", configuration: LiveStreamingTests.wsConfiguration(token: fixture.device)) { inbound, outbound, _ in
                var replies = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                // Live frames 10...12, then the device's buffer from an outage: 1...5 (6...9 never sent).
                for seq in UInt64(10)...12 { try await outbound.write(try frame(fixture, seq: seq, image).0) }
                let old = Date().addingTimeInterval(-600)
                for seq in UInt64(1)...5 {
                    try await outbound.write(try frame(fixture, seq: seq, image, capturedAt: Timestamp(date: old.addingTimeInterval(Double(seq)))).0)
                }
                var acked = 0
                while acked < 8, case .text(let text)? = try await replies.next() {
                    #expect(text.contains(#""type":"ack""#), "\(text)")
                    acked += 1
                }
                try await outbound.write(.text(#"{"type":"session","stream":"\#(fixture.stream)","action":"end"}"#))
                _ = try await replies.next()
            }
            let (_, listing) = try await get(client, "/api/v1/sessions?stream=\(fixture.stream)", token: fixture.admin)
            let id = try #require(listing.split(separator: "\"").first { $0.hasPrefix("s-") })
            let (_, text) = try await get(client, "/api/v1/sessions/\(id)", token: fixture.admin)
            let summary = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            #expect(summary["frames"] as? Int == 8 && summary["lateFrames"] as? Int == 5, "\(text)")
            let gaps = summary["gaps"] as? [String: Any]
            #expect(gaps?["missing"] as? Int == 4 && (gaps?["ranges"] as? [[Int]]) == [[6, 9]], "\(text)")
            // Indexed by capture time: the late frames come first.
            let index = try SQLiteRecordingIndex(path: fixture.directory.path + "/recordings/index.sqlite")
            #expect(try index.frames(session: String(id)).map(\.seq) == [1, 2, 3, 4, 5, 10, 11, 12])
        }
    }

    @Test("disk full: unheld streams get storageFull (retryable) instead of an ack, live view goes on, the held session keeps recording and nothing is corrupted")
    func storageFull() async throws {
        let fixture = try ServerFixture.unthrottled { $0.recording.maxBytes = 1_500_000; $0.recording.housekeepingSeconds = 1 }
        defer { fixture.cleanUp() }
        let app = try buildApplication(configuration: fixture.configuration, logger: fixture.logger)
        let image = try SampleFrames.bytes("frames", "pen-day-720p.jpg")
        try await app.test(.live) { client in
            var admin = HTTPFields()
            admin[.authorization] = "Bearer \(fixture.admin)"
            admin[.contentType] = "application/json"
            // The other stream's session is opened by the API and held.
            let opened = try await client.execute(
                uri: "/api/v1/sessions", method: .post, headers: admin, body: ByteBuffer(string: #"{"stream":"\#(fixture.otherStream)"}"#)
            ) { String(buffer: $0.body) }
            let held = try #require(try WireJSON.decode(SessionReply.self, from: Array(opened.utf8)).session)
            #expect(try await client.execute(uri: "/api/v1/sessions/\(held)/hold", method: .put, headers: admin) { $0.status } == .noContent)
            #expect(try await client.execute(uri: "/api/v1/sessions/\(held)/hold", method: .put, headers: [.authorization: "Bearer \(fixture.auditor)"]) { $0.status } == .forbidden)
            let refusal = Shared<ErrorReply?>(nil)
            let viewerSaw = LiveStreamingTests.Signal()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await client.ws("/api/v1/live?stream=\(fixture.stream)", configuration: LiveStreamingTests.wsConfiguration(token: fixture.inspector)) { inbound, _, _ in
                        var seen = 0
                        for try await message in inbound.messages(maxSize: 16 << 20) {
                            if case .binary = message { seen += 1 }
                            if seen >= 3, refusal.get != nil { viewerSaw.fire(); return }
                        }
                    }
                }
                try await client.ws("/api/v1/ingest", configuration: LiveStreamingTests.wsConfiguration(token: fixture.device)) { inbound, outbound, _ in
                    var replies = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                    for seq in UInt64(1)...400 where !viewerSaw.isFired {
                        try await outbound.write(try frame(fixture, seq: seq, image).0)
                        guard case .text(let text)? = try await replies.next() else { break }
                        if text.contains(#""type":"error""#) {
                            let reply = try WireJSON.decode(ErrorReply.self, from: Array(text.utf8))
                            #expect(reply.code == "storageFull" && reply.retryable && reply.seq == seq, "\(text)")
                            refusal.set(reply)
                        }
                        if refusal.get == nil { try await Task.sleep(for: .milliseconds(5)) }
                    }
                }
                try await viewerSaw.wait(timeout: .seconds(60))
                group.cancelAll()
            }
            #expect(refusal.get != nil)
            // The held stream still records.
            try await client.ws("/api/v1/ingest", configuration: LiveStreamingTests.wsConfiguration(token: fixture.otherDevice)) { inbound, outbound, _ in
                var replies = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                var header = try fixture.header(seq: 1, stream: fixture.otherStream)
                header.capturedAt = .now()
                try await outbound.write(.binary(ByteBuffer(bytes: Envelope.encode(header: header, payload: try SampleFrames.bytes("variants", "jpeg-420-baseline.jpg")))))
                guard case .text(let text)? = try await replies.next() else { Issue.record("no reply"); return }
                #expect(text.contains(#""type":"ack""#), "\(text)")
            }
            let ready = try await client.execute(uri: "/readyz", method: .get) { ($0.status, String(buffer: $0.body)) }
            #expect(ready.0 == .serviceUnavailable && ready.1.contains("storage"), "\(ready)")
            // Every session still verifies.
            let (_, listing) = try await get(client, "/api/v1/sessions", token: fixture.admin)
            for id in listing.split(separator: "\"").filter({ $0.hasPrefix("s-") }) {
                let (_, verify) = try await get(client, "/api/v1/sessions/\(id)/verify", token: fixture.admin)
                #expect(verify.contains(#""ok":true"#), "\(id): \(verify)")
            }
        }
    }

    @Test("a refused WebSocket upgrade, as a real client sends it, gets the contract's status and JSON body", arguments: [
        ("/api/v1/ingest", nil, 401, "unauthenticated"),
        ("/api/v1/ingest", "hl_not-a-real-token", 401, "unauthenticated"),
        ("/api/v1/ingest", "inspector", 403, "forbidden"),
        ("/api/v1/live?stream=farm-jx-017.cam-1", "device", 403, "forbidden"),
        ("/api/v1/live?stream=farm-jx-017.cam-1", "narrowInspector", 403, "forbidden"),
        ("/api/v1/live", "inspector", 400, "invalidStream"),
        ("/api/v1/live?stream=bad%20id", "inspector", 400, "invalidStream"),
        ("/api/v1/live?stream=farm-jx-017.cam-1&maxWidth=1", "inspector", 400, "invalidMessage"),
    ] as [(String, String?, Int, String)])
    func refusedUpgrade(path: String, who: String?, status: Int, code: String) async throws {
        let fixture = try ServerFixture()
        defer { fixture.cleanUp() }
        let token: String? = switch who {
        case "inspector": fixture.inspector
        case "device": fixture.device
        case "narrowInspector": fixture.narrowInspector
        default: who
        }
        let app = try buildApplication(configuration: fixture.configuration, logger: fixture.logger)
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let response = try await RawHTTP.exchange(port: port, RawHTTP.upgrade(path, token: token))
            #expect(response.status == status, "\(response)")
            #expect(response.headers["content-type"]?.hasPrefix("application/json") == true, "\(response.headers)")
            let body = try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any]
            #expect((body?["error"] as? [String: Any])?["code"] as? String == code, "\(response.body)")
            if status == 401 { #expect(response.headers["www-authenticate"]?.hasPrefix("Bearer") == true) }
        }
    }

    @Test("too many sockets: the upgrade past the limit is 429 with its JSON body over a real socket")
    func tooManySockets() async throws {
        let fixture = try ServerFixture.unthrottled { $0.maxSocketsPerToken = 1 }
        defer { fixture.cleanUp() }
        let app = try buildApplication(configuration: fixture.configuration, logger: fixture.logger)
        try await app.test(.live) { client in
            let port = try #require(client.port)
            try await client.ws("/api/v1/ingest", configuration: LiveStreamingTests.wsConfiguration(token: fixture.device)) { inbound, outbound, _ in
                try await outbound.write(.text(#"{"type":"telemetry","stream":"\#(fixture.stream)","sensors":{}}"#))
                let response = try await RawHTTP.exchange(port: port, RawHTTP.upgrade("/api/v1/ingest", token: fixture.device))
                #expect(response.status == 429 && response.body.contains(#""code":"tooManySockets""#), "\(response)")
            }
        }
    }
}

@Suite("Configuration is validated at start", .timeLimit(.minutes(1)))
struct ConfigurationValidationTests {
    @Test("zero or negative intervals, limits and windows are refused before anything starts", arguments: [
        "tokenCheckSeconds", "maxFramesInFlight", "bytesPerSecondPerDevice", "recording.commitWindowSeconds", "recording.checkpointSeconds",
        "recording.sessionIdleSeconds", "recording.retentionDays", "pipelineIdleSeconds", "tokenCheckSeconds.tiny", "requestHeadTimeoutSeconds",
    ])
    func refused(field: String) throws {
        let fixture = try ServerFixture()
        defer { fixture.cleanUp() }
        var c = fixture.configuration
        switch field {
        case "tokenCheckSeconds": c.tokenCheckSeconds = 0
        case "tokenCheckSeconds.tiny": c.tokenCheckSeconds = 0.0001  // 0 ms once a timer: a busy loop
        case "requestHeadTimeoutSeconds": c.requestHeadTimeoutSeconds = -1
        case "maxFramesInFlight": c.maxFramesInFlight = 0
        case "bytesPerSecondPerDevice": c.bytesPerSecondPerDevice = -1
        case "recording.commitWindowSeconds": c.recording.commitWindowSeconds = 0
        case "recording.checkpointSeconds": c.recording.checkpointSeconds = -5
        case "recording.sessionIdleSeconds": c.recording.sessionIdleSeconds = 0
        case "recording.retentionDays": c.recording.retentionDays = 0
        default: c.pipelineIdleSeconds = .nan
        }
        let configuration = c
        #expect(throws: ConfigurationError.self, "\(field)") { _ = try buildApplication(configuration: configuration, logger: fixture.logger) }
        // Nothing was created for a configuration that does not start.
        #expect(!FileManager.default.fileExists(atPath: fixture.directory.appendingPathComponent("recordings").path))
    }
}

@Suite("Store-and-forward with the simulated device", .timeLimit(.minutes(3)))
struct StoreAndForwardTests {
    /// Runs a simulated device until it has every frame acknowledged (it stops by itself without
    /// `loop`), or fails after a minute.
    static func play(_ configuration: DeviceSimulator.Configuration) async throws -> DeviceSimulator {
        var logger = Logger(label: "device")
        logger.logLevel = .critical
        let device = DeviceSimulator(configuration: configuration, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await device.run() }
            group.addTask {
                try await Task.sleep(for: .seconds(60))
                throw CancellationError()
            }
            try await group.next()
            group.cancelAll()
        }
        return device
    }

    @Test("a device connection leaves no shutdown handler and no live session behind when it ends")
    func nothingLeftBehind() async throws {
        let fixture = try ServerFixture.unthrottled()
        defer { fixture.cleanUp() }
        let shutdown = ShutdownSignal()
        let app = try buildApplication(configuration: fixture.configuration, logger: fixture.logger, shutdown: shutdown)
        let base = shutdown.handlerCount  // the app's own (closing the viewers' mailboxes)
        let image = try SampleFrames.bytes("variants", "jpeg-420-baseline.jpg")
        try await app.test(.live) { client in
            for round in UInt64(0)..<3 {
                try await client.ws("/api/v1/ingest", configuration: LiveStreamingTests.wsConfiguration(token: fixture.device)) { inbound, outbound, _ in
                    var replies = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                    let header = try fixture.header(seq: round + 1)
                    try await outbound.write(.binary(ByteBuffer(bytes: Envelope.encode(header: header, payload: image))))
                    guard case .text(let ack)? = try await replies.next() else { Issue.record("no ack"); return }
                    #expect(ack.contains(#""type":"ack""#))
                    #expect(shutdown.activeSessions == 1 && shutdown.handlerCount == base + 1)
                }
            }
            // The server ends each session a moment after its socket closes.
            let deadline = ContinuousClock.now + .seconds(10)
            while shutdown.activeSessions > 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            #expect(shutdown.activeSessions == 0 && shutdown.handlerCount == base)
        }
    }

    @Test("a device that opens its session on each connection keeps one session with its consignment across a reconnect, and ends it")
    func deviceSession() async throws {
        let fixture = try ServerFixture.unthrottled()
        defer { fixture.cleanUp() }
        let app = try buildApplication(configuration: fixture.configuration, logger: fixture.logger)
        let image = try SampleFrames.bytes("variants", "jpeg-420-baseline.jpg")
        try await app.test(.live) { client in
            let port = try #require(client.port)
            var configuration = DeviceSimulator.Configuration(
                server: "http://127.0.0.1:\(port)", token: fixture.device, stream: fixture.stream, framesPerSecond: 50, loop: false,
                frames: Array(repeating: image, count: 20))
            configuration.startsSession = true
            configuration.offlineAfter = 8  // a reconnect in the middle
            configuration.offlineFor = 0.2
            let device = try await Self.play(configuration)
            #expect(device.progress.connections == 2 && device.progress.acknowledged >= 20, "\(device.progress)")
            var headers = HTTPFields()
            headers[.authorization] = "Bearer \(fixture.auditor)"
            let deadline = ContinuousClock.now + .seconds(10)
            var listing = ""
            while ContinuousClock.now < deadline {
                listing = try await client.execute(uri: "/api/v1/sessions?stream=\(fixture.stream)", method: .get, headers: headers) { String(buffer: $0.body) }
                if listing.contains(#""endedAt""#) { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            let ids = listing.split(separator: "\"").filter { $0.hasPrefix("s-") }
            #expect(ids.count == 1 && listing.contains(#""frames":20"#) && listing.contains("HK-2026-11-20-0042"), "\(listing)")
            let summary = try await client.execute(uri: "/api/v1/sessions/\(ids.first ?? "")", method: .get, headers: headers) { String(buffer: $0.body) }
            #expect(summary.contains(#""endReason":"device""#), "\(summary)")
        }
    }

    @Test("a device offline for a while uploads its buffered frames with their capture times: all recorded, marked late, none refused, never closed as a flood")
    func offlineThenCatchUp() async throws {
        let fixture = try ServerFixture.unthrottled { $0.recording.lateAfterSeconds = 0.5 }
        defer { fixture.cleanUp() }
        let app = try buildApplication(configuration: fixture.configuration, logger: fixture.logger)
        let image = try SampleFrames.bytes("variants", "jpeg-420-baseline.jpg")
        try await app.test(.live) { client in
            let port = try #require(client.port)
            var configuration = DeviceSimulator.Configuration(
                server: "http://127.0.0.1:\(port)", token: fixture.device, stream: fixture.stream, framesPerSecond: 25, loop: false,
                frames: Array(repeating: image, count: 60))
            configuration.offlineAfter = 10
            configuration.offlineFor = 1.2
            let device = try await Self.play(configuration)
            let p = device.progress
            #expect(p.acknowledged >= 60 && p.errors == 0 && p.retried == 0 && p.connections == 2 && p.buffered >= 20, "\(p)")
            var headers = HTTPFields()
            headers[.authorization] = "Bearer \(fixture.auditor)"
            let listing = try await client.execute(uri: "/api/v1/sessions?stream=\(fixture.stream)", method: .get, headers: headers) { String(buffer: $0.body) }
            let id = try #require(listing.split(separator: "\"").first { $0.hasPrefix("s-") })
            let text = try await client.execute(uri: "/api/v1/sessions/\(id)", method: .get, headers: headers) { String(buffer: $0.body) }
            let summary = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            #expect(summary["frames"] as? Int == 60, "\(text)")
            #expect((summary["lateFrames"] as? Int ?? 0) >= p.buffered / 2, "\(text)")
            #expect((summary["gaps"] as? [String: Any])?["missing"] as? Int == 0, "\(text)")
        }
    }
}
