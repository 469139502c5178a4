import HerdProtocol

/// Inspector marks on the stream: every change goes to the stream's viewers (`mark`, `mark.clear`,
/// `mark.acknowledged` events), to its field devices (`mark`, `mark.clear` on their ingest sockets) and
/// into the recording (with the author); live marks are drawn on every frame.
extension StreamPipeline {
    /// Places an inspector's mark (a live id is replaced). Refused: `tooManyMarks` past the stream's
    /// limit, `notFound` for a track the stream does not have.
    public func place(_ request: MarkRequest, by author: String, limits: MarkRequest.Limits = MarkRequest.Limits()) throws(ProtocolError) -> Mark {
        let id = request.id ?? "mk-" + String(UInt64.random(in: 0...UInt64.max) & 0xFFFF_FFFF_FFFF, radix: 16)
        let mark = try marks.place(
            request, id: id, by: author, now: secondsNow, at: .now(), ttlSeconds: request.ttlSeconds ?? limits.defaultTTLSeconds)
        lastActivity = .now
        hub.publish(event: LiveEvent(event: "mark", stream: stream, at: .now(), session: session, mark: mark, by: author))
        field.send(WireJSON.encodeString(mark), to: stream)
        onAnalysis(.mark(event: "mark", mark: mark, reason: nil, by: author))
        return mark
    }

    /// Clears a live mark; nil when there is none with that id.
    public func clearMark(id: String, by author: String) -> Mark? {
        guard let mark = marks.clear(id: id) else { return nil }
        ended(MarkBoard.Ended(mark: mark, reason: .inspector), by: author)
        return mark
    }

    /// A field device's `mark.ack`; nil when no such mark is live.
    public func acknowledgeMark(id: String, by device: String) -> Mark? {
        guard let mark = marks.acknowledge(id: id, by: device, at: .now()) else { return nil }
        hub.publish(event: LiveEvent(event: "mark.acknowledged", stream: stream, at: .now(), session: session, mark: mark, by: device))
        onAnalysis(.mark(event: "mark.ack", mark: mark, reason: nil, by: device))
        return mark
    }

    /// The marks live now (sent again to a device that reconnects), once the recording has been read
    /// back (after a restart, the open session's marks are among them).
    public func liveMarks() async -> [Mark] {
        await restored()
        return marks.marks
    }

    /// The open session and its declared head count (the console's tile).
    public var sessionState: (session: String?, declaredHeadCount: Int?) { (session, consignment?.declaredHeadCount) }

    /// An analysed frame: anchored marks follow their tracks' boxes, and end with them.
    func marksFollow(seq: UInt64, items: [Annotation]) {
        for end in marks.frame(seq: seq, tracks: Self.trackBoxes(items), now: secondsNow) { ended(end, by: nil) }
    }

    /// Marks past their ttl (the clock, and a stream without frames).
    func expireMarks() {
        for end in marks.expire(now: secondsNow) { ended(end, by: nil) }
    }

    private func ended(_ end: MarkBoard.Ended, by author: String?) {
        hub.publish(event: LiveEvent(event: "mark.clear", stream: stream, at: .now(), session: session, mark: end.mark, reason: end.reason, by: author))
        field.send(WireJSON.encodeString(MarkClear(id: end.mark.id, stream: stream, reason: end.reason, by: author)), to: stream)
        onAnalysis(.mark(event: "mark.clear", mark: end.mark, reason: end.reason, by: author))
    }

    /// Confirmed tracks' boxes on a frame: the tracker's, or a device's boxes that carry a track id.
    static func trackBoxes(_ items: [Annotation]) -> [Int: PixelRect] {
        var boxes: [Int: PixelRect] = [:]
        for case .box(let box) in items where box.source != .inspector {
            if let track = box.trackId { boxes[track] = box.rect }
        }
        return boxes
    }
}
