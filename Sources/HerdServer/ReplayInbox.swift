import HerdProtocol
import Synchronization

/// Commands (and the error replies to refused ones) from a replay socket's reader to its player, the
/// socket's one writer, and the player's wait: `wait(until:)` returns when something arrives or the
/// deadline passes, whichever is first. Holds at most `limit` commands and `limit` replies.
final class ReplayInbox: Sendable {
    private struct State {
        var commands: [ReplayCommand] = []
        var replies: [ErrorReply] = []
        var waiter: CheckedContinuation<Void, Never>?
        var generation = 0
        var closed = false
    }

    private let state = Mutex(State())
    static let limit = 64

    /// Queues a command; when the player is `limit` commands behind, the command is refused with
    /// `tooManyMessages` instead.
    func post(_ command: ReplayCommand) {
        let waiter = state.withLock { s in
            if s.commands.count < Self.limit {
                s.commands.append(command)
            } else if s.replies.count < Self.limit {
                s.replies.append(ErrorReply(code: "tooManyMessages", message: "the player is \(Self.limit) commands behind"))
            }
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume()
    }

    /// Queues an error reply for the player to write (past `limit` unwritten, further ones are dropped).
    func post(reply: ErrorReply) {
        let waiter = state.withLock { s in
            if s.replies.count < Self.limit { s.replies.append(reply) }
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume()
    }

    func close() {
        let waiter = state.withLock { s in
            s.closed = true
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume()
    }

    var isClosed: Bool { state.withLock { $0.closed } }

    /// What arrived since the last call: replies to write, then commands to apply.
    func take() -> (replies: [ErrorReply], commands: [ReplayCommand]) {
        state.withLock { s in
            defer {
                s.commands.removeAll()
                s.replies.removeAll()
            }
            return (s.replies, s.commands)
        }
    }

    /// Suspends until a command is queued, the inbox closes, or `deadline` (nil: no deadline).
    func wait(until deadline: ContinuousClock.Instant?) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let generation = state.withLock { s -> Int? in
                guard s.commands.isEmpty, s.replies.isEmpty, !s.closed else { return nil }
                s.generation += 1
                s.waiter = c
                return s.generation
            }
            guard let generation else {
                c.resume()
                return
            }
            if let deadline {
                Task {
                    try? await Task.sleep(until: deadline, clock: .continuous)
                    let waiter = self.state.withLock { s -> CheckedContinuation<Void, Never>? in
                        guard s.generation == generation else { return nil }
                        defer { s.waiter = nil }
                        return s.waiter
                    }
                    waiter?.resume()
                }
            }
        }
    }
}
