import Dispatch
import Foundation
import HerdProtocol

/// Runs the analysis stage off Swift's cooperative pool and NIO's event loops: a few serial dispatch
/// queues (one per core), each stream always on the same one, so one stream's frames run in order and
/// a busy stream delays only the streams that share its queue.
public final class AnalysisExecutor: Sendable {
    private let queues: [DispatchQueue]

    public static let shared = AnalysisExecutor()

    public init(threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        queues = (0..<max(1, threads)).map { DispatchQueue(label: "herd.analysis.\($0)", qos: .userInitiated) }
    }

    public func run<T: Sendable>(for stream: StreamID, _ body: @escaping @Sendable () -> T) async -> T {
        var hasher = Hasher()
        hasher.combine(stream.rawValue)
        let queue = queues[Int(UInt(bitPattern: hasher.finalize()) % UInt(queues.count))]
        return await withCheckedContinuation { continuation in queue.async { continuation.resume(returning: body()) } }
    }
}

/// What analysis produced that the server keeps with the session (HerdPipeline does not record).
public enum AnalysisNote: Sendable {
    case alert(AlertEvent)
    /// A counted crossing and the net count per line after it.
    case crossing(Crossing, counts: [String: Int])
    /// The analyser's version and configuration in force from now on (canonical JSON).
    case configuration(version: String, json: [UInt8])
}
