import Foundation
import HerdAnalysis
import HerdImaging
import HerdProtocol
import Testing

@Suite("Sensor rules, frame-integrity checks and alerts")
struct RulesTests {
    static func sensors(t: Double? = nil, rh: Double? = nil, seal: Sensors.Seal.State? = nil, gps: (Double, Double)? = nil) -> Sensors {
        var s = Sensors()
        if t != nil || rh != nil { s.truck = Sensors.Truck(temperatureC: t, humidityPct: rh) }
        if let seal { s.seal = Sensors.Seal(id: "EL-1", state: seal) }
        if let gps { s.gps = Sensors.GPS(lat: gps.0, lon: gps.1) }
        return s
    }

    static func rules(_ found: [RuleFinding]) -> [String] { found.map(\.rule).sorted() }

    @Test("THI = 0.8·T + RH·(T − 14.4) + 46.4 with alert 75, danger 79, emergency 84; temperature outside 5…30 °C")
    func heat() {
        #expect(abs(SensorRules.thi(temperatureC: 30, humidityPct: 50)! - (24 + 0.5 * 15.6 + 46.4)) < 1e-9)
        let rules = SensorRules()
        func level(_ t: Double, _ rh: Double) -> String? {
            rules.evaluate(Self.sensors(t: t, rh: rh), sealed: false, stoppedFor: nil).first { $0.rule == "thi.heat" }?.values["level"]
        }
        #expect(level(20, 50) == nil)  // THI 65.2
        #expect(level(26, 60) == nil)  // 20.8 + 6.96 + 46.4 = 74.16, just under
        #expect(level(27, 70) == "alert")  // 21.6 + 8.82 + 46.4 = 76.8
        #expect(level(29, 80) == "danger")  // 23.2 + 11.68 + 46.4 = 81.3
        #expect(level(33, 90) == "emergency")  // 26.4 + 16.74 + 46.4 = 89.5
        let hot = rules.evaluate(Self.sensors(t: 33, rh: 90), sealed: false, stoppedFor: nil)
        #expect(hot.first { $0.rule == "thi.heat" }?.severity == .critical)
        #expect(Self.rules(hot) == ["temperature.high", "thi.heat"])
        #expect(Self.rules(rules.evaluate(Self.sensors(t: 4), sealed: false, stoppedFor: nil)) == ["temperature.low"])
        #expect(rules.evaluate(Self.sensors(t: 5), sealed: false, stoppedFor: nil).isEmpty)
        let message = hot.first { $0.rule == "temperature.high" }!.message
        #expect(message.en.contains("33.0") && message.zhHans.contains("车厢") && message.zhHant.contains("車廂"))
    }

    @Test("seal open, tampered or cut counts only after the seal event; geofence, route and stop rules")
    func sealAndRoute() {
        let rules = SensorRules()
        #expect(rules.evaluate(Self.sensors(seal: .open), sealed: false, stoppedFor: nil).isEmpty)  // loading: open is expected
        for state in [Sensors.Seal.State.open, .tampered, .cut] {
            let found = rules.evaluate(Self.sensors(seal: state), sealed: true, stoppedFor: nil)
            #expect(found.map(\.rule) == ["seal.\(state.rawValue)"] && found[0].severity == .critical && found[0].subject == "EL-1")
        }
        #expect(rules.evaluate(Self.sensors(seal: .locked), sealed: true, stoppedFor: nil).isEmpty)
        var fenced = SensorRules()
        fenced.geofence = [GeoPoint(lat: 22.0, lon: 114.0), GeoPoint(lat: 22.0, lon: 114.2), GeoPoint(lat: 22.2, lon: 114.2), GeoPoint(lat: 22.2, lon: 114.0)]
        fenced.route = [GeoPoint(lat: 22.05, lon: 114.05), GeoPoint(lat: 22.15, lon: 114.05)]
        #expect(fenced.evaluate(Self.sensors(gps: (22.1, 114.05)), sealed: true, stoppedFor: nil).isEmpty)
        // 0.01° of longitude at 22° N is about 1,031 m off the route, inside the fence.
        #expect(Self.rules(fenced.evaluate(Self.sensors(gps: (22.1, 114.06)), sealed: true, stoppedFor: nil)) == ["gps.offRoute"])
        #expect(Self.rules(fenced.evaluate(Self.sensors(gps: (22.3, 114.05)), sealed: true, stoppedFor: nil)) == ["gps.geofence", "gps.offRoute"])
        #expect(Self.rules(rules.evaluate(Sensors(), sealed: true, stoppedFor: 1800)) == ["gps.stopped"])
        #expect(rules.evaluate(Sensors(), sealed: false, stoppedFor: 7200).isEmpty)
        var watch = StopWatch(radiusM: 30)
        #expect(watch.update(GeoPoint(lat: 22.1, lon: 114.05), at: 0) == 0)
        #expect(watch.update(GeoPoint(lat: 22.1001, lon: 114.05), at: 600) == 600)  // 11 m: still stopped
        #expect(watch.update(GeoPoint(lat: 22.11, lon: 114.05), at: 700) == 0)  // moved 1.1 km
    }

    static func picture(_ fill: Color, noise: Int = 0, seed: Int = 0) -> FrameSignature {
        var buffer = PixelBuffer(width: 320, height: 180, format: .rgb, fill: fill)
        if noise > 0 {
            var state = UInt64(seed) &* 0x9E37_79B9_7F4A_7C15 | 1  // xorshift64: deterministic noise
            for i in 0..<buffer.bytes.count {
                state ^= state << 13
                state ^= state >> 7
                state ^= state << 17
                let n = Int(state % UInt64(2 * noise + 1)) - noise
                buffer.bytes[i] = UInt8(max(0, min(255, Int(buffer.bytes[i]) + n)))
            }
        }
        return FrameSignature(AnalysisImage(buffer))
    }

    @Test("integrity: frozen picture after 10 s while seq advances, black and blown-out frames, blur against the baseline, seq gaps, clock skew, rate collapse")
    func integrity() {
        var checks = IntegrityChecks()
        let still = Self.picture(Color(red: 90, green: 140, blue: 120), noise: 40, seed: 1)
        var frozenAt: Double?
        for f in 0..<200 {
            let t = Double(f) / 10  // 10 fps
            let found = checks.check(seq: UInt64(f + 1), captured: t, received: t + 0.2, signature: still)
            if frozenAt == nil, found.contains(where: { $0.rule == "frame.frozen" }) { frozenAt = t }
        }
        #expect(frozenAt.map { abs($0 - 10) < 0.15 } ?? false, "\(String(describing: frozenAt))")
        // Moving pictures never freeze; a black one and a white one are named; a gap is named.
        var moving = IntegrityChecks()
        var rules = Set<String>()
        for f in 0..<150 {
            let t = Double(f) / 10
            rules.formUnion(moving.check(seq: UInt64(f + 1), captured: t, received: t + 0.2, signature: Self.picture(Color(red: 90, green: 140, blue: 120), noise: 40, seed: f)).map(\.rule))
        }
        #expect(rules.isEmpty, "\(rules)")
        #expect(moving.check(seq: 151, captured: 15.0, received: 15.2, signature: Self.picture(.black)).map(\.rule).contains("frame.black"))
        #expect(moving.check(seq: 152, captured: 15.1, received: 15.3, signature: Self.picture(.white)).map(\.rule).contains("frame.blownOut"))
        let gap = moving.check(seq: 160, captured: 15.2, received: 15.4, signature: Self.picture(Color(red: 90, green: 140, blue: 120), noise: 40, seed: 999))
        #expect(gap.first { $0.rule == "frame.seqGap" }?.values["missing"] == "7")
        // Blur: a smooth picture after a sharp baseline, five frames in a row.
        var blurred = Set<String>()
        for f in 0..<8 {
            let t = 15.3 + Double(f) / 10
            blurred.formUnion(moving.check(seq: UInt64(161 + f), captured: t, received: t + 0.2, signature: Self.picture(Color(red: 90, green: 140, blue: 120), noise: 3, seed: f)).map(\.rule))
        }
        #expect(blurred.contains("frame.blurred"), "\(blurred)")
        // Skew: every frame 45 s in the future.
        var skewed = IntegrityChecks()
        var skew: [RuleFinding] = []
        for f in 0..<10 { skew += skewed.check(seq: UInt64(f + 1), captured: Double(f) + 45, received: Double(f), signature: nil) }
        #expect(skew.contains { $0.rule == "clock.skew" && $0.values["skewS"] == "+45.0" })
        // Rate: 10 fps for 30 s, then 1 fps.
        var rate = IntegrityChecks()
        var collapsed = false
        var t = 0.0
        for f in 0..<340 {
            t += f < 300 ? 0.1 : 1.0
            let found = rate.check(seq: UInt64(f + 1), captured: t, received: t, signature: nil)
            if f < 300 { #expect(!found.contains { $0.rule == "frame.rateCollapse" }) }
            if found.contains(where: { $0.rule == "frame.rateCollapse" }) { collapsed = true }
        }
        #expect(collapsed)
    }

    static func finding(_ rule: String, _ severity: Severity = .warning) -> RuleFinding {
        RuleFinding(rule: rule, severity: severity, message: LocalizedText(en: rule, zhHans: rule, zhHant: rule))
    }

    @Test("alerts: raised once while a finding persists, escalated, cleared after 10 s without it, the same alert again within a minute, acknowledged by name")
    func lifecycle() {
        final class Counter: @unchecked Sendable { var n = 0 }
        let counter = Counter()
        var book = AlertBook(stream: "farm.cam") { counter.n += 1; return "al-\(counter.n)" }
        var events: [AlertEvent] = []
        for s in 0..<30 { events += book.update([Self.finding("thi.heat")], now: Double(s), timestamp: "t\(s)", session: "s-1", seq: UInt64(s + 1), capturedAt: "c\(s)") }
        #expect(events.map(\.change) == [.raised] && events[0].alert.seq == 1 && events[0].alert.session == "s-1" && events[0].alert.stream == "farm.cam")
        events = book.update([Self.finding("thi.heat", .critical)], now: 30, timestamp: "t30", session: "s-1", seq: 31, capturedAt: nil)
        #expect(events.map(\.change) == [.escalated] && events[0].alert.severity == .critical && events[0].alert.id == "al-1")
        events = []
        for s in 31..<45 { events += book.update([], now: Double(s), timestamp: "t\(s)", session: "s-1", seq: nil, capturedAt: nil) }
        #expect(events.map(\.change) == [.cleared] && events[0].alert.clearedAt == "t40")
        // Back within the quiet minute: the same alert, raised again.
        events = book.update([Self.finding("thi.heat")], now: 60, timestamp: "t60", session: "s-1", seq: 61, capturedAt: nil)
        #expect(events.map(\.change) == [.raised] && events[0].alert.id == "al-1" && events[0].alert.repeats == 1)
        let ack = book.acknowledge(id: "al-1", by: "inspector:chan", at: "t61")
        #expect(ack?.change == .acknowledged && ack?.alert.acknowledged?.by == "inspector:chan")
        #expect(book.acknowledge(id: "al-1", by: "inspector:wong", at: "t62")?.alert.acknowledged?.by == "inspector:chan")
        #expect(book.acknowledge(id: "al-404", by: "x", at: "t") == nil)
        // Flicker: a finding every 5 s for a minute stays one alert.
        var flicker: [AlertEvent] = []
        for s in stride(from: 100, to: 160, by: 1) {
            flicker += book.update(s % 5 == 0 ? [Self.finding("seal.open", .critical)] : [], now: Double(s), timestamp: "t\(s)", session: nil, seq: nil, capturedAt: nil)
        }
        #expect(flicker.filter { $0.alert.rule == "seal.open" }.map(\.change) == [.raised], "\(flicker.map(\.change))")
        #expect(book.raised.first?.rule == "seal.open")
    }

    @Test("silence: no frame for 10 s in an open session raises frame.silent on the clock, never outside a session; the next frame clears it; other alerts are left alone")
    func silence() throws {
        var config = AnalysisConfig()
        config.detector = .none
        var analyzer = StreamAnalyzer(stream: "farm.cam", config: config) { "al-silent" }
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        func frame(_ seq: UInt64, at t: Double, seal: Sensors.Seal.State) -> [AlertEvent] {
            let at = Timestamp(date: start.addingTimeInterval(t))
            return analyzer.frame(StreamAnalyzer.FrameInput(
                seq: seq, capturedAt: at, receivedAt: at, now: t, image: nil, deviceBoxes: [],
                sensors: Self.sensors(seal: seal), session: "s-1", declaredHeadCount: nil)).events
        }
        func tick(at t: Double, session: String? = "s-1") -> [AlertEvent] {
            analyzer.tick(now: t, wallClock: start.timeIntervalSince1970 + t, at: Timestamp(date: start.addingTimeInterval(t)), session: session)
        }
        // Sealed, then opened: a seal alert raised by the frames.
        var events: [AlertEvent] = []
        for s in 0..<20 { events += frame(UInt64(s + 1), at: Double(s) / 10, seal: s < 5 ? .locked : .open) }
        #expect(events.map(\.alert.rule) == ["seal.open"])
        // Frames stop at 1.9 s: nothing until 10 s have passed, then one alert, kept while silence lasts.
        #expect(tick(at: 5).isEmpty && tick(at: 11.8).isEmpty)
        let silent = tick(at: 12)
        #expect(silent.map(\.change) == [.raised] && silent.first?.alert.rule == "frame.silent" && silent.first?.alert.severity == .critical)
        #expect(silent.first?.alert.values["seconds"] == "10" && silent.first?.alert.message.zhHant.contains("未收到畫面") == true)
        var later: [AlertEvent] = []
        for t in stride(from: 13.0, through: 60, by: 1) { later += tick(at: t) }
        #expect(later.isEmpty, "\(later.map(\.change))")
        // The seal alert, found by no tick, is not cleared by them.
        #expect(Set(analyzer.raised.map(\.rule)) == ["seal.open", "frame.silent"])
        // A frame ends the silence at once.
        let back = frame(21, at: 61, seal: .open)
        #expect(back.filter { $0.alert.rule == "frame.silent" }.map(\.change) == [.cleared])
        #expect(analyzer.raised.map(\.rule) == ["seal.open"])
        // Outside a session, silence is no alert.
        #expect(tick(at: 200, session: nil).isEmpty)
    }
}
