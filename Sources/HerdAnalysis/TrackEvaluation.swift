import HerdProtocol

/// Runs tracker and counter over a sequence's detections and scores them against its truth: count
/// error (net counted − net true), id switches (a true pig followed by a different confirmed track
/// than before), and whether each counted crossing points at a frame where that pig is on the line.
/// The pig of a crossing is the one its track follows at that frame (or the one next to it); a track
/// that is coasting there (a pig hidden by another, counted with it) is the pig it last followed.
public struct TrackEvaluation: Sendable {
    public struct Result: Sendable, Hashable {
        public var name: String
        public var trueNet: Int
        public var countedNet: Int
        public var crossings: [Crossing]
        public var idSwitches: Int
        /// Counted crossings whose frame shows the pig (the true pig the track followed) on the line.
        public var crossingsOnLine: Int
        public var countError: Int { countedNet - trueNet }
        public var exact: Bool { countError == 0 }
    }

    public var tracker: Tracker.Parameters
    public var counter: LineCounter.Parameters

    public init(tracker: Tracker.Parameters = Tracker.Parameters(), counter: LineCounter.Parameters = LineCounter.Parameters()) {
        self.tracker = tracker
        self.counter = counter
    }

    /// `detections[i]` are frame i's; `observe` sees each frame's seq and tracks (for tracing).
    public func run(_ truth: SequenceTruth, detections: [[Detection]], observe: ((UInt64, [Tracker.Track]) -> Void)? = nil) -> Result {
        var tracker = Tracker(parameters: self.tracker)
        var lineCounter = LineCounter(lines: [truth.line], parameters: counter)
        var crossings: [Crossing] = []
        var followed: [Int: Int] = [:]  // true pig → the track id last seen on it
        var switches = 0
        var pigOfTrackAt: [UInt64: [Int: Int]] = [:]  // seq → track → pig
        var boxesByFrame: [Int: [(pig: Int, rect: PixelRect)]] = [:]
        for pig in truth.pigs {
            for box in pig.boxes { boxesByFrame[box.frame, default: []].append((pig.id, box.rect)) }
        }
        for (index, found) in detections.enumerated() {
            let seq = UInt64(index + 1)
            let tracks = tracker.update(found)
            observe?(seq, tracks)
            crossings += lineCounter.update(seq: seq, tracks: tracks)
            // Match confirmed, matched tracks to the true boxes of this frame.
            let truthBoxes = boxesByFrame[index] ?? []
            let live = tracks.filter { $0.id != nil && $0.matched }
            var map: [Int: Int] = [:]
            for (t, b) in Detection.greedyMatch(live.map(\.rect), truthBoxes.map(\.rect), minIoU: 0.3) {
                let id = live[t].id!
                let pig = truthBoxes[b].pig
                map[id] = pig
                if let previous = followed[pig], previous != id { switches += 1 }
                followed[pig] = id
            }
            pigOfTrackAt[seq] = map
        }
        var onLine = 0
        for c in crossings {
            let frame = Int(c.seq) - 1
            guard let pig = pigOfTrackAt[c.seq]?[c.trackId] ?? pigOfTrackAt[c.seq + 1]?[c.trackId]
                    ?? stride(from: c.seq, to: 0, by: -1).lazy.compactMap({ pigOfTrackAt[$0]?[c.trackId] }).first,
                let rect = (boxesByFrame[frame] ?? []).first(where: { $0.pig == pig })?.rect
            else { continue }
            if truth.line.touches(rect) { onLine += 1 }
        }
        return Result(
            name: truth.name, trueNet: truth.net, countedNet: lineCounter.net(truth.line.id), crossings: crossings, idSwitches: switches,
            crossingsOnLine: onLine)
    }
}
