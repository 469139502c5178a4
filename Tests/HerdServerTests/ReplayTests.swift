import Crypto
import Foundation
import HTTPTypes
import HerdExport
import HerdProtocol
import HerdRecording
import HerdServer
import HerdTesting
import HummingbirdTesting
import HummingbirdWSTesting
import Logging
import NIOCore
import Testing
import WSClient

/// Replay, export and the audit log over real sockets, the way an auditor's client meets them.
@Suite("Replay, export and audit over real sockets", .timeLimit(.minutes(3)))
struct ReplayTests {
    /// Seqs recorded: 1...12 without 5 (a gap), captured 100 ms apart.
    static let seqs: [UInt64] = [1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12]

    func get(_ client: some TestClientProtocol, _ uri: String, token: String?) async throws -> (HTTPResponse.Status, ByteBuffer) {
        var headers = HTTPFields()
        if let token { headers[.authorization] = "Bearer \(token)" }
        return try await client.execute(uri: uri, method: .get, headers: headers) { ($0.status, $0.body) }
    }

    /// Records one session through the ingest socket; returns its id, the capture base and what was sent.
    func record(
        _ fixture: ServerFixture, _ client: some TestClientProtocol, seqs: [UInt64] = Self.seqs,
        images names: [String] = ["pen-day-720p.jpg", "pen-night-720p.jpg", "pen-amp0-720p.jpg"]
    ) async throws -> (String, Date, [UInt64: [UInt8]]) {
        let images = try names.map { try SampleFrames.bytes("frames", $0) }
        let base = Date().addingTimeInterval(-5)
        let session = Shared(""), sent = Shared<[UInt64: [UInt8]]>([:])
        try await client.ws("/api/v1/ingest", configuration: LiveStreamingTests.wsConfiguration(token: fixture.device)) { inbound, outbound, _ in
            var replies = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
            try await outbound.write(.text(#"{"type":"session","stream":"\#(fixture.stream)","action":"start","consignment":{"id":"HK-2026-0777","vehiclePlate":"ZH-777","declaredHeadCount":98}}"#))
            guard case .text(let opened)? = try await replies.next() else { Issue.record("no session reply"); return }
            session.set(try #require(try WireJSON.decode(SessionReply.self, from: Array(opened.utf8)).session))
            for (i, seq) in seqs.enumerated() {
                var header = try fixture.header(seq: seq)
                header.capturedAt = Timestamp(date: base.addingTimeInterval(Double(seq) * 0.1))
                let image = images[i % images.count]
                sent.update { $0[seq] = image }
                try await outbound.write(.binary(ByteBuffer(bytes: Envelope.encode(headerJSON: WireJSON.encode(header), payload: image))))
            }
            var acked = 0
            while acked < seqs.count, case .text? = try await replies.next() { acked += 1 }
            try await outbound.write(.text(#"{"type":"session","stream":"\#(fixture.stream)","action":"end"}"#))
            _ = try await replies.next()
        }
        return (session.get, base, sent.get)
    }

    /// One message from a replay socket: a text message's JSON, or a frame's header and payload.
    enum Received {
        case text([String: Any])
        case frame(LiveFrameHeader, [UInt8])
    }

    static func next(_ messages: inout WebSocketInboundMessageStream.AsyncIterator) async throws -> Received? {
        guard let message = try await messages.next() else { return nil }
        switch message {
        case .text(let text):
            return .text(try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]))
        case .binary(let buffer):
            let (header, payload) = try Envelope.split(Array(buffer.readableBytesView))
            return .frame(try WireJSON.decode(LiveFrameHeader.self, from: header), Array(payload))
        }
    }

    /// The next frame, skipping text messages (collected in `texts`).
    static func nextFrame(_ messages: inout WebSocketInboundMessageStream.AsyncIterator, texts: inout [[String: Any]]) async throws -> (LiveFrameHeader, [UInt8])? {
        while let received = try await next(&messages) {
            switch received {
            case .text(let t): texts.append(t)
            case .frame(let h, let p): return (h, p)
            }
        }
        return nil
    }

    /// The next `replay.state`, skipping frames.
    static func nextState(_ messages: inout WebSocketInboundMessageStream.AsyncIterator) async throws -> [String: Any]? {
        while let received = try await next(&messages) {
            if case .text(let t) = received, t["type"] as? String == "replay.state" { return t }
        }
        return nil
    }

    @Test("record, then replay: first frame paused, seek by seq and by time, step both ways, overlay off gives the exact original bytes, 16x plays in order to the end; the replay is audited")
    func replay() async throws {
        let fixture = try ServerFixture.unthrottled()
        defer { fixture.cleanUp() }
        let app = try buildApplication(configuration: fixture.configuration, logger: fixture.logger)
        try await app.test(.live) { client in
            let (id, base, sent) = try await record(fixture, client)
            try await client.ws("/api/v1/sessions/\(id)/replay", configuration: LiveStreamingTests.wsConfiguration(token: fixture.auditor)) { inbound, outbound, _ in
                var messages = inbound.messages(maxSize: 4 << 20).makeAsyncIterator()
                var texts: [[String: Any]] = []
                guard case .text(let info)? = try await Self.next(&messages) else { Issue.record("no replay.session"); return }
                #expect(info["type"] as? String == "replay.session" && info["frames"] as? Int == Self.seqs.count)
                #expect((info["gaps"] as? [[Int]]) == [[5, 5]], "\(info)")
                #expect(info["renderer"] as? String == "herdlens-overlay/1")
                // The first frame, shown paused.
                let first = try #require(try await Self.nextFrame(&messages, texts: &texts))
                #expect(first.0.seq == 1 && first.0.replay == true && first.0.session == id && first.0.overlay)
                #expect(Array(first.1.prefix(2)) == [0xFF, 0xD8], "composed JPEG")
                // Seek by seq, exact and into the gap.
                try await outbound.write(.text(#"{"type":"seek","seq":7}"#))
                #expect(try await Self.nextFrame(&messages, texts: &texts)?.0.seq == 7)
                #expect(try await Self.nextState(&messages)?["exact"] as? Bool == true)
                try await outbound.write(.text(#"{"type":"seek","seq":5}"#))
                #expect(try await Self.nextFrame(&messages, texts: &texts)?.0.seq == 4)
                let gapState = try await Self.nextState(&messages)
                #expect(gapState?["exact"] as? Bool == false && gapState?["state"] as? String == "paused")
                // Seek by time: 0.35 s after seq 3's capture is still seq 3.
                let at = Timestamp(date: base.addingTimeInterval(0.35)).text
                try await outbound.write(.text(#"{"type":"seek","to":"\#(at)"}"#))
                #expect(try await Self.nextFrame(&messages, texts: &texts)?.0.seq == 3)
                _ = try await Self.nextState(&messages)
                // Step forward two (over the gap), back one.
                try await outbound.write(.text(#"{"type":"step","frames":2}"#))
                #expect(try await Self.nextFrame(&messages, texts: &texts)?.0.seq == 6)
                _ = try await Self.nextState(&messages)
                try await outbound.write(.text(#"{"type":"step","frames":-1}"#))
                #expect(try await Self.nextFrame(&messages, texts: &texts)?.0.seq == 4)
                _ = try await Self.nextState(&messages)
                // Overlay off: the stored original, byte for byte, annotations as data.
                try await outbound.write(.text(#"{"type":"overlay","on":false}"#))
                let plain = try #require(try await Self.nextFrame(&messages, texts: &texts))
                #expect(plain.0.seq == 4 && !plain.0.overlay && plain.1 == sent[4], "exact original bytes")
                #expect(!plain.0.annotations.isEmpty, "annotations travel as data")
                _ = try await Self.nextState(&messages)
                // A malformed command: an error, and the socket goes on.
                try await outbound.write(.text(#"{"type":"play","speed":99}"#))
                var error: [String: Any]?
                while error == nil, let received = try await Self.next(&messages) {
                    if case .text(let t) = received, t["type"] as? String == "error" { error = t }
                }
                #expect((error?["code"] as? String) == "invalidMessage")
                // 16x from seq 4: every later frame in capture order (or newest-wins skips), then ended.
                try await outbound.write(.text(#"{"type":"play","speed":16}"#))
                var played: [UInt64] = []
                var ended = false
                while !ended, let received = try await Self.next(&messages) {
                    switch received {
                    case .frame(let h, let payload):
                        played.append(h.seq)
                        #expect(payload == sent[h.seq], "overlay still off: original bytes")
                    case .text(let t):
                        if t["type"] as? String == "replay.state", t["state"] as? String == "ended" { ended = true }
                        if t["type"] as? String == "error" { Issue.record("unexpected error \(t)") }
                    }
                }
                #expect(ended && played == played.sorted() && played.last == 12, "\(played)")
                #expect(Set(played).isSubset(of: Set(Self.seqs.filter { $0 > 4 })))
            }
            // Audited: replay.start and replay.end (written as the socket ends) with the range shown.
            var entries: [[String: Any]] = []
            let deadline = ContinuousClock.now + .seconds(20)
            while ContinuousClock.now < deadline {
                let (status, body) = try await get(client, "/api/v1/audit?session=\(id)", token: fixture.auditor)
                #expect(status == .ok)
                entries = (try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any])?["entries"] as? [[String: Any]] ?? []
                if entries.contains(where: { $0["action"] as? String == "replay.end" }) { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            let actions = entries.map { $0["action"] as? String ?? "" }
            #expect(actions.contains("replay.start") && actions.contains("replay.end"), "\(actions)")
            let end = try #require(entries.last { $0["action"] as? String == "replay.end" })
            #expect(end["fromSeq"] as? Int == 1 && end["toSeq"] as? Int == 12 && end["role"] as? String == "auditor", "\(end)")
        }
    }

    @Test("a player that stops reading is closed after the write timeout and its socket released, as a live viewer is, and its replay audited")
    func stalledPlayerIsClosed() async throws {
        let fixture = try ServerFixture.unthrottled {
            $0.viewerWriteTimeoutSeconds = 1
            $0.maxSocketsPerToken = 1
        }
        defer { fixture.cleanUp() }
        let app = try buildApplication(configuration: fixture.configuration, logger: fixture.logger)
        try await app.test(.live) { client in
            // 60 frames of ~440 KB, played again and again at 16x.
            let (id, _, _) = try await record(fixture, client, seqs: Array(1...60), images: ["pen-day-1080p.jpg"])
            let port = try #require(client.port)
            let released = LiveStreamingTests.Signal(), playing = LiveStreamingTests.Signal()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    do {
                        try await client.ws("/api/v1/sessions/\(id)/replay?overlay=false", configuration: LiveStreamingTests.wsConfiguration(token: fixture.auditor)) { _, outbound, _ in
                            try await outbound.write(.text(#"{"type":"play","speed":16}"#))
                            playing.fire()
                            // Never reads, and keeps asking for more (play at the end starts again): the server's
                            // writes stall once the buffers between them are full, however large those are.
                            while !released.hasFired {
                                try await Task.sleep(for: .milliseconds(200))
                                // Once the server has closed the socket, there is nothing more to ask.
                                do { try await outbound.write(.text(#"{"type":"play","speed":16}"#)) } catch { break }
                            }
                        }
                    } catch where playing.hasFired {
                        // The server closed the stalled socket under unread data: a reset is how it ends.
                    }
                }
                // While the stalled player holds the auditor's one socket, another upgrade is refused (429);
                // once the server closes it, the upgrade is accepted again.
                try await playing.wait()
                let deadline = ContinuousClock.now + .seconds(30)
                var statuses: [Int] = []
                while ContinuousClock.now < deadline {
                    let status = try await RawHTTP.exchange(port: port, RawHTTP.upgrade("/api/v1/sessions/\(id)/replay", token: fixture.auditor)).status
                    if statuses.last != status { statuses.append(status) }
                    if status == 101 { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(statuses.first == 429 && statuses.last == 101, "\(statuses)")
                released.fire()
                try await group.waitForAll()
            }
            // The stalled player's replay is audited with the frames it was sent (the probe's shows one at most).
            var stalledEnd: [String: Any]?
            let auditDeadline = ContinuousClock.now + .seconds(20)
            while stalledEnd == nil, ContinuousClock.now < auditDeadline {
                let (_, body) = try await get(client, "/api/v1/audit?session=\(id)&action=replay.end", token: fixture.admin)
                let entries = (try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any])?["entries"] as? [[String: Any]] ?? []
                stalledEnd = entries.first { ($0["frames"] as? Int ?? 0) > 1 }
                if stalledEnd == nil { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(stalledEnd != nil, "no replay.end for the stalled player")
        }
    }

    @Test("who may replay, export and read the audit log: every new route, each role, as a real client sends it")
    func roleMatrix() async throws {
        let fixture = try ServerFixture.unthrottled()
        defer { fixture.cleanUp() }
        let app = try buildApplication(configuration: fixture.configuration, logger: fixture.logger)
        try await app.test(.live) { client in
            let (id, _, _) = try await record(fixture, client)
            let port = try #require(client.port)
            let who: [(String, String?)] = [
                ("none", nil), ("device", fixture.device), ("narrow", fixture.narrowInspector), ("inspector", fixture.inspector),
                ("auditor", fixture.auditor), ("admin", fixture.admin),
            ]
            // Replay upgrade: 401 without a token, 403 a device, 404 an inspector of other streams, 101 the rest.
            let replayExpected: [String: Int] = ["none": 401, "device": 403, "narrow": 404, "inspector": 101, "auditor": 101, "admin": 101]
            for (name, token) in who {
                let response = try await RawHTTP.exchange(port: port, RawHTTP.upgrade("/api/v1/sessions/\(id)/replay", token: token))
                #expect(response.status == replayExpected[name], "replay as \(name): \(response)")
                if response.status != 101 { #expect(response.headers["content-type"]?.hasPrefix("application/json") == true, "\(name)") }
            }
            let unknown = try await RawHTTP.exchange(port: port, RawHTTP.upgrade("/api/v1/sessions/s-nope/replay", token: fixture.auditor))
            #expect(unknown.status == 404 && unknown.body.contains(#""code":"notFound""#))
            let routes: [(String, [String: HTTPResponse.Status])] = [
                ("/api/v1/sessions/\(id)/export?format=bundle", ["none": .unauthorized, "device": .forbidden, "narrow": .notFound, "inspector": .ok, "auditor": .ok, "admin": .ok]),
                ("/api/v1/sessions/\(id)/export?format=mcap", ["none": .unauthorized, "device": .forbidden, "narrow": .notFound, "inspector": .ok, "auditor": .ok, "admin": .ok]),
                ("/api/v1/consignments/HK-2026-0777/export?format=bundle", ["none": .unauthorized, "device": .forbidden, "narrow": .notFound, "inspector": .ok, "auditor": .ok, "admin": .ok]),
                ("/api/v1/audit", ["none": .unauthorized, "device": .forbidden, "narrow": .forbidden, "inspector": .forbidden, "auditor": .ok, "admin": .ok]),
                ("/api/v1/audit/verify", ["none": .unauthorized, "device": .forbidden, "narrow": .forbidden, "inspector": .forbidden, "auditor": .ok, "admin": .ok]),
            ]
            for (uri, expected) in routes {
                for (name, token) in who {
                    let (status, _) = try await get(client, uri, token: token)
                    #expect(status == expected[name], "\(uri) as \(name)")
                }
            }
            #expect(try await get(client, "/api/v1/sessions/\(id)/export?format=zip", token: fixture.auditor).0 == .badRequest)
        }
    }

    @Test("a bundle streamed over HTTP verifies offline with the pinned key; a tampered frame is named; an unpinned check says so; every audited action is in the audit log, whose chain verifies")
    func bundleAndAudit() async throws {
        let fixture = try ServerFixture.unthrottled()
        defer { fixture.cleanUp() }
        let app = try buildApplication(configuration: fixture.configuration, logger: fixture.logger)
        let bundlePath = fixture.directory.path + "/export.zip"
        let mcapPath = fixture.directory.path + "/export.mcap"
        let sentBox = Shared<[UInt64: [UInt8]]>([:])
        try await app.test(.live) { client in
            let (id, _, sent) = try await record(fixture, client)
            sentBox.set(sent)
            // Audited actions over HTTP: sign-in, verify, hold, release, export.
            var signin = HTTPFields()
            signin[.contentType] = "application/json"
            let signedIn = try await client.execute(uri: "/api/v1/session", method: .post, headers: signin, body: ByteBuffer(string: #"{"token":"\#(fixture.auditor)"}"#)) { $0.status }
            #expect(signedIn == .noContent)
            #expect(try await get(client, "/api/v1/sessions/\(id)/verify", token: fixture.auditor).0 == .ok)
            var auth = HTTPFields()
            auth[.authorization] = "Bearer \(fixture.admin)"
            #expect(try await client.execute(uri: "/api/v1/sessions/\(id)/hold", method: .put, headers: auth) { $0.status } == .noContent)
            #expect(try await client.execute(uri: "/api/v1/sessions/\(id)/hold", method: .delete, headers: auth) { $0.status } == .noContent)
            let (status, zip) = try await get(client, "/api/v1/sessions/\(id)/export?format=bundle", token: fixture.auditor)
            #expect(status == .ok)
            try Data(buffer: zip).write(to: URL(fileURLWithPath: bundlePath))
            let (mcapStatus, mcap) = try await get(client, "/api/v1/sessions/\(id)/export?format=mcap", token: fixture.auditor)
            #expect(mcapStatus == .ok && Array(mcap.readableBytesView.prefix(8)) == [0x89, 0x4D, 0x43, 0x41, 0x50, 0x30, 0x0D, 0x0A])
            try Data(buffer: mcap).write(to: URL(fileURLWithPath: mcapPath))
            // A live viewer, watched and left.
            try await client.ws("/api/v1/live?stream=\(fixture.stream)", configuration: LiveStreamingTests.wsConfiguration(token: fixture.inspector)) { _, outbound, _ in
                try await outbound.close(.normalClosure, reason: nil)
            }
            // Every action, from the audit log.
            let deadline = ContinuousClock.now + .seconds(20)
            var actions: [String] = []
            while ContinuousClock.now < deadline {
                let (_, body) = try await get(client, "/api/v1/audit", token: fixture.admin)
                let entries = (try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any])?["entries"] as? [[String: Any]] ?? []
                actions = entries.map { $0["action"] as? String ?? "" }
                if actions.contains("live.end") { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            for action in ["signin", "verify", "hold", "release", "export", "live.start", "live.end"] {
                #expect(actions.contains(action), "\(action) missing from \(actions)")
            }
            let (_, auditVerify) = try await get(client, "/api/v1/audit/verify", token: fixture.auditor)
            #expect(String(buffer: auditVerify).contains(#""ok":true"#), "\(String(buffer: auditVerify))")
        }
        // Offline, no data directory: pinned by key and by fingerprint.
        let key = try RecordingKey.loadOrCreate(path: fixture.directory.path + "/keys/recording.key")
        let pinned = try BundleVerifier().verify(path: bundlePath, pinned: .publicKey(key.publicKey))
        #expect(pinned.ok && pinned.pinned && pinned.frames == Self.seqs.count && pinned.checkpoints >= 1, "\(pinned)")
        #expect(try BundleVerifier().verify(path: bundlePath, pinned: .fingerprint(key.keyId)).ok)
        let unpinned = try BundleVerifier().verify(path: bundlePath, pinned: .none)
        #expect(unpinned.ok && !unpinned.pinned && unpinned.keyId == key.keyId)
        let stranger = Curve25519.Signing.PrivateKey().publicKey
        let wrongKey = try BundleVerifier().verify(path: bundlePath, pinned: .publicKey(Array(stranger.rawRepresentation)))
        #expect(!wrongKey.ok && wrongKey.badEntry == "bundle.json")
        // Tamper with the bytes of frame 7 inside the archive: verify names that entry.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: bundlePath))
        let original = try #require(sentBox.get[7])
        let name = "sessions/" + (pinned.sessions.first ?? "") + "/frames/000000000007.jpg"
        // The entry's bytes follow its local header's name (stored, no extra field).
        let at = try #require(bytes.range(of: Data(name.utf8))?.upperBound)
        #expect(bytes[at..<at + 4] == Data(original.prefix(4)))
        bytes[at + original.count / 2] ^= 0x55
        try bytes.write(to: URL(fileURLWithPath: bundlePath))
        let tampered = try BundleVerifier().verify(path: bundlePath, pinned: .publicKey(key.publicKey))
        #expect(!tampered.ok && tampered.badEntry == name, "\(tampered)")
        // A readable view no record names (annotations.jsonl) is checked against the signed listing too.
        bytes[at + original.count / 2] ^= 0x55
        let view = "sessions/" + (pinned.sessions.first ?? "") + "/annotations.jsonl"
        let viewAt = try #require(bytes.range(of: Data(view.utf8))?.upperBound)
        bytes[viewAt + 3] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: bundlePath))
        let alteredView = try BundleVerifier().verify(path: bundlePath, pinned: .publicKey(key.publicKey))
        #expect(!alteredView.ok && alteredView.badEntry == view, "\(alteredView)")
    }
}
