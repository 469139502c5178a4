import HerdProtocol
import Synchronization

/// A viewer's outbox: `MailboxState` behind a lock, and an async `next()` for the viewer's writer task.
/// Producers never wait: offering a frame to a viewer that stopped reading replaces its unsent frame, so
/// a slow viewer costs one frame per stream of memory and never slows ingest or other viewers.
public final class ViewerMailbox: Sendable {
    public typealias Item = MailboxState<LiveFrame, CheckedContinuation<Void, Never>>.Item

    private let state: Mutex<MailboxState<LiveFrame, CheckedContinuation<Void, Never>>>

    public init(maxPendingEvents: Int = 256) {
        state = Mutex(MailboxState(maxPendingEvents: maxPendingEvents))
    }

    /// Offers the newest frame of a stream; false when it replaced an unsent frame (dropped: slow viewer).
    @discardableResult
    public func offer(_ frame: LiveFrame) -> Bool {
        let result = state.withLock { $0.offer(frame: frame, of: frame.stream) }
        switch result {
        case .stored(let wake): wake?.resume(); return true
        case .replaced(let wake): wake?.resume(); return false
        case .overflow(let wake): wake?.resume(); return false
        case .closed: return false
        }
    }

    /// Offers an event (JSON text); false when the viewer overflowed its event queue and was closed.
    @discardableResult
    public func offer(event: String) -> Bool {
        let result = state.withLock { $0.offer(event: event) }
        switch result {
        case .stored(let wake), .replaced(let wake): wake?.resume(); return true
        case .overflow(let wake): wake?.resume(); return false
        case .closed: return false
        }
    }

    /// The next item to send, waiting while there is none; nil once closed.
    public func next() async -> Item? {
        while true {
            var action: MailboxState<LiveFrame, CheckedContinuation<Void, Never>>.NextAction = .wait
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                action = state.withLock { $0.next(parking: continuation) }
                if case .wait = action { return }
                continuation.resume()
            }
            switch action {
            case .send(let item): return item
            case .finished: return nil
            case .wait: continue
            }
        }
    }

    public func close() {
        state.withLock { $0.close() }?.resume()
    }

    public var isClosed: Bool { state.withLock { $0.isClosed } }
    public var droppedFrames: Int { state.withLock { $0.droppedFrames } }
}
