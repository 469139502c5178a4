import Synchronization

/// The promise of one group commit: resolved once the records it covers are fsynced and indexed, or
/// failed (the frame was not kept; the device may send it again).
public final class Durability: Sendable {
    private enum State {
        case waiting([CheckedContinuation<RecordingError?, Never>])
        case done(RecordingError?)
    }

    private let state = Mutex(State.waiting([]))

    public init() {}

    /// A promise that is already kept (a duplicate of a durable frame).
    public static func kept() -> Durability {
        let d = Durability()
        d.resolve(nil)
        return d
    }

    /// Returns when the records are durable; throws the storage error that stopped them.
    public func wait() async throws(RecordingError) {
        let outcome: RecordingError? = await withCheckedContinuation { continuation in
            let ready: RecordingError?? = state.withLock { state in
                switch state {
                case .waiting(var list):
                    list.append(continuation)
                    state = .waiting(list)
                    return .none
                case .done(let error):
                    return .some(error)
                }
            }
            if let ready { continuation.resume(returning: ready) }
        }
        if let outcome { throw outcome }
    }

    func resolve(_ error: RecordingError?) {
        let waiters: [CheckedContinuation<RecordingError?, Never>] = state.withLock { state in
            guard case .waiting(let list) = state else { return [] }
            state = .done(error)
            return list
        }
        for waiter in waiters { waiter.resume(returning: error) }
    }
}
