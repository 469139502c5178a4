import Foundation

/// Runs blocking work (waiting for a child process, a blocking socket) on a thread of its own and
/// awaits it. Swift's cooperative pool has one thread per core: two tests blocking it on a 2-core CI
/// machine stall every server under test in the process until they return (a CI run saw three
/// servers miss a 20 s read deadline while CLI tests waited for `herdlens` child processes).
public enum OffPool {
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
        }
    }
}
