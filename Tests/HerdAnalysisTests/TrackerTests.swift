import HerdAnalysis
import HerdProtocol
import Testing

@Suite("Tracker, counting lines and zones")
struct TrackerTests {
    static func box(_ cx: Double, _ cy: Double, confidence: Double = 0.9, w: Double = 60, h: Double = 120) -> Detection {
        Detection(rect: PixelRect(x: cx - w / 2, y: cy - h / 2, width: w, height: h), confidence: confidence, source: .detector)
    }

    /// A small deterministic jitter (no randomness in tests).
    static func jitter(_ frame: Int, _ k: Int) -> Double { Double(((frame * 7 + k * 13) % 5) - 2) }

    @Test("three pigs walking with box jitter keep three stable ids; tracks get an id only once confirmed; a one-frame spurious box never does")
    func stableIDs() {
        var tracker = Tracker()
        var idsOf: [Int: Set<Int>] = [:]
        for f in 0..<40 {
            var boxes = (0..<3).map { k in Self.box(100 + Double(f) * 5 + Self.jitter(f, k), 150 + Double(k) * 200 + Self.jitter(f, k + 3)) }
            if f == 20 { boxes.append(Self.box(900, 600)) }  // spurious, one frame
            let tracks = tracker.update(boxes)
            if f < 2 { #expect(tracks.allSatisfy { $0.id == nil }, "frame \(f): \(tracks)") }
            for t in tracks {
                guard let id = t.id else { continue }
                let lane = Int(((t.rect.y + t.rect.height / 2 - 150) / 200).rounded())
                idsOf[lane, default: []].insert(id)
            }
        }
        #expect(idsOf.count == 3 && idsOf.values.allSatisfy { $0.count == 1 }, "\(idsOf)")
        #expect(Set(idsOf.values.flatMap { $0 }) == [1, 2, 3])
        #expect(tracker.upcomingID == 4)
    }

    @Test("two stages: a pig whose box turns weak (half hidden) stays matched to its track; weak boxes alone never start one")
    func twoStages() {
        func run(secondStage: Bool) -> (weakMatched: Int, weakOnlyTracks: Int, id: Set<Int>) {
            var parameters = Tracker.Parameters()
            if !secondStage { parameters.secondStageIoU = 1.1 }
            var tracker = Tracker(parameters: parameters)
            var weakMatched = 0, weakOnly = 0
            var ids = Set<Int>()
            for f in 0..<30 {
                let weak = (10..<16).contains(f)
                var boxes = [Self.box(100 + Double(f) * 4, 300, confidence: weak ? 0.3 : 0.9)]
                boxes.append(Self.box(800, 100 + Double(f) * 3, confidence: 0.3))  // a weak box that never gets strong
                let tracks = tracker.update(boxes)
                for t in tracks {
                    if t.rect.x < 600 {
                        if let id = t.id { ids.insert(id) }
                        if weak && t.matched { weakMatched += 1 }
                    } else {
                        weakOnly += 1
                    }
                }
            }
            return (weakMatched, weakOnly, ids)
        }
        let with = run(secondStage: true)
        #expect(with.weakMatched == 6 && with.weakOnlyTracks == 0 && with.id == [1], "\(with)")
        let without = run(secondStage: false)
        #expect(without.weakMatched == 0, "\(without)")
    }

    @Test("a pig hidden for six frames is found again on its motion with the same id")
    func occlusion() {
        var tracker = Tracker()
        var ids = Set<Int>()
        for f in 0..<40 {
            let hidden = (20..<26).contains(f)
            let tracks = tracker.update(hidden ? [] : [Self.box(100 + Double(f) * 6, 300)])
            ids.formUnion(tracks.compactMap(\.id))
            if hidden { #expect(tracks.count == 1 && tracks[0].matched == false) }
        }
        #expect(ids == [1])
    }

    /// Frames of one pig whose centre x follows `xs`, through tracker and counter; the crossings.
    static func count(_ xs: [Double], line: CountingLine = CountingLine(id: "ramp", from: PixelPoint(x: 500, y: 720), to: PixelPoint(x: 500, y: 0)))
        -> (crossings: [Crossing], counter: LineCounter, boxes: [UInt64: PixelRect])
    {
        var tracker = Tracker()
        var counter = LineCounter(lines: [line])
        var crossings: [Crossing] = []
        var boxes: [UInt64: PixelRect] = [:]
        for (f, x) in xs.enumerated() {
            let seq = UInt64(f + 1)
            let tracks = tracker.update([Self.box(x, 360)])
            boxes[seq] = tracks.first?.rect
            crossings += counter.update(seq: seq, tracks: tracks)
        }
        return (crossings, counter, boxes)
    }

    @Test("a pig walking across the line counts once, in, at a frame where its box is on the line")
    func crossingOnce() {
        let line = CountingLine(id: "ramp", from: PixelPoint(x: 500, y: 720), to: PixelPoint(x: 500, y: 0))
        let run = Self.count((0..<60).map { 300 + Double($0) * 8 }, line: line)
        #expect(run.crossings.count == 1 && run.crossings.first?.direction == .in && run.crossings.first?.trackId == 1, "\(run.crossings)")
        if let c = run.crossings.first, let rect = run.boxes[c.seq] { #expect(line.touches(rect), "\(c) \(rect)") }
        #expect(run.counter.net("ramp") == 1)
        let back = Self.count((0..<60).map { 780 - Double($0) * 8 }, line: line)
        #expect(back.crossings.map(\.direction) == [.out] && back.counter.net("ramp") == -1)
    }

    @Test("jitter on the line never counts; a pig that turns back on the line counts in and out, net zero")
    func jitterAndTurnBack() {
        // Standing on the line, its box centre wobbling 10 px either side every other frame.
        var wobble = (0..<10).map { 400 + Double($0) * 10 }
        wobble += (0..<40).map { $0 % 2 == 0 ? 490 : 510 }
        #expect(Self.count(wobble).crossings.isEmpty)
        // Over the line, five frames beyond, and back.
        var turn = (0..<20).map { 400 + Double($0) * 8 }  // to 552
        turn += Array(repeating: 552, count: 5)
        turn += (0..<20).map { 552 - Double($0) * 8 }  // back to 400
        let run = Self.count(turn)
        #expect(run.crossings.map(\.direction) == [.in, .out] && run.counter.net("ramp") == 0, "\(run.crossings)")
    }

    /// Confirmed, matched tracks as the counter sees them.
    static func tracks(_ boxes: [(id: Int, x: Double, y: Double, w: Double, h: Double)]) -> [Tracker.Track] {
        boxes.map { Tracker.Track(id: $0.id, rect: PixelRect(x: $0.x - $0.w / 2, y: $0.y - $0.h / 2, width: $0.w, height: $0.h), confidence: 0.9, matched: true) }
    }

    @Test("one pig seen as two boxes counts once (a fragment inside its box crossing just after it); two pigs side by side count twice")
    func duplicates() {
        let line = CountingLine(id: "ramp", from: PixelPoint(x: 500, y: 720), to: PixelPoint(x: 500, y: 0))
        var fragment = LineCounter(lines: [line])
        var sideBySide = LineCounter(lines: [line])
        for f in 0..<40 {
            let x = 400 + Double(f) * 8
            // A pig (120x60) and a piece of it (40x30, in its lower back corner) that lags 16 px behind.
            _ = fragment.update(seq: UInt64(f + 1), tracks: Self.tracks([(1, x, 300, 120, 60), (2, x - 16, 315, 40, 30)]))
            // Two pigs walking abreast, their boxes apart.
            _ = sideBySide.update(seq: UInt64(f + 1), tracks: Self.tracks([(1, x, 300, 120, 60), (2, x - 16, 380, 120, 60)]))
        }
        #expect(fragment.net("ramp") == 1 && sideBySide.net("ramp") == 2, "\(fragment.totals) \(sideBySide.totals)")
        // With the check off, the fragment counts.
        var parameters = LineCounter.Parameters()
        parameters.duplicateOverlap = 2
        var unchecked = LineCounter(lines: [line], parameters: parameters)
        for f in 0..<40 {
            let x = 400 + Double(f) * 8
            _ = unchecked.update(seq: UInt64(f + 1), tracks: Self.tracks([(1, x, 300, 120, 60), (2, x - 16, 315, 40, 30)]))
        }
        #expect(unchecked.net("ramp") == 2)
    }

    @Test("a pig lost just before the line that comes back just past it under a new track id counts once, in; a new pig far away takes nothing")
    func handover() {
        let line = CountingLine(id: "ramp", from: PixelPoint(x: 500, y: 720), to: PixelPoint(x: 500, y: 0))
        var counter = LineCounter(lines: [line])
        var crossings: [Crossing] = []
        var seq: UInt64 = 0
        // Track 1 walks up to x 480 (the out side), then is hidden (coasting, unmatched) for 4 frames.
        for x in stride(from: 300.0, through: 480, by: 10) {
            seq += 1
            crossings += counter.update(seq: seq, tracks: Self.tracks([(1, x, 300, 100, 60)]))
        }
        for _ in 0..<4 {
            seq += 1
            crossings += counter.update(seq: seq, tracks: [Tracker.Track(id: 1, rect: PixelRect(x: 440, y: 270, width: 100, height: 60), confidence: 0.9, matched: false)])
        }
        // It comes back at x 530 (the in side) as track 2, and walks on; a pig at the far end appears as track 3.
        for x in stride(from: 530.0, through: 650, by: 10) {
            seq += 1
            crossings += counter.update(seq: seq, tracks: Self.tracks([(2, x, 300, 100, 60), (3, 900, 300, 100, 60)]))
        }
        #expect(crossings.map(\.direction) == [.in] && crossings.first?.trackId == 2, "\(crossings)")
        // Without the handover, the pig is lost to the count.
        var parameters = LineCounter.Parameters()
        parameters.handoverRadius = 0
        var plain = LineCounter(lines: [line], parameters: parameters)
        seq = 0
        for x in stride(from: 300.0, through: 480, by: 10) { seq += 1; _ = plain.update(seq: seq, tracks: Self.tracks([(1, x, 300, 100, 60)])) }
        for x in stride(from: 530.0, through: 650, by: 10) { seq += 1; _ = plain.update(seq: seq, tracks: Self.tracks([(2, x, 300, 100, 60)])) }
        #expect(plain.net("ramp") == 0)
    }

    @Test("two pigs in one box: the one that leaves it already past the line counts, on the frame it is first seen; without the split rule it is lost")
    func splitOffPastTheLine() {
        let line = CountingLine(id: "ramp", from: PixelPoint(x: 500, y: 720), to: PixelPoint(x: 500, y: 0))
        func run(_ parameters: LineCounter.Parameters) -> [Crossing] {
            var counter = LineCounter(lines: [line], parameters: parameters)
            var crossings: [Crossing] = []
            var seq: UInt64 = 0
            // One box (220 wide) over two pigs walking together, its centre still on the out side.
            for x in stride(from: 300.0, through: 470, by: 10) {
                seq += 1
                crossings += counter.update(seq: seq, tracks: Self.tracks([(1, x, 300, 220, 60)]))
            }
            // The box splits: track 1 keeps the pig behind (out side); the pig ahead, its box inside the
            // old one and past the line, is track 2. A pig far away (track 3) appears at the same time.
            for step in 0..<12 {
                seq += 1
                let dx = Double(step) * 10
                crossings += counter.update(seq: seq, tracks: Self.tracks([(1, 420 + dx, 300, 100, 60), (2, 540 + dx, 300, 100, 60), (3, 900, 100, 100, 60)]))
            }
            return crossings
        }
        let crossings = run(LineCounter.Parameters())
        #expect(crossings.map(\.trackId) == [2, 1] && crossings.allSatisfy { $0.direction == .in }, "\(crossings)")
        // Track 2 is first seen on the in side at frame 19 (where its box, 490...590, is on the line).
        #expect(crossings.first?.seq == 19, "\(crossings)")
        var off = LineCounter.Parameters()
        off.splitOverlap = 0
        #expect(run(off).map(\.trackId) == [1])
    }

    @Test("a pig hidden in another's box as it crosses counts with it, on the same frame; a fragment lost inside its own pig's box does not; without the rule the hidden pig is lost")
    func hiddenInACrossingBox() {
        let line = CountingLine(id: "ramp", from: PixelPoint(x: 500, y: 720), to: PixelPoint(x: 500, y: 0))
        func track(_ id: Int, _ x: Double, w: Double = 100, matched: Bool = true) -> Tracker.Track {
            Tracker.Track(id: id, rect: PixelRect(x: x - w / 2, y: 270, width: w, height: 60), confidence: 0.9, matched: matched)
        }
        /// Track 1 walks up to the line; track 2 walks beside it (apart: `startGap` px between centres), is
        /// hidden in 1's box from frame 8 on and coasts there while 1's box, now over both, crosses.
        func run(_ parameters: LineCounter.Parameters, startGap: Double) -> [Crossing] {
            var counter = LineCounter(lines: [line], parameters: parameters)
            var crossings: [Crossing] = []
            var seq: UInt64 = 0
            for step in 0..<8 {
                seq += 1
                let x = 300 + Double(step) * 10
                crossings += counter.update(seq: seq, tracks: [track(1, x), track(2, x + startGap)])
            }
            for step in 8..<30 {
                seq += 1
                let x = 300 + Double(step) * 10
                crossings += counter.update(seq: seq, tracks: [track(1, x + 30, w: 160), track(2, x + 40, matched: false)])
            }
            return crossings
        }
        let crossings = run(LineCounter.Parameters(), startGap: 80)
        #expect(crossings.map(\.trackId) == [1, 2] && crossings.allSatisfy { $0.direction == .in }, "\(crossings)")
        #expect(crossings.count == 2 && crossings[0].seq == crossings[1].seq, "\(crossings)")
        // A fragment: inside track 1's box (20 px between centres) while it was still seen.
        #expect(run(LineCounter.Parameters(), startGap: 20).map(\.trackId) == [1])
        var off = LineCounter.Parameters()
        off.occludedOverlap = 0
        #expect(run(off, startGap: 80).map(\.trackId) == [1])
    }

    @Test("a coasting track keeps its box's size (a shrinking box once reached 1x1 in a few frames)")
    func coastingSize() {
        var tracker = Tracker()
        // A box shrinking while tracked, then lost for 20 frames.
        for f in 0..<10 { _ = tracker.update([Self.box(100 + Double(f) * 6, 300, w: 80 - Double(f) * 2, h: 120 - Double(f) * 3)]) }
        var last: Tracker.Track?
        for _ in 0..<20 { last = tracker.update([]).first }
        let rect = try! #require(last?.rect)
        #expect(rect.width > 40 && rect.height > 60, "\(rect)")
    }

    @Test("a crossing beyond the segment's ends does not count; totals are rebuilt from recorded crossings after a restart")
    func extentAndRestore() {
        let short = CountingLine(id: "gate", from: PixelPoint(x: 500, y: 720), to: PixelPoint(x: 500, y: 500))
        #expect(Self.count((0..<60).map { 300 + Double($0) * 8 }, line: short).crossings.isEmpty)  // walks past at y 360
        var counter = LineCounter(lines: [short])
        counter.restore([
            Crossing(line: "gate", trackId: 3, direction: .in, seq: 10), Crossing(line: "gate", trackId: 4, direction: .in, seq: 20),
            Crossing(line: "gate", trackId: 3, direction: .out, seq: 30),
        ])
        #expect(counter.net("gate") == 1 && counter.totals["gate"]?.in == 2 && counter.totals["gate"]?.out == 1)
    }

    @Test("zones: even-odd containment and occupancy counts confirmed tracks only")
    func zones() {
        let pen = Zone(id: "pen", points: [PixelPoint(x: 0, y: 0), PixelPoint(x: 400, y: 0), PixelPoint(x: 400, y: 400), PixelPoint(x: 0, y: 400)], maxOccupancy: 15)
        #expect(pen.contains(PixelPoint(x: 200, y: 200)) && !pen.contains(PixelPoint(x: 500, y: 200)))
        let tracks = [
            Tracker.Track(id: 1, rect: PixelRect(x: 100, y: 100, width: 50, height: 50), confidence: 0.9, matched: true),
            Tracker.Track(id: nil, rect: PixelRect(x: 200, y: 100, width: 50, height: 50), confidence: 0.9, matched: true),
            Tracker.Track(id: 2, rect: PixelRect(x: 600, y: 100, width: 50, height: 50), confidence: 0.9, matched: true),
        ]
        #expect(pen.occupancy(tracks) == 1)
    }
}

@Suite("Track evaluation")
struct TrackEvaluationTests {
    /// A truth of two pigs crossing a vertical line, one of them turning back.
    static func truth() -> SequenceTruth {
        let line = CountingLine(id: "ramp", from: PixelPoint(x: 400, y: 360), to: PixelPoint(x: 400, y: 0))
        var a: [SequenceTruth.Box] = [], b: [SequenceTruth.Box] = []
        for f in 0..<80 {
            a.append(.init(frame: f, rect: PixelRect(x: Double(f) * 10 - 40, y: 100, width: 120, height: 50)))
            let x = f < 45 ? Double(f) * 10 : Double(90 - f) * 10
            b.append(.init(frame: f, rect: PixelRect(x: x - 60, y: 250, width: 120, height: 50)))
        }
        return SequenceTruth(
            name: "t", summary: "", width: 640, height: 360, framesPerSecond: 10, frames: [], line: line,
            pigs: [.init(id: 1, boxes: a), .init(id: 2, boxes: b)],
            crossings: [Crossing(line: "ramp", trackId: 1, direction: .in, seq: 45), Crossing(line: "ramp", trackId: 2, direction: .in, seq: 42), Crossing(line: "ramp", trackId: 2, direction: .out, seq: 51)])
    }

    @Test("perfect detections: exact count, no id switches, every crossing on the line; a dropped pig in the middle costs an id switch or the count")
    func scoring() {
        let truth = Self.truth()
        let perfect = (0..<80).map { f in truth.pigs.map { Detection(rect: $0.boxes[f].rect, confidence: 0.9, source: .detector) } }
        let result = TrackEvaluation().run(truth, detections: perfect)
        #expect(result.trueNet == 1 && result.countedNet == 1 && result.exact && result.idSwitches == 0, "\(result)")
        #expect(result.crossings.count == 3 && result.crossingsOnLine == 3, "\(result)")
        // Pig 1 unseen for 40 frames around the line: its track ends, a new one starts past the line.
        let gappy = perfect.enumerated().map { f, d in (20..<60).contains(f) ? [d[1]] : d }
        let worse = TrackEvaluation().run(truth, detections: gappy)
        #expect(!worse.exact || worse.idSwitches > 0, "\(worse)")
    }
}
