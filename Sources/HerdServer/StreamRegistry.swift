import HerdPipeline
import HerdProtocol
import HerdWorker
import Logging
import Synchronization

/// One `StreamPipeline` per live stream, created on first use and bounded in number.
final class StreamRegistry: Sendable {
    private let pipelines = Mutex<[StreamID: StreamPipeline]>([:])
    let hub: LiveHub
    let codecs: CodecWorkerPool
    private let maxStreams: Int
    private let logger: Logger
    let metrics: ServerMetrics

    init(hub: LiveHub, codecs: CodecWorkerPool, maxStreams: Int, metrics: ServerMetrics, logger: Logger) {
        self.metrics = metrics
        self.hub = hub
        self.codecs = codecs
        self.maxStreams = maxStreams
        self.logger = logger
    }

    func pipeline(for stream: StreamID) throws -> StreamPipeline {
        try pipelines.withLock { pipelines in
            if let existing = pipelines[stream] { return existing }
            guard pipelines.count < maxStreams else {
                throw IngestFailure(code: "tooManyStreams", message: "the server already runs \(maxStreams) streams", status: 503, stream: stream.rawValue)
            }
            let metrics = self.metrics
            let created = StreamPipeline(stream: stream, hub: hub, codecs: codecs, logger: logger) { metrics.record($0) }
            pipelines[stream] = created
            return created
        }
    }

    var count: Int { pipelines.withLock { $0.count } }
}
