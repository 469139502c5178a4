import HerdPipeline
import HerdProtocol
import Testing

@Suite("Viewer mailbox state", .timeLimit(.minutes(3)))
struct MailboxStateTests {
    typealias State = MailboxState<Int, String>
    let a = StreamID("a")!, b = StreamID("b")!

    func take(_ state: inout State) -> State.Item? {
        if case .send(let item) = state.next(parking: "waiter") { return item }
        return nil
    }

    @Test("a newer frame replaces an unsent older one; the viewer gets the newest")
    func newestWins() {
        var state = State()
        _ = state.offer(frame: 1, of: a)
        guard case .replaced = state.offer(frame: 2, of: a) else { Issue.record("expected replace"); return }
        _ = state.offer(frame: 3, of: a)
        guard case .frame(let f) = take(&state) else { Issue.record("expected a frame"); return }
        #expect(f == 3 && state.droppedFrames == 2)
        guard case .wait = state.next(parking: "w") else { Issue.record("expected wait"); return }
    }

    @Test("events go before pixels and are never dropped behind them")
    func eventsFirst() {
        var state = State()
        _ = state.offer(frame: 1, of: a)
        _ = state.offer(event: "online")
        _ = state.offer(frame: 2, of: a)
        _ = state.offer(event: "alert")
        var order: [String] = []
        while let item = take(&state) {
            switch item {
            case .event(let e): order.append(e)
            case .frame(let f): order.append("frame\(f)")
            }
        }
        #expect(order == ["online", "alert", "frame2"])
    }

    @Test("each stream keeps its own slot; streams take turns")
    func perStreamSlots() {
        var state = State()
        _ = state.offer(frame: 1, of: a)
        _ = state.offer(frame: 10, of: b)
        _ = state.offer(frame: 2, of: a)
        var got: [Int] = []
        while case .frame(let f)? = take(&state) { got.append(f) }
        #expect(got == [2, 10])
        #expect(state.pendingFrames == 0)
    }

    @Test("a waiter parked on an empty mailbox is handed back by the next offer")
    func wakes() {
        var state = State()
        guard case .wait = state.next(parking: "parked") else { Issue.record("expected wait"); return }
        guard case .stored(let wake) = state.offer(frame: 1, of: a) else { Issue.record("expected store"); return }
        #expect(wake == "parked")
        guard case .stored(let none) = state.offer(event: "x") else { Issue.record("expected store"); return }
        #expect(none == nil)
    }

    @Test("an event backlog over the bound closes the mailbox instead of growing")
    func overflow() {
        var state = State(maxPendingEvents: 3)
        for i in 0..<3 { _ = state.offer(event: "e\(i)") }
        guard case .overflow = state.offer(event: "e3") else { Issue.record("expected overflow"); return }
        #expect(state.isClosed)
        guard case .finished = state.next(parking: "w") else { Issue.record("expected finished"); return }
        guard case .closed = state.offer(frame: 1, of: a) else { Issue.record("expected closed"); return }
    }

    @Test("bounded memory under a flood: one frame per stream")
    func bounded() {
        var state = State()
        for i in 0..<100_000 { _ = state.offer(frame: i, of: i % 2 == 0 ? a : b) }
        #expect(state.pendingFrames == 2 && state.droppedFrames == 99_998)
    }
}
