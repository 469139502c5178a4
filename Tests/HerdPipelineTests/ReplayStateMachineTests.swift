import HerdPipeline
import Testing

/// A clock the test moves by hand.
struct ManualInstant: InstantProtocol {
    var offset: Duration
    func advanced(by duration: Duration) -> ManualInstant { ManualInstant(offset: offset + duration) }
    func duration(to other: ManualInstant) -> Duration { other.offset - offset }
    static func < (a: ManualInstant, b: ManualInstant) -> Bool { a.offset < b.offset }
}

@Suite("Replay player state machine (injected clock)")
struct ReplayStateMachineTests {
    /// 10 frames at 15 fps (66.666 ms apart), then a 60 s pause in capture, then one more.
    static let captured: [Int64] = (0..<10).map { Int64($0) * 66_667 } + [9 * 66_667 + 60_000_000]
    let t0 = ManualInstant(offset: .zero)

    @Test("at 1x every frame is sent when due, in order, none skipped; a long capture pause waits at most maxWait")
    func paced() {
        var m = ReplayStateMachine<ManualInstant>(captured: Self.captured, maxWait: .seconds(2))
        m.play(speed: 1, now: t0)
        #expect(m.next(now: t0) == .send(index: 0, skipped: 0))
        guard case .wait(let due) = m.next(now: t0) else { Issue.record("expected a wait"); return }
        #expect(due.offset == .microseconds(66_667))
        #expect(m.next(now: due) == .send(index: 1, skipped: 0))
        var now = due
        for i in 2..<10 {
            guard case .wait(let at) = m.next(now: now) else { Issue.record("expected a wait before \(i)"); return }
            now = at
            #expect(m.next(now: now) == .send(index: i, skipped: 0))
        }
        guard case .wait(let afterPause) = m.next(now: now) else { Issue.record("expected a wait"); return }
        #expect(afterPause.offset - now.offset == .seconds(2), "a 60 s capture pause is shortened to maxWait")
        #expect(m.next(now: afterPause) == .send(index: 10, skipped: 0))
        #expect(m.next(now: afterPause) == .idle && m.state == .ended)
    }

    @Test("when the player falls behind (16x, a slow compose), the newest due frame is sent and the rest skipped")
    func newestWins() {
        var m = ReplayStateMachine<ManualInstant>(captured: Self.captured)
        m.play(speed: 16, now: t0)
        #expect(m.next(now: t0) == .send(index: 0, skipped: 0))
        // 16x: a frame every 4.17 ms; 20 ms of composing later, frames 1-4 are due.
        #expect(m.next(now: t0.advanced(by: .milliseconds(20))) == .send(index: 4, skipped: 3))
        #expect(m.position == 4)
    }

    @Test("step and seek are frame-exact, paused or playing, and clamp at the ends")
    func exact() {
        var m = ReplayStateMachine<ManualInstant>(captured: Self.captured)
        #expect(m.show(3, now: t0) == .send(index: 3, skipped: 0))
        #expect(m.step(1, now: t0) == .send(index: 4, skipped: 0))
        #expect(m.step(-3, now: t0) == .send(index: 1, skipped: 0))
        #expect(m.step(-5, now: t0) == .send(index: 0, skipped: 0))
        #expect(m.step(Int.max, now: t0) == .send(index: 10, skipped: 0))
        #expect(m.state == .paused && m.next(now: t0) == .idle)
        m.play(speed: 1, now: t0)
        #expect(m.next(now: t0) == .send(index: 0, skipped: 0), "play at the end starts again")
        #expect(m.show(6, now: t0) == .send(index: 6, skipped: 0))
        #expect(m.state == .playing)
        guard case .wait(let due) = m.next(now: t0) else { Issue.record("expected a wait"); return }
        #expect(m.next(now: due) == .send(index: 7, skipped: 0), "playing on from the seek")
        #expect(m.step(1, now: due) == .send(index: 8, skipped: 0) && m.state == .paused, "a step pauses")
    }

    @Test("an empty session has nothing to play")
    func empty() {
        var m = ReplayStateMachine<ManualInstant>(captured: [])
        m.play(speed: 1, now: t0)
        #expect(m.state == .ended && m.next(now: t0) == .idle && m.show(0, now: t0) == .idle)
    }
}
