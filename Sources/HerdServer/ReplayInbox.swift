import HerdProtocol
import Synchronization

/// Commands from a replay socket's reader to its player, and the player's wait: `wait(until:)` returns
/// when a command arrives or the deadline passes, whichever is first. Holds at most `limit` commands.
final class ReplayInbox: Sendable {
    private struct State {
        var commands: [ReplayCommand] = []
        var waiter: CheckedContinuation<Void, Never>?
        var generation = 0
        var closed = false
    }

    private let state = Mutex(State())
    static let limit = 64

    /// Queues a command; false when the player is this far behind (the command is refused).
    func post(_ command: ReplayCommand) -> Bool {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>?? in
            guard s.commands.count < Self.limit else { return .none }
            s.commands.append(command)
            defer { s.waiter = nil }
            return .some(s.waiter)
        }
        guard let waiter else { return false }
        waiter?.resume()
        return true
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

    func take() -> [ReplayCommand] {
        state.withLock { s in
            defer { s.commands.removeAll() }
            return s.commands
        }
    }

    /// Suspends until a command is queued, the inbox closes, or `deadline` (nil: no deadline).
    func wait(until deadline: ContinuousClock.Instant?) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let generation = state.withLock { s -> Int? in
                guard s.commands.isEmpty, !s.closed else { return nil }
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
