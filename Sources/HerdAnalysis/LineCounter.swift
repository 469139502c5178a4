import HerdProtocol

/// Counts confirmed tracks across counting lines, on each track's side history: a crossing is the
/// side flipping and then holding for `holdFrames` frames in a row, so a box jittering on the line
/// never counts twice, and a pig that turns back on the line counts in and out (net zero). Points
/// within `deadband` pixels of the line keep the side they had.
///
/// A pig whose track is lost (hidden behind a post, split in two for a few frames) often comes back
/// under a new track id. A new track that first appears within `handoverRadius` box sizes of where a
/// track now coasting, or ended in the last `handoverFrames` frames, was last seen takes over that
/// track's side (the nearest one, once): so the pig that went behind the post on the out side and
/// reappears on the in side still counts, once.
///
/// One pig seen as two boxes (a fragment of it, its legs, a part cut off by a post) must not count
/// twice: a crossing whose track's box lies at least `duplicateOverlap` inside (of the smaller box)
/// the box of a track that crossed the same line the same way in the last `duplicateFrames` frames
/// is that pig again, and is not counted.
///
/// Two pigs close together are often one box for a while, followed by one track. When the box splits,
/// the pig that leaves it gets a new track, perhaps already past the line it crossed inside the box. A
/// new track whose box lies at least `splitOverlap` (of its area) inside the box a live track had in
/// the last few frames, while that track's box shrank, split off from it: it takes that track's side,
/// so its crossing counts (on the frame where it is first seen on the new side).
///
/// A pig that walks into another's box and stays hidden in it (one overtaking another) loses its
/// track, which coasts on its motion. When the box that hides it crosses a line, a coasting track whose
/// predicted box lies at least `occludedOverlap` (of its area) inside that box, that was apart from it
/// (less than `occludedOverlap` inside it) when last seen, and that is still established on the side
/// the box left, crossed with it: it counts too, on the same frame. A fragment of a pig, lost inside
/// its own pig's box, was never apart from it and does not count. Should the hidden pig come out on the
/// side it started from after all, its track crosses back and the count is corrected.
///
/// Net counts per line are `in − out`. After a restart the totals are rebuilt from the recorded
/// crossings (`restore`); tracks begin afresh.
public struct LineCounter: Sendable {
    public struct Parameters: Sendable, Hashable, Codable {
        public var holdFrames = 3
        public var deadband = 4.0
        /// How far (in sizes of the new box) a new track may be from where a lost one was last seen.
        public var handoverRadius = 1.0
        /// How long an ended track's side may still be handed over.
        public var handoverFrames = 15
        /// How much of the smaller box must overlap a recent crossing's box for the same pig.
        public var duplicateOverlap = 0.3
        /// How recent (frames) a crossing must be to make another a duplicate.
        public var duplicateFrames = 10
        /// How much of a new track's box must lie inside a live track's recent box for a split (0: off).
        public var splitOverlap = 0.5
        /// How much of a coasting track's box must lie inside a crossing box to cross with it (0: off).
        public var occludedOverlap = 0.5
        public init() {}
    }

    public let lines: [CountingLine]
    public var parameters: Parameters
    /// Per line: crossings in and out so far.
    public private(set) var totals: [String: (in: Int, out: Int)] = [:]

    private struct Side {
        /// The side the track is established on (+1 the in side, −1 the out side).
        var established: Int
        /// A side it has moved to, not yet held long enough, with the frames held and the first seq.
        var candidate: Int?
        var held = 0
        var since: UInt64 = 0
    }

    private var sides: [Key: Side] = [:]
    /// Crossings decided lately (for duplicates): line, track, direction, when.
    private var recent: [(line: Int, track: Int, direction: Crossing.Direction, seq: UInt64)] = []
    /// Where each track was last matched, and in which frame.
    private var lastSeen: [Int: (centre: PixelPoint, seq: UInt64)] = [:]
    /// Each matched track's boxes of the last `splitWindow` frames (for splits).
    private var history: [Int: [(seq: UInt64, rect: PixelRect)]] = [:]
    /// For each track, how much of its box lay inside each other matched track's box (by id) in the
    /// frame it was last matched (for pigs hidden by another).
    private var insideWhenLastMatched: [Int: [Int: Double]] = [:]
    /// Frames a split may be looked for after it happened: a new track is confirmed, and so first
    /// seen here, a few frames after its box left the other's.
    static let splitWindow: UInt64 = 6
    /// A split leaves the old track's box at most this fraction of the area it had in the earlier frame
    /// (a pig that leaves a two-pig box takes much of it along; on the busy ramp one of 20,700 px² was 8,900 px² three frames later).
    static let splitShrink = 0.85

    private struct Key: Hashable {
        var line: Int
        var track: Int
    }

    public init(lines: [CountingLine], parameters: Parameters = Parameters()) {
        self.lines = lines
        self.parameters = parameters
        for line in lines { totals[line.id] = (0, 0) }
    }

    /// `in − out` on `line`.
    public func net(_ line: String) -> Int { totals[line].map { $0.in - $0.out } ?? 0 }

    /// Rebuilds the totals from recorded crossings (after a restart mid-loading).
    public mutating func restore(_ crossings: [Crossing]) {
        for line in lines { totals[line.id] = (0, 0) }
        for c in crossings { count(c) }
    }

    /// Adds recorded crossings to the totals so far.
    public mutating func add(_ crossings: [Crossing]) {
        for c in crossings { count(c) }
    }

    /// Carries totals over (a reconfiguration): lines that keep their id keep their counts.
    public mutating func restore(totals: [String: (in: Int, out: Int)]) {
        for line in lines { if let t = totals[line.id] { self.totals[line.id] = t } }
    }

    private mutating func count(_ c: Crossing) {
        var t = totals[c.line] ?? (0, 0)
        if c.direction == .in { t.in += 1 } else { t.out += 1 }
        totals[c.line] = t
    }

    /// One frame's tracks (only confirmed, matched tracks take part; coasting ones keep their state);
    /// returns the crossings decided in it.
    public mutating func update(seq: UInt64, tracks: [Tracker.Track]) -> [Crossing] {
        var crossings: [Crossing] = []
        var live = Set<Int>()
        let matchedNow = Set(tracks.filter(\.matched).compactMap(\.id))
        if parameters.occludedOverlap > 0 {
            let visible = tracks.filter { $0.matched && $0.id != nil }
            for a in visible {
                var inside: [Int: Double] = [:]
                for b in visible where b.id != a.id {
                    let fraction = Self.fraction(of: a.rect, inside: b.rect)
                    if fraction > 0 { inside[b.id!] = fraction }
                }
                insideWhenLastMatched[a.id!] = inside
            }
        }
        for track in tracks {
            guard let id = track.id else { continue }
            live.insert(id)
            guard track.matched else { continue }
            let centre = PixelPoint(x: track.rect.x + track.rect.width / 2, y: track.rect.y + track.rect.height / 2)
            for (index, line) in lines.enumerated() {
                let (distance, within) = line.side(of: centre)
                let key = Key(line: index, track: id)
                guard abs(distance) > parameters.deadband else { continue }
                let side = distance > 0 ? 1 : -1
                guard var state = sides[key] ?? handover(line: index, to: centre, size: max(track.rect.width, track.rect.height), seq: seq, matched: matchedNow)
                    ?? splitSide(line: index, track: id, rect: track.rect, seq: seq, tracks: tracks)
                else {
                    sides[key] = Side(established: side)
                    continue
                }
                if side == state.established {
                    state.candidate = nil
                    state.held = 0
                } else if state.candidate == side {
                    state.held += 1
                } else {
                    state.candidate = side
                    state.held = 1
                    state.since = seq
                }
                if let candidate = state.candidate, state.held >= parameters.holdFrames {
                    let direction: Crossing.Direction = candidate > 0 ? .in : .out
                    if within && !isDuplicate(line: index, track: track, direction: direction, seq: seq, tracks: tracks) {
                        let crossing = Crossing(line: line.id, trackId: id, direction: direction, seq: state.since)
                        count(crossing)
                        crossings.append(crossing)
                        recent.append((index, id, direction, seq))
                        crossings += hiddenCrossings(line: index, host: track, left: state.established, direction: direction, seq: state.since, tracks: tracks)
                    }
                    state = Side(established: candidate)
                }
                sides[key] = state
            }
            lastSeen[id] = (centre, seq)
            history[id, default: []].append((seq, track.rect))
        }
        recent.removeAll { seq - min(seq, $0.seq) > UInt64(max(0, parameters.duplicateFrames)) }
        // Sides of ended tracks stay a while, for a handover; then they go.
        let horizon = UInt64(max(0, parameters.handoverFrames))
        lastSeen = lastSeen.filter { live.contains($0.key) || seq - min(seq, $0.value.seq) <= horizon }
        sides = sides.filter { lastSeen[$0.key.track] != nil }
        insideWhenLastMatched = insideWhenLastMatched.filter { lastSeen[$0.key] != nil }
        history = history.compactMapValues { boxes in
            let kept = boxes.filter { seq - min(seq, $0.seq) < Self.splitWindow }
            return kept.isEmpty ? nil : kept
        }
        return crossings
    }

    /// The side of the live, matched track that `track` (new on `line`) split off from: the one whose
    /// box of an earlier frame in the window holds the most of `rect` (at least `splitOverlap` of it),
    /// and whose box now is smaller than it was then. Nil when there is none.
    private func splitSide(line: Int, track: Int, rect: PixelRect, seq: UInt64, tracks: [Tracker.Track]) -> Side? {
        guard parameters.splitOverlap > 0, rect.width > 0, rect.height > 0 else { return nil }
        var best: (side: Int, inside: Double)?
        for other in tracks where other.matched && other.id != nil && other.id != track {
            guard let parent = other.id, let side = sides[Key(line: line, track: parent)]?.established, let boxes = history[parent] else { continue }
            let now = other.rect.width * other.rect.height
            for box in boxes where box.seq < seq && now < Self.splitShrink * box.rect.width * box.rect.height {
                let inside = Self.fraction(of: rect, inside: box.rect)
                if inside >= parameters.splitOverlap, inside > (best?.inside ?? 0) { best = (side, inside) }
            }
        }
        return best.map { Side(established: $0.side) }
    }

    /// The coasting tracks that crossed `line` hidden in `host`'s box, as it crossed from side `left`
    /// (see the type's notes); each counts, dated `seq` as the host's crossing is, and is established
    /// on the new side.
    private mutating func hiddenCrossings(
        line index: Int, host: Tracker.Track, left: Int, direction: Crossing.Direction, seq: UInt64, tracks: [Tracker.Track]
    ) -> [Crossing] {
        guard parameters.occludedOverlap > 0, let hostID = host.id else { return [] }
        var found: [Crossing] = []
        for lost in tracks where !lost.matched {
            guard let id = lost.id, id != hostID, let side = sides[Key(line: index, track: id)], side.established == left,
                Self.fraction(of: lost.rect, inside: host.rect) >= parameters.occludedOverlap,
                (insideWhenLastMatched[id]?[hostID] ?? 0) < parameters.occludedOverlap
            else { continue }
            let crossing = Crossing(line: lines[index].id, trackId: id, direction: direction, seq: seq)
            count(crossing)
            found.append(crossing)
            sides[Key(line: index, track: id)] = Side(established: -left)
        }
        return found
    }

    /// How much of `a`'s area lies inside `b` (0…1).
    static func fraction(of a: PixelRect, inside b: PixelRect) -> Double {
        guard a.width > 0, a.height > 0 else { return 0 }
        let w = min(a.x + a.width, b.x + b.width) - max(a.x, b.x)
        let h = min(a.y + a.height, b.y + b.height) - max(a.y, b.y)
        return w > 0 && h > 0 ? w * h / (a.width * a.height) : 0
    }

    /// Whether `track`'s box overlaps (by `duplicateOverlap` of the smaller box) the box, in this frame,
    /// of another track that lately crossed `line` the same way.
    private func isDuplicate(line: Int, track: Tracker.Track, direction: Crossing.Direction, seq: UInt64, tracks: [Tracker.Track]) -> Bool {
        recent.contains { earlier in
            guard earlier.line == line, earlier.direction == direction, earlier.track != track.id,
                let other = tracks.first(where: { $0.id == earlier.track })
            else { return false }
            let a = track.rect, b = other.rect
            let w = min(a.x + a.width, b.x + b.width) - max(a.x, b.x)
            let h = min(a.y + a.height, b.y + b.height) - max(a.y, b.y)
            guard w > 0, h > 0 else { return false }
            return w * h >= parameters.duplicateOverlap * min(a.width * a.height, b.width * b.height)
        }
    }

    /// The side of the nearest lost track (coasting, or ended lately) last seen near `centre`, taken
    /// from it: a track is handed over once.
    private mutating func handover(line: Int, to centre: PixelPoint, size: Double, seq: UInt64, matched: Set<Int>) -> Side? {
        let radius = parameters.handoverRadius * size
        var best: (track: Int, distance: Double)?
        for (key, _) in sides where key.line == line && !matched.contains(key.track) {
            guard let seen = lastSeen[key.track], seen.seq < seq else { continue }
            let d = ((seen.centre.x - centre.x) * (seen.centre.x - centre.x) + (seen.centre.y - centre.y) * (seen.centre.y - centre.y)).squareRoot()
            if d <= radius, d < (best?.distance ?? .infinity) { best = (key.track, d) }
        }
        guard let best else { return nil }
        let key = Key(line: line, track: best.track)
        defer { sides[key] = nil }
        // The new track starts from the side the lost one had established (a flip in progress is not carried).
        return sides[key].map { Side(established: $0.established) }
    }
}
