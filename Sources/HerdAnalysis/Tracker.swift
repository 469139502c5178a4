import HerdProtocol

/// A multi-object tracker in the manner of ByteTrack: a constant-velocity motion model per track and
/// two-stage association on IoU. Confident boxes are matched first against every track; the tracks
/// left over are then matched against the low-confidence boxes (a pig half hidden by another still
/// keeps its track); only confident boxes start tracks.
///
/// A new track is tentative and carries no id; it is confirmed, and given the next id, after
/// `confirmFrames` consecutive matches. A tentative track that misses a frame is dropped, so a
/// spurious box never counts. A confirmed track that goes unmatched coasts on its motion for up to
/// `maxLostFrames`, then ends. One tracker per stream, fed frames in capture order; not thread-safe.
public struct Tracker: Sendable {
    public struct Parameters: Sendable, Hashable, Codable {
        /// Boxes at or above this confidence take part in the first stage and may start tracks.
        public var highConfidence = 0.5
        /// Boxes below this are ignored entirely.
        public var lowConfidence = 0.1
        /// The least IoU between a track's predicted box and a box for a match, per stage.
        public var firstStageIoU = 0.2
        public var secondStageIoU = 0.4
        public var confirmFrames = 3
        public var maxLostFrames = 30
        public init() {}
    }

    /// A track as reported for one frame.
    public struct Track: Sendable, Hashable {
        /// Stable for the track's life; nil while it is tentative.
        public var id: Int?
        /// The box: the matched detection's when `matched`, the motion prediction otherwise.
        public var rect: PixelRect
        public var confidence: Double
        /// Whether a detection was matched to it in this frame (false: coasting on its motion).
        public var matched: Bool
        public var isConfirmed: Bool { id != nil }

        public init(id: Int?, rect: PixelRect, confidence: Double, matched: Bool) {
            self.id = id
            self.rect = rect
            self.confidence = confidence
            self.matched = matched
        }
    }

    struct State: Sendable {
        var id: Int?
        var x: MotionFilter
        var y: MotionFilter
        var w: MotionFilter
        var h: MotionFilter
        var hits = 1
        var lost = 0
        var confidence: Double

        init(_ d: Detection) {
            let r = d.rect
            let scale = max(4, (r.width + r.height) / 2)
            x = MotionFilter(position: r.x + r.width / 2, q: 0.05 * scale, r: 0.05 * scale)
            y = MotionFilter(position: r.y + r.height / 2, q: 0.05 * scale, r: 0.05 * scale)
            w = MotionFilter(position: r.width, q: 0.01 * scale, r: 0.05 * scale)
            h = MotionFilter(position: r.height, q: 0.01 * scale, r: 0.05 * scale)
            confidence = d.confidence
        }

        var rect: PixelRect {
            let width = max(1, w.position), height = max(1, h.position)
            return PixelRect(x: x.position - width / 2, y: y.position - height / 2, width: width, height: height)
        }

        mutating func predict() {
            // A box unseen keeps its size: extrapolated, a shrinking box reached 1x1 within a few frames
            // (as ByteTrack zeroes the height velocity of a lost track).
            if lost > 0 { w.halt(); h.halt() }
            x.predict(); y.predict(); w.predict(); h.predict()
        }

        mutating func update(_ d: Detection) {
            let r = d.rect
            x.update(r.x + r.width / 2)
            y.update(r.y + r.height / 2)
            w.update(r.width)
            h.update(r.height)
            confidence = d.confidence
            hits += 1
            lost = 0
        }
    }

    public var parameters: Parameters
    private var tracks: [State] = []
    private var nextID = 1

    public init(parameters: Parameters = Parameters(), firstID: Int = 1) {
        self.parameters = parameters
        self.nextID = firstID
    }

    /// The id the next confirmed track will get (kept across a restart so that ids are not reused).
    public var upcomingID: Int { nextID }

    /// Advances one frame with its detections; returns the live tracks (confirmed and tentative),
    /// with their boxes for this frame.
    public mutating func update(_ detections: [Detection]) -> [Track] {
        for i in tracks.indices { tracks[i].predict() }
        let high = detections.indices.filter { detections[$0].confidence >= parameters.highConfidence }
        let low = detections.indices.filter {
            detections[$0].confidence < parameters.highConfidence && detections[$0].confidence >= parameters.lowConfidence
        }
        var matchedTrack = [Bool](repeating: false, count: tracks.count)
        var boxOfTrack = [Int?](repeating: nil, count: tracks.count)
        // Stage 1: confident boxes against every track.
        let first = Self.greedy(tracks: Array(tracks.indices), boxes: high, detections, tracks, minIoU: parameters.firstStageIoU)
        for (t, d) in first {
            matchedTrack[t] = true
            boxOfTrack[t] = d
        }
        let usedHigh = Set(first.map(\.1))
        // Stage 2: the tracks left over (confirmed ones still being seen) against the weak boxes.
        let leftover = tracks.indices.filter { !matchedTrack[$0] && tracks[$0].id != nil }
        for (t, d) in Self.greedy(tracks: leftover, boxes: low, detections, tracks, minIoU: parameters.secondStageIoU) {
            matchedTrack[t] = true
            boxOfTrack[t] = d
        }
        var next: [State] = []
        var reported: [Track] = []
        for (i, var track) in tracks.enumerated() {
            if let d = boxOfTrack[i] {
                track.update(detections[d])
                if track.id == nil && track.hits >= parameters.confirmFrames {
                    track.id = nextID
                    nextID += 1
                }
            } else {
                // A tentative track that misses a frame was noise; a confirmed one coasts.
                if track.id == nil { continue }
                track.lost += 1
                if track.lost > parameters.maxLostFrames { continue }
            }
            next.append(track)
            reported.append(Track(id: track.id, rect: track.rect, confidence: track.confidence, matched: boxOfTrack[i] != nil))
        }
        for d in high where !usedHigh.contains(d) {
            var track = State(detections[d])
            if parameters.confirmFrames <= 1 {
                track.id = nextID
                nextID += 1
            }
            next.append(track)
            reported.append(Track(id: track.id, rect: detections[d].rect, confidence: detections[d].confidence, matched: true))
        }
        tracks = next
        return reported
    }

    /// Pairs of tracks (their predicted boxes) and boxes, by `Detection.greedyMatch`.
    static func greedy(tracks candidates: [Int], boxes: [Int], _ detections: [Detection], _ tracks: [State], minIoU: Double) -> [(Int, Int)] {
        Detection.greedyMatch(candidates.map { tracks[$0].rect }, boxes.map { detections[$0].rect }, minIoU: minIoU).map { (candidates[$0.a], boxes[$0.b]) }
    }
}
