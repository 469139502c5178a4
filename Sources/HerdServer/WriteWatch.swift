import Logging
import Synchronization

/// When the write in progress on a socket began, if one is: the writer sets it around each socket
/// write and one watchdog per socket reads it, so a client that takes nothing for the write timeout is
/// found without arming a timer per write. Live viewers and replay players both use it.
final class WriteWatch: Sendable {
    private let startedAt = Mutex<ContinuousClock.Instant?>(nil)

    func timing(_ write: () async throws -> Void) async throws {
        startedAt.withLock { $0 = .now }
        defer { startedAt.withLock { $0 = nil } }
        try await write()
    }

    func isStalled(longerThan timeout: Duration) -> Bool {
        startedAt.withLock { started in started.map { ContinuousClock.now - $0 >= timeout } ?? false }
    }

    /// Looks a few times per timeout; throws `CancellationError` (ending the socket's task group) once a
    /// write has waited longer than `timeout`.
    func watchdog(timeout: Duration, logger: Logger) async throws {
        while true {
            try await Task.sleep(for: timeout / 4)
            if isStalled(longerThan: timeout) {
                logger.notice("client stopped reading; closing")
                throw CancellationError()
            }
        }
    }
}
