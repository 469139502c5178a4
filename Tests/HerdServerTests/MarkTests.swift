import Foundation
import HTTPTypes
import HerdProtocol
import HerdServer
import HerdTesting
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

/// Inspector marks over real sockets, the way an inspector's console, a second inspector and a field
/// device's AR display meet them.
@Suite("Inspector marks over real sockets", .timeLimit(.minutes(3)))
struct MarkTests {
    /// The device side: frames with one pig box (track `track()`) moving right, until stopped; every
    /// `mark` the server sends is answered with `mark.ack`.
    final class FieldDevice: Sendable {
        final class Controls: Sendable {
            let track = Atomic(7)
            let stop = Atomic(false)
        }

        let socket: TestSocket
        let controls = Controls()
        private let task: Task<Void, any Error>

        init(_ client: some TestClientProtocol & Sendable, fixture: ServerFixture, image: [UInt8], startSeq: UInt64 = 1, session: Bool) {
            let socket = TestSocket(client, "/api/v1/ingest", token: fixture.device)
            self.socket = socket
            let controls = self.controls
            task = Task {
                if session {
                    socket.send(#"{"type":"session","stream":"\#(fixture.stream)","action":"start","consignment":{"id":"HK-2026-1201","declaredHeadCount":90}}"#)
                }
                var seq = startSeq
                var acked = Set<String>()
                while !controls.stop.load(ordering: .relaxed) {
                    var header = try fixture.header(seq: seq)
                    var box = BoxAnnotation(rect: PixelRect(x: 200 + Double(seq % 100) * 4, y: 300, width: 160, height: 90), objectClass: "pig", confidence: 0.9)
                    box.trackId = controls.track.load(ordering: .relaxed)
                    header.detections = [box]
                    socket.send(ByteBuffer(bytes: Envelope.encode(header: header, payload: image)))
                    let sent = seq
                    _ = try await socket.waitFor("the ack of frame \(sent)") { $0.message("type", "ack") { ($0["seq"] as? Int) == Int(sent) } }
                    for mark in socket.objects where mark["type"] as? String == "mark" {
                        let id = mark["id"] as! String
                        if acked.insert(id).inserted { socket.send(#"{"type":"mark.ack","id":"\#(id)"}"#) }
                    }
                    seq += 1
                    try await Task.sleep(for: .milliseconds(20))  // about 30 fps: a rate, not a wait
                }
            }
        }

        func finish() async throws {
            controls.stop.store(true, ordering: .relaxed)
            try await task.value
        }
    }

    static func marks(_ header: LiveFrameHeader) -> [Annotation] { header.annotations.filter { $0.source == .inspector } }

    @Test("a mark goes to the field device and to a second inspector, is drawn on the frames, follows its pig and ends with the track, expires by ttl, is acknowledged, cleared, sent again on reconnect and recorded with its author")
    func roundTrip() async throws {
        let fixture = try ServerFixture.unthrottled()
        defer { fixture.cleanUp() }
        let app = try buildApplication(configuration: fixture.configuration, logger: fixture.logger)
        let image = try SampleFrames.bytes("frames", "pen-amp0-720p.jpg")
        try await app.test(.live) { client in
            // The device's boxes, with their track ids, are drawn as sent.
            #expect(try await AnalysisTests().put(client, "/api/v1/streams/\(fixture.stream)/config", token: fixture.admin, #"{"detector":"none"}"#).0 == .ok)
            let live = "/api/v1/live?stream=\(fixture.stream)"
            let a = TestSocket(client, live, token: fixture.inspector), b = TestSocket(client, live, token: fixture.inspector)
            try await ServerFixture.waitForGauges(client, ["herd_viewers": 2])
            let device = FieldDevice(client, fixture: fixture, image: image, session: true)
            let session = try await device.socket.waitFor("the session reply") { $0.message("type", "session")?["session"] as? String }
            let seen = try await a.waitFor("a frame with the pig") { $0.frames.last { $0.annotations.contains { if case .box(let b) = $0 { b.trackId == 7 } else { false } } } }

            // A box with a note, and an arrow anchored to pig 7 on the frame the inspector saw.
            a.send(#"{"type":"mark","stream":"\#(fixture.stream)","kind":"box","points":[[100,100],[300,240]],"text":"看這頭豬","ttlSeconds":600}"#)
            a.send(#"{"type":"mark","stream":"\#(fixture.stream)","kind":"arrow","points":[[500,200],[560,330]],"trackId":7,"seq":\#(seen.seq),"id":"follow-7"}"#)
            func placed(_ socket: TestSocket, _ kind: String) -> [String: Any]? {
                socket.message("event", "mark") { (($0["mark"] as? [String: Any])?["kind"] as? String) == kind }?["mark"] as? [String: Any]
            }
            let boxMark = try await b.waitFor("the second inspector hears of the box") { placed($0, "box") }
            let boxID = try #require(boxMark["id"] as? String)
            #expect(boxID.hasPrefix("mk-") && (boxMark["by"] as? String)?.hasPrefix("inspector (tok_") == true, "\(boxMark)")
            _ = try await b.waitFor("the second inspector hears of the arrow") { placed($0, "arrow") }
            // The device gets both on its ingest socket, in the shape of the contract.
            let toDevice = try await device.socket.waitFor("the box on the device socket") { $0.message("type", "mark") { ($0["id"] as? String) == boxID } }
            #expect(toDevice["kind"] as? String == "box" && toDevice["text"] as? String == "看這頭豬" && toDevice["stream"] as? String == fixture.stream.rawValue)
            #expect((toDevice["points"] as? [[Double]]) == [[100, 100], [300, 240]] && toDevice["ttlSeconds"] as? Int == 600 && toDevice["expiresAt"] is String)
            _ = try await device.socket.waitFor("the arrow on the device socket") { $0.message("type", "mark") { ($0["id"] as? String) == "follow-7" && ($0["trackId"] as? Int) == 7 } }
            // Drawn on the second inspector's frames, with their ids and source, as the right kinds.
            let drawn = try await b.waitFor("a frame carrying both marks") { socket in
                socket.frames.last { Set(Self.marks($0).compactMap(\.id)) == [boxID, "follow-7"] }
            }
            #expect(Set(Self.marks(drawn).map(\.kind)) == ["box", "arrow"])
            // The anchored arrow moves with the pig: 4 px a frame to the right.
            func arrowX(_ header: LiveFrameHeader) -> Double? {
                for case .arrow(let arrow) in Self.marks(header) { return arrow.from.x }
                return nil
            }
            let first = try #require(arrowX(drawn))
            _ = try await b.waitFor("the arrow following its pig") { socket in socket.frames.last.flatMap(arrowX).flatMap { $0 >= first + 20 ? $0 : nil } }
            // The device acknowledged each mark: the inspectors are told, naming the device.
            let ack = try await a.waitFor("the box acknowledged") { $0.message("event", "mark.acknowledged") { (($0["mark"] as? [String: Any])?["id"] as? String) == boxID } }
            #expect((ack["by"] as? String)?.hasPrefix("cam (tok_") == true, "\(ack)")

            // Cleared by the inspector: the device is told why and by whom; frames stop carrying it.
            a.send(#"{"type":"mark.clear","id":"\#(boxID)"}"#)
            let cleared = try await device.socket.waitFor("the box cleared on the device") { $0.message("type", "mark.clear") { ($0["id"] as? String) == boxID } }
            #expect(cleared["reason"] as? String == "inspector" && (cleared["by"] as? String)?.hasPrefix("inspector") == true)
            _ = try await b.waitFor("a frame without the box") { socket in socket.frames.last { Self.marks($0).compactMap(\.id) == ["follow-7"] } }

            // Pig 7 leaves (its box now carries track 8): the anchored arrow ends with its track.
            device.controls.track.store(8, ordering: .relaxed)
            let ended = try await device.socket.waitFor("the arrow ended with its track") { $0.message("type", "mark.clear") { ($0["id"] as? String) == "follow-7" } }
            #expect(ended["reason"] as? String == "trackEnded")
            _ = try await b.waitFor("the arrow ended for viewers") { $0.message("event", "mark.clear") { ($0["reason"] as? String) == "trackEnded" } }

            // A one-second mark expires on its own.
            a.send(#"{"type":"mark","stream":"\#(fixture.stream)","kind":"text","points":[[40,40]],"text":"gate","ttlSeconds":1,"id":"brief"}"#)
            let expired = try await device.socket.waitFor("the brief mark expired") { $0.message("type", "mark.clear") { ($0["id"] as? String) == "brief" } }
            #expect(expired["reason"] as? String == "expired")

            // A mark still live is sent again to a device that reconnects, before it sends anything.
            a.send(#"{"type":"mark","stream":"\#(fixture.stream)","kind":"circle","points":[[640,360],[700,360]],"id":"gate-ring"}"#)
            _ = try await device.socket.waitFor("the ring on the device") { $0.message("type", "mark") { ($0["id"] as? String) == "gate-ring" } }
            _ = try await b.waitFor("a frame carrying the ring") { socket in socket.frames.last { Self.marks($0).contains { $0.id == "gate-ring" } } }
            try await device.finish()
            await device.socket.close()
            let again = TestSocket(client, "/api/v1/ingest", token: fixture.device)
            let resent = try await again.waitFor("the ring sent again on reconnect") { $0.message("type", "mark") { ($0["id"] as? String) == "gate-ring" } }
            #expect(resent["kind"] as? String == "circle")
            again.send(#"{"type":"mark.ack","id":"gate-ring"}"#)
            _ = try await a.waitFor("the ring acknowledged after reconnect") { $0.message("event", "mark.acknowledged") { (($0["mark"] as? [String: Any])?["id"] as? String) == "gate-ring" } }
            again.send(#"{"type":"mark.ack","id":"mk-nosuch"}"#)
            let unknown = try await again.waitFor("an ack for no mark refused") { $0.message("type", "error") }
            #expect(unknown["code"] as? String == "notFound")
            again.send(#"{"type":"session","stream":"\#(fixture.stream)","action":"end"}"#)
            _ = try await again.waitFor("the session ended") { $0.message("type", "session") { ($0["action"] as? String) == "end" } }
            await again.close()
            await a.close()
            await b.close()

            // The recording keeps every mark with its author, its acknowledgements and how each ended.
            var auth = HTTPFields()
            auth[.authorization] = "Bearer \(fixture.auditor)"
            let zip = try await client.execute(uri: "/api/v1/sessions/\(session)/export?format=bundle", method: .get, headers: auth) { String(decoding: Array($0.body.readableBytesView), as: UTF8.self) }
            // MCAP (uncompressed chunks): the marks on the inspector channel, the ring as a Foxglove circle.
            let mcap = try await client.execute(uri: "/api/v1/sessions/\(session)/export?format=mcap", method: .get, headers: auth) { String(decoding: Array($0.body.readableBytesView), as: UTF8.self) }
            for needle in ["/\(fixture.stream)/inspector", #"{"event":"mark.ack""#, #""diameter":120"#] {
                let found = mcap.contains(needle)
                #expect(found, "\(needle) not in the session's MCAP")
            }
            for needle in [#""event":"mark""#, #""event":"mark.ack""#, #""event":"mark.clear""#, "trackEnded", "expired", #"\"source\":\"inspector\""#, "inspector (tok_"] {
                let found = zip.contains(needle)
                #expect(found, "\(needle) not in the session's bundle")
            }
        }
    }

    @Test("marks are refused when malformed, over the limits, or for a stream the socket does not watch; the socket stays open")
    func refusals() async throws {
        let fixture = try ServerFixture.unthrottled {
            $0.maxMarksPerStream = 2
            $0.markBurst = 8
            $0.marksPerSecondPerSocket = 0.01
        }
        defer { fixture.cleanUp() }
        let app = try buildApplication(configuration: fixture.configuration, logger: fixture.logger)
        try await app.test(.live) { client in
            let s = fixture.stream.rawValue
            let inspector = TestSocket(client, "/api/v1/live?stream=\(s)", token: fixture.inspector)
            try await ServerFixture.waitForGauges(client, ["herd_viewers": 1])
            var errors = 0
            func refused(_ socket: TestSocket, _ text: String, _ code: String) async throws {
                errors += 1
                let n = errors
                socket.send(text)
                let reply = try await socket.waitFor("error \(n) (\(code))") { $0.objects.filter { $0["type"] as? String == "error" }.dropFirst(n - 1).first }
                #expect(reply["code"] as? String == code, "\(text): \(reply)")
            }
            try await refused(inspector, #"{"type":"mark","stream":"\#(s)","kind":"box","points":[[1,1],[5,5],[9,9]]}"#, "invalidMessage")
            try await refused(inspector, #"{"type":"mark","stream":"\#(s)","kind":"box","kind":"arrow","points":[[1,1],[5,5]]}"#, "badJSON")
            try await refused(inspector, #"{"type":"mark","stream":"\#(fixture.otherStream)","kind":"arrow","points":[[1,1],[5,5]]}"#, "forbidden")
            try await refused(inspector, #"{"type":"mark","stream":"\#(s)","kind":"arrow","points":[[1,1],[5,5]],"trackId":3}"#, "notFound")
            inspector.send(#"{"type":"mark","stream":"\#(s)","kind":"arrow","points":[[1,1],[5,5]],"id":"one"}"#)
            inspector.send(#"{"type":"mark","stream":"\#(s)","kind":"arrow","points":[[1,1],[5,5]],"id":"two"}"#)
            _ = try await inspector.waitFor("two marks placed") { $0.objects.filter { $0["event"] as? String == "mark" }.count == 2 ? true : nil }
            try await refused(inspector, #"{"type":"mark","stream":"\#(s)","kind":"arrow","points":[[1,1],[5,5]],"id":"three"}"#, "tooManyMarks")
            try await refused(inspector, #"{"type":"mark.clear","id":"nosuch"}"#, "notFound")
            // Eight messages in the burst so far; the ninth is over the rate.
            try await refused(inspector, #"{"type":"mark.clear","id":"one"}"#, "rateLimited")
            #expect(!inspector.isClosed)

            // An inspector whose token may not watch this stream (its socket cannot open it: StreamIsolationTests)
            // cannot mark it from a socket on its own stream. (Auditors never get a live socket to mark on.)
            let narrow = TestSocket(client, "/api/v1/live?stream=\(fixture.otherStream)", token: fixture.narrowInspector)
            try await ServerFixture.waitForGauges(client, ["herd_viewers": 2])
            errors = 0
            try await refused(narrow, #"{"type":"mark","stream":"\#(s)","kind":"arrow","points":[[1,1],[5,5]]}"#, "forbidden")
            for socket in [inspector, narrow] { await socket.close() }
        }
    }
}

extension MarkTests {
    @Test("after a crash the open session's live marks are read back and sent to the device that reconnects; a cleared one is not")
    func marksSurviveRestart() async throws {
        let fixture = try ServerFixture.unthrottled()
        defer { fixture.cleanUp() }
        let image = try SampleFrames.bytes("frames", "pen-amp0-720p.jpg")
        let s = fixture.stream.rawValue
        let crashed = fixture.directory.appendingPathExtension("crashed")
        defer { try? FileManager.default.removeItem(at: crashed) }
        try await buildApplication(configuration: fixture.configuration, logger: fixture.logger).test(.live) { client in
            let inspector = TestSocket(client, "/api/v1/live?stream=\(s)", token: fixture.inspector)
            try await ServerFixture.waitForGauges(client, ["herd_viewers": 1])
            let device = FieldDevice(client, fixture: fixture, image: image, session: true)
            _ = try await device.socket.waitFor("the session reply") { $0.message("type", "session") }
            inspector.send(#"{"type":"mark","stream":"\#(s)","kind":"circle","points":[[640,360],[700,360]],"text":"gate","id":"keep","ttlSeconds":600}"#)
            inspector.send(#"{"type":"mark","stream":"\#(s)","kind":"arrow","points":[[10,10],[90,90]],"id":"gone"}"#)
            _ = try await device.socket.waitFor("both marks on the device") { $0.objects.filter { $0["type"] as? String == "mark" }.count >= 2 ? true : nil }
            inspector.send(#"{"type":"mark.clear","id":"gone"}"#)
            _ = try await device.socket.waitFor("the arrow cleared") { $0.message("type", "mark.clear") }
            // Two more frames acknowledged: everything recorded before them is durable too (one queue per stream).
            let acked = device.socket.objects.filter { $0["type"] as? String == "ack" }.count
            _ = try await device.socket.waitFor("two more acks") { $0.objects.filter { $0["type"] as? String == "ack" }.count >= acked + 2 ? true : nil }
            // A crash, as the next server finds it: the data directory as it is now, the session still open
            // (a graceful stop would close it).
            try FileManager.default.copyItem(at: fixture.directory, to: crashed)
            try await device.finish()
            await device.socket.close()
            await inspector.close()
        }
        var restarted = fixture.configuration
        restarted.dataDirectory = crashed.path
        try await buildApplication(configuration: restarted, logger: fixture.logger).test(.live) { client in
            let again = TestSocket(client, "/api/v1/ingest", token: fixture.device)
            let kept = try await again.waitFor("the kept mark after the restart") { $0.message("type", "mark") }
            #expect(kept["id"] as? String == "keep" && kept["text"] as? String == "gate" && (kept["by"] as? String)?.hasPrefix("inspector (tok_") == true, "\(kept)")
            // Only that one: the cleared arrow is not sent again.
            var auth = HTTPFields()
            auth[.authorization] = "Bearer \(fixture.inspector)"
            let listed = try await client.execute(uri: "/api/v1/streams/\(s)/alerts", method: .get, headers: auth) { String(buffer: $0.body) }
            #expect(listed.contains(#""id":"keep""#) && !listed.contains(#""id":"gone""#), "\(listed)")
            // The loading goes on: the same consignment's next session takes the count (and the mark) over.
            again.send(#"{"type":"session","stream":"\#(s)","action":"start","consignment":{"id":"HK-2026-1201","declaredHeadCount":90}}"#)
            let next = try await again.waitFor("the next session") { $0.message("type", "session")?["session"] as? String }
            again.send(#"{"type":"session","stream":"\#(s)","action":"end"}"#)
            _ = try await again.waitFor("the session ended") { $0.message("type", "session") { ($0["action"] as? String) == "end" } }
            var audit = HTTPFields()
            audit[.authorization] = "Bearer \(fixture.auditor)"
            let zip = try await client.execute(uri: "/api/v1/sessions/\(next)/export?format=bundle", method: .get, headers: audit) { String(decoding: Array($0.body.readableBytesView), as: UTF8.self) }
            let carried = zip.contains(#""event":"count.carried""#)
            #expect(carried, "the next session records that it carried the count over")
            await again.close()
        }
    }
}
