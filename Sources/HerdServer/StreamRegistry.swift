import HerdAnalysis
import HerdPipeline
import HerdProtocol
import HerdRecording
import HerdWorker
import Logging
import Synchronization

/// One `StreamPipeline` per live stream, created on first use, bounded in number, and released once
/// idle (`releaseIdle`), so a server that has seen many streams holds only the live ones.
final class StreamRegistry: Sendable {
    private let pipelines = Mutex<[StreamID: StreamPipeline]>([:])
    let hub: LiveHub
    let field: FieldHub
    private let markLimits: MarkBoard.Limits
    let codecs: CodecWorkerPool
    private let maxStreams: Int
    private let logger: Logger
    let metrics: ServerMetrics
    /// Notes a frame that was recorded but could not be shown (a worker fault after the ack).
    private let onRenderFault: @Sendable (PreparedFrame, any Error) -> Void
    /// Each stream's analysis configuration.
    let configs: StreamConfigStore
    /// Alerts, crossings and configuration changes, for the recording.
    private let onAnalysis: @Sendable (StreamID, AnalysisNote) -> Void
    /// Runs once for each new pipeline (rebuilds its count from an open session after a restart).
    /// When given, it must call the pipeline's `restore`: the pipeline's frames wait for that.
    private let onCreate: (@Sendable (StreamID, StreamPipeline) -> Void)?

    init(
        hub: LiveHub, field: FieldHub = FieldHub(), markLimits: MarkBoard.Limits = MarkBoard.Limits(), codecs: CodecWorkerPool, maxStreams: Int, metrics: ServerMetrics, logger: Logger, configs: StreamConfigStore,
        onRenderFault: @escaping @Sendable (PreparedFrame, any Error) -> Void = { _, _ in },
        onAnalysis: @escaping @Sendable (StreamID, AnalysisNote) -> Void = { _, _ in },
        onCreate: (@Sendable (StreamID, StreamPipeline) -> Void)? = nil
    ) {
        self.metrics = metrics
        self.hub = hub
        self.field = field
        self.markLimits = markLimits
        self.codecs = codecs
        self.maxStreams = maxStreams
        self.logger = logger
        self.configs = configs
        self.onRenderFault = onRenderFault
        self.onAnalysis = onAnalysis
        self.onCreate = onCreate
    }

    /// The stream's pipeline if it runs now.
    func existing(_ stream: StreamID) -> StreamPipeline? { pipelines.withLock { $0[stream] } }

    func pipeline(for stream: StreamID) throws -> StreamPipeline {
        try pipelines.withLock { pipelines in
            if let existing = pipelines[stream] { return existing }
            guard pipelines.count < maxStreams else {
                throw IngestFailure(code: "tooManyStreams", message: "the server already runs \(maxStreams) streams", status: 503, stream: stream.rawValue)
            }
            let metrics = self.metrics
            let onAnalysis = self.onAnalysis
            let created = StreamPipeline(
                stream: stream, hub: hub, codecs: codecs, logger: logger, analysis: configs.config(stream), observer: { metrics.record($0) },
                onRenderFault: onRenderFault, onAnalysis: { onAnalysis(stream, $0) }, awaitsRestore: onCreate != nil,
                field: field, markLimits: markLimits)
            pipelines[stream] = created
            onCreate?(stream, created)
            return created
        }
    }

    /// Releases pipelines idle for `after` with nothing in flight and no device connected.
    func releaseIdle(after: Duration) async {
        let all = pipelines.withLock { $0 }
        let online = hub.onlineStreams
        for (stream, pipeline) in all where !online.contains(stream) {
            guard await pipeline.isQuiet, await pipeline.idleFor >= after else { continue }
            pipelines.withLock { map in
                if map[stream] === pipeline { map[stream] = nil }
            }
            logger.debug("idle pipeline released", metadata: ["herd.stream": "\(stream)"])
        }
    }

    /// The analysis clock: each pipeline's `tick()` (the silence check needs no frame to fire).
    func tick() async {
        for pipeline in pipelines.withLock({ Array($0.values) }) { await pipeline.tick() }
    }

    var count: Int { pipelines.withLock { $0.count } }
}
