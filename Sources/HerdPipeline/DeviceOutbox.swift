import Synchronization

/// What a device's ingest socket has yet to send: replies (acks and errors, bounded already by the
/// device's frames in flight, never dropped) go first; server messages (inspector marks) are bounded,
/// and when a device stops reading past `maxMessages` the oldest are dropped (a mark also ends by its
/// ttl, and marks still live are sent again when the device reconnects).
public final class DeviceOutbox: Sendable {
    private struct State {
        var replies: [String] = []
        var messages: [String] = []
        var waiter: CheckedContinuation<Void, Never>?
        var finished = false
        var dropped = 0
    }

    public let maxMessages: Int
    private let state = Mutex(State())

    public init(maxMessages: Int = 256) {
        self.maxMessages = max(1, maxMessages)
    }

    /// An answer to something the device sent.
    public func reply(_ text: String) {
        state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard !s.finished else { return nil }
            s.replies.append(text)
            defer { s.waiter = nil }
            return s.waiter
        }?.resume()
    }

    /// A message the server starts; false when it pushed out an older one (a device not reading).
    @discardableResult
    public func send(_ text: String) -> Bool {
        let (wake, kept) = state.withLock { s -> (CheckedContinuation<Void, Never>?, Bool) in
            guard !s.finished else { return (nil, false) }
            var kept = true
            if s.messages.count >= maxMessages {
                s.messages.removeFirst()
                s.dropped += 1
                kept = false
            }
            s.messages.append(text)
            defer { s.waiter = nil }
            return (s.waiter, kept)
        }
        wake?.resume()
        return kept
    }

    /// Replies queued so far are still sent; nothing new is taken, and `next` ends after them.
    public func finish() {
        state.withLock { s -> CheckedContinuation<Void, Never>? in
            s.finished = true
            s.messages.removeAll()
            defer { s.waiter = nil }
            return s.waiter
        }?.resume()
    }

    /// The next text to write (replies first), waiting while there is none; nil once finished and empty.
    public func next() async -> String? {
        while true {
            enum Step { case send(String), wait, done }
            var step = Step.wait
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                step = state.withLock { s -> Step in
                    if !s.replies.isEmpty { return .send(s.replies.removeFirst()) }
                    if !s.messages.isEmpty { return .send(s.messages.removeFirst()) }
                    if s.finished { return .done }
                    s.waiter = c
                    return .wait
                }
                if case .wait = step { return }
                c.resume()
            }
            switch step {
            case .send(let text): return text
            case .done: return nil
            case .wait: continue
            }
        }
    }

    /// Server messages dropped because the device did not read them.
    public var droppedMessages: Int { state.withLock { $0.dropped } }
}
