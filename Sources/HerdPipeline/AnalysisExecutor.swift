import Foundation
import HerdProtocol
#if canImport(Glibc)
import Glibc
#endif

/// Runs the analysis stage off Swift's cooperative pool and NIO's event loops: a few threads of its
/// own (one per core), each stream always on the same one, so one stream's frames run in order and a
/// busy stream delays only the streams that share its thread. The threads run at a lower priority
/// (`niceness`): when the CPU is short, acknowledging frames and feeding viewers go first and analysis
/// waits, rather than the other way round. (The dispatch queues used before ran at
/// `.userInitiated`, which libdispatch on Linux maps to nice −4: above NIO's event loops.)
public final class AnalysisExecutor: Sendable {
    private let workers: [Worker]

    public static let shared = AnalysisExecutor()

    /// Added to the threads' nice value (Linux; ignored where it cannot be set).
    public static let niceness: Int32 = 5

    public init(threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        workers = (0..<max(1, threads)).map { Worker(name: "herd-analysis-\($0)") }
    }

    public func run<T: Sendable>(for stream: StreamID, _ body: @escaping @Sendable () -> T) async -> T {
        var hasher = Hasher()
        hasher.combine(stream.rawValue)
        let worker = workers[Int(UInt(bitPattern: hasher.finalize()) % UInt(workers.count))]
        return await withCheckedContinuation { continuation in worker.submit { continuation.resume(returning: body()) } }
    }

    /// One thread and its jobs, first in first out. Jobs come from streams' accept stages, each waiting
    /// for its own, so the queue holds at most one job per stream.
    private final class Worker: @unchecked Sendable {
        private let condition = NSCondition()
        private var jobs: [@Sendable () -> Void] = []

        init(name: String) {
            let thread = Thread { [self] in
                #if canImport(Glibc)
                // On Linux the nice value is per thread, and `who` 0 is the calling thread.
                _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, AnalysisExecutor.niceness)
                Thread.current.name = name  // set from the thread itself, so `top -H` shows it
                #endif
                loop()
            }
            thread.start()
        }

        func submit(_ job: @escaping @Sendable () -> Void) {
            condition.lock()
            jobs.append(job)
            condition.signal()
            condition.unlock()
        }

        private func loop() {
            while true {
                condition.lock()
                while jobs.isEmpty { condition.wait() }
                let job = jobs.removeFirst()
                condition.unlock()
                job()
            }
        }
    }
}

/// What analysis produced that the server keeps with the session (HerdPipeline does not record).
public enum AnalysisNote: Sendable {
    case alert(AlertEvent)
    /// A counted crossing and the net count per line after it.
    case crossing(Crossing, counts: [String: Int])
    /// The analyser's version and configuration in force from now on (canonical JSON).
    case configuration(version: String, json: [UInt8])
    /// The session's seal event: the e-lock first reported `locked` (in the frame `seq`, or in
    /// telemetry when nil). Seal rules apply from here on, and the count was reconciled.
    case sealed(seq: UInt64?)
    /// An inspector's mark placed (`mark`), ended (`mark.clear`, with why and by whom) or shown by a
    /// field device (`mark.ack`).
    case mark(event: String, mark: Mark, reason: MarkClear.Reason?, by: String?)
    /// After a crash, a new session of the same consignment took over the count of the session the crash
    /// ended (`from`), with the crossings it had recorded.
    case carried(from: String, crossings: [Crossing])
}
