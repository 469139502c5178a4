import Foundation
import HerdPipeline
import HerdProtocol
import Testing

@Suite("Inspector marks on one stream: limits, ttl, anchored to a track")
struct MarkBoardTests {
    let stream = StreamID("cam-1")!
    let at = Timestamp.now()

    func box(_ x: Double, _ y: Double) -> PixelRect { PixelRect(x: x, y: y, width: 40, height: 20) }

    func request(_ kind: Mark.Kind = .arrow, track: Int? = nil, seq: UInt64? = nil) -> MarkRequest {
        MarkRequest(stream: stream, kind: kind, points: [PixelPoint(x: 100, y: 100), PixelPoint(x: 140, y: 120)], trackId: track, seq: seq)
    }

    @Test("a stream holds at most maxMarks; a live id is replaced, not counted twice; clear frees a place")
    func limits() throws {
        var limits = MarkBoard.Limits()
        limits.maxMarks = 2
        var board = MarkBoard(limits: limits)
        _ = try board.place(request(), id: "a", by: "Chan", now: 0, at: at, ttlSeconds: 60)
        _ = try board.place(request(), id: "b", by: "Chan", now: 0, at: at, ttlSeconds: 60)
        #expect(throws: ProtocolError.tooManyMarks("")) { _ = try board.place(request(), id: "c", by: "Chan", now: 0, at: at, ttlSeconds: 60) }
        let replaced = try board.place(request(.box), id: "b", by: "Wong", now: 0, at: at, ttlSeconds: 60)
        #expect(board.count == 2 && replaced.kind == .box && replaced.by == "Wong")
        #expect(board.clear(id: "a")?.id == "a" && board.clear(id: "a") == nil)
        _ = try board.place(request(), id: "c", by: "Chan", now: 0, at: at, ttlSeconds: 60)
        #expect(board.marks.map(\.id) == ["b", "c"])
        #expect(board.annotations.allSatisfy { $0.source == .inspector })
    }

    @Test("a mark ends by its ttl, on a frame or on the clock")
    func ttl() throws {
        var board = MarkBoard()
        let placed = try board.place(request(), id: "a", by: "Chan", now: 10, at: at, ttlSeconds: 5)
        _ = try board.place(request(), id: "b", by: "Chan", now: 10, at: at, ttlSeconds: 60)
        #expect(placed.expiresAt.secondsSince1970 - at.secondsSince1970 == 5)
        #expect(board.expire(now: 14.9).isEmpty)
        #expect(board.frame(seq: 1, tracks: [:], now: 15) == [MarkBoard.Ended(mark: placed, reason: .expired)])
        #expect(board.expire(now: 69).isEmpty && board.expire(now: 70).map(\.mark.id) == ["b"])
    }

    @Test("anchored to a track: placed relative to the pig's box on the frame it was drawn on, follows it, ends after the grace frames")
    func anchored() throws {
        var board = MarkBoard()
        #expect(throws: ProtocolError.notFound("")) { _ = try board.place(request(track: 7), id: "m", by: "Chan", now: 0, at: at, ttlSeconds: 60) }
        _ = board.frame(seq: 1, tracks: [7: box(90, 90)], now: 0)
        _ = board.frame(seq: 2, tracks: [7: box(100, 90)], now: 0)
        _ = board.frame(seq: 3, tracks: [7: box(110, 90)], now: 0)
        // Drawn on frame 1 (the inspector's view lags): by now the pig has moved 20 px right.
        let placed = try board.place(request(track: 7, seq: 1), id: "m", by: "Chan", now: 0, at: at, ttlSeconds: 60)
        #expect(placed.points.first == PixelPoint(x: 120, y: 100))
        _ = board.frame(seq: 4, tracks: [7: box(130, 100)], now: 0)
        guard case .arrow(let arrow) = board.annotations.first else { Issue.record("an arrow"); return }
        #expect(arrow.from == PixelPoint(x: 140, y: 110) && arrow.to == PixelPoint(x: 180, y: 130))
        // Missed for the grace frames: kept where it last was; one more and it ends with its track.
        for seq in 5...9 { #expect(board.frame(seq: UInt64(seq), tracks: [8: box(0, 0)], now: 0).isEmpty) }
        let ended = board.frame(seq: 10, tracks: [:], now: 0)
        #expect(ended.map(\.reason) == [.trackEnded] && ended.first?.mark.points.first == PixelPoint(x: 140, y: 110))
        #expect(board.isEmpty)
    }

    @Test("a device's acknowledgement is kept on the mark")
    func acknowledged() throws {
        var board = MarkBoard()
        _ = try board.place(request(.circle), id: "c", by: "Chan", now: 0, at: at, ttlSeconds: 60)
        #expect(board.acknowledge(id: "x", by: "glasses", at: at) == nil)
        #expect(board.acknowledge(id: "c", by: "glasses", at: at)?.acknowledged?.by == "glasses")
        guard case .point(let ring) = board.annotations.first else { Issue.record("a circle is a point with a radius"); return }
        #expect(ring.radius.map { abs($0 - (40.0 * 40 + 20 * 20).squareRoot()) < 1e-9 } == true && ring.id == "c")
    }
}
