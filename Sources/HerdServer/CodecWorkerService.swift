import HerdWorker
import ServiceLifecycle

/// Owns the codec worker processes for the application's lifetime: they start on first use and end
/// when the service group shuts down (a worker also ends when its stdin closes: the server is gone).
struct CodecWorkerService: Service {
    let pool: CodecWorkerPool

    func run() async throws {
        defer { pool.shutdown() }
        try? await gracefulShutdown()
    }
}
