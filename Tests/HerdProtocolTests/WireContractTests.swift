import Foundation
import HerdProtocol
import HerdTesting
import Testing

@Suite("Wire contract v1", .timeLimit(.minutes(3)))
struct WireContractTests {
    static let wire = SampleFrames.repositoryRoot.appendingPathComponent("Protocol/v1/examples/wire")
    static let invalid = SampleFrames.repositoryRoot.appendingPathComponent("Protocol/v1/examples/wire-invalid")

    static func names(_ url: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
    }

    func bytes(_ url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }

    /// Decodes a golden file with the type its name says and checks that re-encoding keeps every field.
    func roundTrip<T: Codable & Equatable>(_ type: T.Type, _ json: [UInt8]) throws {
        let value = try WireJSON.decode(T.self, from: json)
        #expect(try WireJSON.decode(T.self, from: WireJSON.encode(value)) == value)
        let original = try JSONSerialization.jsonObject(with: Data(json)) as? NSDictionary
        let again = try JSONSerialization.jsonObject(with: Data(WireJSON.encode(value))) as? NSDictionary
        #expect(original == again, "re-encoding changed the message")
    }

    @Test("golden messages decode and re-encode to the same JSON", arguments: names(wire))
    func golden(name: String) throws {
        let json = try bytes(Self.wire.appendingPathComponent(name))
        switch name {
        case "device-frame.json":
            guard case .frame(let header) = try DeviceMessage.decode(json) else { Issue.record("not a frame"); return }
            #expect(header.stream.rawValue == "farm-jx-017.cam-1" && header.capturedAt.offsetMinutes == 480)
            #expect(header.sensors?.consignment?.vehiclePlate == "粤B·12345")
            #expect(header.detections?.first?.objectClass == "pig")
        case "device-telemetry.json": try roundTrip(TelemetryMessage.self, json)
        case "device-session-start.json":
            guard case .session(let s) = try DeviceMessage.decode(json) else { Issue.record("not a session"); return }
            #expect(s.action == .start && s.consignment?.declaredHeadCount == 98 && s.consignment?.destinationCode == "HK")
            #expect(s.consignment?.healthCertificateNo == "HC-2026-118842" && s.consignment?.sealId == "EL-7781")
            try roundTrip(SessionMessage.self, json)
        case "device-session-end.json":
            guard case .session(let s) = try DeviceMessage.decode(json) else { Issue.record("not a session"); return }
            #expect(s.action == .end && s.consignment == nil)
        case "session-reply.json": try roundTrip(SessionReply.self, json)
        case "ack.json", "ack-duplicate.json": try roundTrip(AckMessage.self, json)
        case "error.json", "error-worker-crashed.json", "error-seq-conflict.json": try roundTrip(ErrorReply.self, json)
        case "error-storage-full.json":
            try roundTrip(ErrorReply.self, json)
            #expect(try WireJSON.decode(ErrorReply.self, from: json).retryable)
        case "http-error.json": try roundTrip(HTTPErrorBody.self, json)
        case "live-frame.json": try roundTrip(LiveFrameHeader.self, json)
        case "live-event-online.json", "live-event-alert.json": try roundTrip(LiveEvent.self, json)
        case "live-event-alert-detail.json":
            try roundTrip(LiveEvent.self, json)
            let event = try WireJSON.decode(LiveEvent.self, from: json)
            #expect(event.detail?.acknowledged?.by.hasPrefix("Chan Tai Man") == true && event.detail?.message.zhHant.contains("熱應激") == true)
        case "live-event-crossing.json":
            try roundTrip(LiveEvent.self, json)
            #expect(try WireJSON.decode(LiveEvent.self, from: json).crossing == Crossing(line: "ramp", trackId: 37, direction: .in, seq: 2210))
        case "viewer-alert-ack.json": try roundTrip(AlertAckMessage.self, json)
        case "viewer-mark.json":
            let request = try MarkRequest.decode(json)
            #expect(request.kind == .box && request.trackId == 37 && request.points.count == 2 && request.ttlSeconds == 120)
            try roundTrip(MarkRequest.self, json)
        case "viewer-mark-clear.json", "device-mark-clear.json": try roundTrip(MarkClear.self, json)
        case "device-mark-ack.json": try roundTrip(MarkAck.self, json)
        case "device-mark.json":
            try roundTrip(Mark.self, json)
            let mark = try WireJSON.decode(Mark.self, from: json)
            guard case .arrow(let arrow) = mark.annotation() else { Issue.record("an arrow mark is drawn as an arrow"); return }
            #expect(arrow.source == .inspector && arrow.id == mark.id && arrow.to == PixelPoint(x: 900, y: 600))
        case "live-event-mark.json":
            try roundTrip(LiveEvent.self, json)
            let mark = try #require(try WireJSON.decode(LiveEvent.self, from: json).mark)
            guard case .point(let ring) = mark.annotation(dx: 10, dy: -5) else { Issue.record("a circle mark is drawn as a point with a radius"); return }
            #expect(ring.radius == 60 && ring.at == PixelPoint(x: 650, y: 355) && ring.shape == .ring)
        case "viewer-options.json":
            let options = try WireJSON.decode(ViewerOptions.self, from: json)
            #expect(options.maxWidth == 640 && options.overlay == false)
        default:
            Issue.record("no expectation for golden file \(name)")
        }
    }

    /// A refused example is named `<code>--<what>.json`: decoding it must fail with that code.
    func expectRefused(_ directory: URL, _ name: String, _ decode: ([UInt8]) throws(ProtocolError) -> Void) throws {
        let expected = String(name.split(separator: "-", maxSplits: 1)[0])
        let json = try bytes(directory.appendingPathComponent(name))
        do throws(ProtocolError) {
            try decode(json)
            Issue.record("\(name) was accepted")
        } catch {
            #expect(error.code == expected, "\(name): \(error)")
        }
    }

    @Test("invalid device messages are refused with their code", arguments: names(invalid))
    func invalidMessages(name: String) throws {
        try expectRefused(Self.invalid, name) { json throws(ProtocolError) in _ = try DeviceMessage.decode(json) }
    }

    static let marksInvalid = SampleFrames.repositoryRoot.appendingPathComponent("Protocol/v1/examples/marks-invalid")

    @Test("invalid inspector marks are refused with their code", arguments: names(marksInvalid))
    func invalidMarks(name: String) throws {
        try expectRefused(Self.marksInvalid, name) { json throws(ProtocolError) in _ = try MarkRequest.decode(json) }
    }

    @Test("each mark kind takes its points; text, ttl, id and track id are bounded")
    func markLimits() throws {
        let stream = StreamID("cam-1")!
        func refused(_ request: MarkRequest) -> Bool { (try? request.validate()) == nil }
        let p = [PixelPoint(x: 1, y: 1), PixelPoint(x: 9, y: 7)]
        #expect(!refused(MarkRequest(stream: stream, kind: .circle, points: p)))
        #expect(refused(MarkRequest(stream: stream, kind: .circle, points: [p[0]])))
        #expect(!refused(MarkRequest(stream: stream, kind: .text, points: [p[0]], text: "看這頭豬")))
        #expect(refused(MarkRequest(stream: stream, kind: .text, points: [p[0]])))
        #expect(refused(MarkRequest(stream: stream, kind: .arrow, points: p, text: "a\u{7}b")))
        #expect(!refused(MarkRequest(stream: stream, kind: .freehand, points: Array(repeating: p, count: 128).flatMap { $0 })))
        #expect(refused(MarkRequest(stream: stream, kind: .freehand, points: Array(repeating: p, count: 129).flatMap { $0 })))
        #expect(refused(MarkRequest(stream: stream, kind: .arrow, points: [p[0], PixelPoint(x: .infinity, y: 0)])))
        #expect(refused(MarkRequest(stream: stream, kind: .arrow, points: [p[0], PixelPoint(x: 200_000, y: 0)])))
        #expect(refused(MarkRequest(stream: stream, kind: .arrow, points: p, ttlSeconds: 3601)))
        #expect(!refused(MarkRequest(stream: stream, kind: .arrow, points: p, ttlSeconds: 3600)))
        #expect(refused(MarkRequest(stream: stream, kind: .arrow, points: p, trackId: 0)))
        #expect(refused(MarkRequest(stream: stream, kind: .arrow, points: p, id: String(repeating: "m", count: 65))))
        #expect(refused(MarkRequest(stream: stream, kind: .arrow, points: p, id: "a/b")))
        #expect(!refused(MarkRequest(stream: stream, kind: .arrow, points: p, id: "標記-1")))
        // mark.clear and mark.ack are as strict: a key twice, a bad id, another type.
        #expect(throws: ProtocolError.badJSON("")) { try MarkClear.decode(Array(#"{"type":"mark.clear","id":"a","id":"b"}"#.utf8)) }
        #expect(throws: ProtocolError.invalidMessage("")) { try MarkClear.decode(Array(#"{"type":"mark.clear","id":"a b"}"#.utf8)) }
        #expect(throws: ProtocolError.badJSON("")) { try MarkAck.decode(Array(#"{"type":"mark.ack","id":"a","id":"b"}"#.utf8)) }
        #expect(throws: ProtocolError.badJSON("")) { try MarkAck.decode(Array(#"{"type":"mark","id":"a"}"#.utf8)) }
        #expect(try MarkAck.decode(Array(#"{"type":"mark.ack","id":"mk-1"}"#.utf8)).id == "mk-1")
    }

    @Test("one strict pass: duplicate keys (at any depth, however escaped), bad nesting and trailing data are badJSON")
    func strictJSON() throws {
        let refused = [
            #"{"type":"telemetry","type":"frame"}"#,
            #"{"type":"frame","stream":"a","seq":1,"capturedAt":"2026-11-20T08:15:00Z","stre\u0061m":"b"}"#,
            #"{"type":"telemetry","stream":"a","sensors":{"gps":{"lat":1,"lat":2,"lon":3}}}"#,
            #"{"type":"telemetry"} {}"#, #"{"type":"telemetry",}"#, #"{"type":"telemetry""#, "[1,2", #"{"a":"\ud800"}"#,
            String(repeating: "[", count: 65) + String(repeating: "]", count: 65),
        ]
        for text in refused {
            #expect(throws: ProtocolError.badJSON(""), "\(text)") { try DeviceMessage.decode(Array(text.utf8)) }
        }
        #expect(try StrictJSON.check(Array(#"{"type":"x","a":{"type":"y"},"b":[{"k":1},{"k":2}]}"#.utf8)) == "x")
        #expect(try StrictJSON.check(Array(#"{"ty\u0070e":"esc\n"}"#.utf8)) == "esc\n")
        #expect(try StrictJSON.check(Array((String(repeating: "[", count: 64) + String(repeating: "]", count: 64)).utf8)) == nil)
        #expect(try StrictJSON.check(Array(#" {"n":-0.5e+3,"t":true,"f":false,"z":null,"s":"😀\ud83d\ude00"} "#.utf8)) == nil)
    }

    @Test("envelope framing round-trips and refuses malformed lengths")
    func envelope() throws {
        let header = AckMessage(stream: StreamID("cam-1")!, seq: 7)
        let payload: [UInt8] = [0xFF, 0xD8, 0xFF, 0x00, 0x01]
        let message = Envelope.encode(header: header, payload: payload)
        let (json, body) = try Envelope.split(message)
        #expect(Array(body) == payload)
        #expect(try WireJSON.decode(AckMessage.self, from: json) == header)
        #expect(try Envelope.split(Envelope.encode(header: header, payload: [UInt8]())).payload.isEmpty)
        #expect(throws: ProtocolError.badEnvelope()) { try Envelope.split([0, 0]) }
        #expect(throws: ProtocolError.badEnvelope()) { try Envelope.split([0, 0, 0, 50, 0x7B, 0x7D]) }
        #expect(throws: ProtocolError.headerTooLarge()) { try Envelope.split([0, 1, 0, 1] + [UInt8](repeating: 0x20, count: 70_000)) }
        #expect(throws: ProtocolError.headerTooLarge()) { try Envelope.split([0, 0, 0, 20] + [UInt8](repeating: 0x20, count: 30), maxHeaderBytes: 10) }
    }

    @Test("seq covers the whole UInt64 range")
    func seqRange() throws {
        let json = Array(#"{"type":"frame","stream":"a","seq":18446744073709551615,"capturedAt":"2026-01-01T00:00:00Z"}"#.utf8)
        guard case .frame(let h) = try DeviceMessage.decode(json) else { Issue.record("not a frame"); return }
        #expect(h.seq == UInt64.max)
        let over = Array(#"{"type":"frame","stream":"a","seq":18446744073709551616,"capturedAt":"2026-01-01T00:00:00Z"}"#.utf8)
        #expect(throws: ProtocolError.invalidSeq("")) { try DeviceMessage.decode(over) }
    }

    @Test("stream ids", arguments: [("cam-1", true), ("farm.jx_017-A", true), (String(repeating: "a", count: 64), true),
                                      ("", false), (String(repeating: "a", count: 65), false), ("a/b", false), ("猪", false), ("a b", false)])
    func streamIDs(value: String, valid: Bool) {
        #expect((StreamID(value) != nil) == valid)
    }

    @Test("RFC 3339 timestamps keep the device's offset")
    func timestamps() throws {
        let t = try Timestamp(parsing: "2026-11-20T08:15:01.250+08:00")
        #expect(t.offsetMinutes == 480)
        #expect(abs(t.secondsSince1970 - 1_795_133_701.25) < 0.0005)
        #expect(try Timestamp(parsing: "2026-11-20T00:15:01.25Z").secondsSince1970 == t.secondsSince1970)
        #expect(try Timestamp(parsing: "1970-01-01T00:00:00Z").secondsSince1970 == 0)
        #expect(try Timestamp(parsing: "2024-02-29t23:59:59-05:30").offsetMinutes == -330)
        for bad in ["2026-11-20T08:15:01", "2026-11-20", "2026-13-01T00:00:00Z", "2025-02-29T00:00:00Z", "2026-11-20T24:00:00Z",
                    "2026-11-20T08:15:01+8:00", "2026-11-20T08:15:01.Z", "2026-11-20T08:15:01Zjunk", "not a time"] {
            #expect(throws: ProtocolError.invalidTimestamp("")) { try Timestamp(parsing: bad) }
        }
        let now = Timestamp(date: Date(timeIntervalSince1970: 1_795_133_701.25))
        #expect(now.text == "2026-11-20T00:15:01.250Z")
        #expect(try Timestamp(parsing: now.text).secondsSince1970 == 1_795_133_701.25)
    }

    @Test("viewer options are range-checked")
    func options() throws {
        #expect(throws: ProtocolError.invalidMessage("")) { try ViewerOptions(maxWidth: 4).validate() }
        try ViewerOptions(maxWidth: 640).validate()
    }
}
