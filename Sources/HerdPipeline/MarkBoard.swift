import Foundation
import HerdProtocol

/// The inspector marks live on one stream, as a plain value (the stream's pipeline owns it): placed,
/// cleared, acknowledged by the field, moved with the pig they are anchored to, ended with its track
/// or by their ttl. Operations return what changed; the owner publishes, sends and records it. Time is
/// the caller's monotonic seconds, so tests drive it.
public struct MarkBoard: Sendable {
    public struct Limits: Sendable, Hashable {
        /// Live marks per stream; one more is refused (`tooManyMarks`).
        public var maxMarks = 32
        /// Frames a mark's track may be missing before the mark ends with it (a box the detector misses
        /// once must not end it).
        public var trackGraceFrames = 5
        /// Frames of track boxes kept to find where a pig was on the frame the inspector drew on.
        public var historyFrames = 64

        public init() {}
    }

    /// A mark that ended, and why.
    public struct Ended: Sendable, Hashable {
        public var mark: Mark
        public var reason: MarkClear.Reason

        public init(mark: Mark, reason: MarkClear.Reason) {
            self.mark = mark
            self.reason = reason
        }
    }

    private struct Entry: Sendable {
        var mark: Mark
        var expires: Double
        /// Centre of the track's box on the frame the mark was drawn on.
        var anchor: PixelPoint?
        var dx = 0.0, dy = 0.0
        var missing = 0
    }

    public let limits: Limits
    private var entries: [Entry] = []
    /// Confirmed tracks' boxes on the latest frames, oldest first.
    private var history: [(seq: UInt64, boxes: [Int: PixelRect])] = []

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    public var isEmpty: Bool { entries.isEmpty }
    public var count: Int { entries.count }

    /// The live marks as they stand now (an anchored mark at its track's current place), oldest first.
    public var marks: [Mark] { entries.map(Self.current) }

    /// The live marks as annotations for the next frame.
    public var annotations: [Annotation] { entries.map { $0.mark.annotation(dx: $0.dx, dy: $0.dy) } }

    /// Places (or, with an id already live, replaces) a mark. A `trackId` must name a track the
    /// stream has on one of its latest frames: the mark keeps its place relative to that pig's box on
    /// the frame `seq` it was drawn on (or the nearest before it).
    public mutating func place(
        _ request: MarkRequest, id: String, by author: String, now: Double, at: Timestamp, ttlSeconds: Int
    ) throws(ProtocolError) -> Mark {
        let replacing = entries.firstIndex { $0.mark.id == id }
        if replacing == nil, entries.count >= limits.maxMarks {
            throw .tooManyMarks("stream \(request.stream) already has \(limits.maxMarks) live marks: clear one first")
        }
        var anchor: PixelPoint?
        var offset = (dx: 0.0, dy: 0.0)
        if let track = request.trackId {
            let drawnOn = request.seq.flatMap { seq in history.last { $0.seq <= seq && $0.boxes[track] != nil } }
                ?? history.last { $0.boxes[track] != nil }
            guard let box = drawnOn?.boxes[track] else {
                throw .notFound("stream \(request.stream) has no track \(track) on its latest \(limits.historyFrames) frames")
            }
            anchor = box.centre
            if let latest = history.last?.boxes[track] { offset = (latest.centre.x - box.centre.x, latest.centre.y - box.centre.y) }
        }
        let mark = Mark(
            id: id, stream: request.stream, kind: request.kind, points: request.points, text: request.text, trackId: request.trackId, seq: request.seq,
            ttlSeconds: ttlSeconds, by: author, at: at, expiresAt: Timestamp(date: at.date.addingTimeInterval(Double(ttlSeconds))))
        let entry = Entry(mark: mark, expires: now + Double(ttlSeconds), anchor: anchor, dx: offset.dx, dy: offset.dy)
        if let replacing { entries[replacing] = entry } else { entries.append(entry) }
        return Self.current(entry)
    }

    /// Marks read back from the recording after a restart: each keeps what is left of its ttl (`wallClock`
    /// is now in seconds since 1970), and a live id is kept as it is. An anchored mark's pig is found again
    /// by its track id on the next frames, or the mark ends with it (track ids are not reused).
    public mutating func restore(_ recorded: [Mark], now: Double, wallClock: Double) {
        for mark in recorded where !entries.contains(where: { $0.mark.id == mark.id }) && entries.count < limits.maxMarks {
            let left = mark.expiresAt.secondsSince1970 - wallClock
            guard left > 0 else { continue }
            entries.append(Entry(mark: mark, expires: now + left, anchor: nil))
        }
    }

    /// Removes a mark; nil when no such mark is live.
    public mutating func clear(id: String) -> Mark? {
        guard let i = entries.firstIndex(where: { $0.mark.id == id }) else { return nil }
        return Self.current(entries.remove(at: i))
    }

    /// A field device showed the mark; nil when no such mark is live.
    public mutating func acknowledge(id: String, by device: String, at: Timestamp) -> Mark? {
        guard let i = entries.firstIndex(where: { $0.mark.id == id }) else { return nil }
        entries[i].mark.acknowledged = Alert.Acknowledgement(by: device, at: at.text)
        return Self.current(entries[i])
    }

    /// A new frame with its confirmed tracks' boxes: anchored marks follow their pigs; marks whose
    /// track has been gone for more than `trackGraceFrames`, and marks past their ttl, end.
    public mutating func frame(seq: UInt64, tracks: [Int: PixelRect], now: Double) -> [Ended] {
        history.append((seq, tracks))
        if history.count > limits.historyFrames { history.removeFirst(history.count - limits.historyFrames) }
        for i in entries.indices {
            guard let track = entries[i].mark.trackId else { continue }
            if let box = tracks[track] {
                // A mark read back after a restart takes the box where its track is seen again as its anchor.
                let anchor = entries[i].anchor ?? box.centre
                entries[i].anchor = anchor
                entries[i].dx = box.centre.x - anchor.x
                entries[i].dy = box.centre.y - anchor.y
                entries[i].missing = 0
            } else {
                entries[i].missing += 1
            }
        }
        let grace = limits.trackGraceFrames
        return remove { $0.missing > grace ? .trackEnded : nil } + expire(now: now)
    }

    /// Marks past their ttl end (the server's clock calls this too, so a stream without frames loses
    /// its marks on time).
    public mutating func expire(now: Double) -> [Ended] {
        remove { now >= $0.expires ? .expired : nil }
    }

    private mutating func remove(_ why: (Entry) -> MarkClear.Reason?) -> [Ended] {
        var ended: [Ended] = []
        entries.removeAll { entry in
            guard let reason = why(entry) else { return false }
            ended.append(Ended(mark: Self.current(entry), reason: reason))
            return true
        }
        return ended
    }

    private static func current(_ entry: Entry) -> Mark {
        var mark = entry.mark
        if entry.dx != 0 || entry.dy != 0 { mark.points = mark.points.map { PixelPoint(x: $0.x + entry.dx, y: $0.y + entry.dy) } }
        return mark
    }
}

extension PixelRect {
    fileprivate var centre: PixelPoint { PixelPoint(x: x + width / 2, y: y + height / 2) }
}
