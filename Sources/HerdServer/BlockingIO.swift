import Dispatch

/// Runs blocking calls (SQLite through `TokenStore`) on a Dispatch queue of their own and suspends the
/// caller meanwhile, so a slow disk holds neither Swift's cooperative threads nor NIO's event loops.
enum BlockingIO {
    private static let queue = DispatchQueue(label: "herdlens.blocking-io", attributes: .concurrent)

    static func run<T: Sendable, E: Error>(_ body: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
        let result: Result<T, E> = await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: Result { () throws(E) -> T in try body() }) }
        }
        return try result.get()
    }
}
