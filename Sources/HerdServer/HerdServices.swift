import HerdIdentity
import HerdPipeline
import HerdProtocol
import HerdRecording
import HerdWorker
import Logging
import Synchronization

/// Everything the routes share, built once by `buildApplication`: each route group
/// (`addViewerRoutes`, `addIngestRoutes`, `addSessionRoutes`, `addOperationsRoutes`) reads what it needs.
final class HerdServices: Sendable {
    let configuration: ServerConfiguration
    let logger: Logger
    let tokens: TokenStore
    let hub: LiveHub
    let metrics: ServerMetrics
    let codecs: CodecWorkerPool
    let registry: StreamRegistry
    let recorder: Recorder
    let reader: SessionReader
    let audit: AuditLog
    let processor: IngestProcessor
    let sockets: SocketLimiter
    let watch: TokenWatch
    let shutdown: ShutdownSignal
    let httpRate: TokenRateLimiter
    let refusals: UpgradeRefusals
    let slowDropsSeen = Mutex(0)

    /// Appends to the audit log without holding up the caller's answer on failure (logged).
    func note(_ entry: AuditEntry) async {
        do throws(RecordingError) {
            try await audit.record(entry)
        } catch {
            logger.error("audit log: entry not recorded", metadata: ["herd.audit.action": "\(entry.action)", "herd.error": "\(error)"])
        }
    }

    /// An audit entry for `identity` doing `action`.
    static func entry(_ identity: Identity, _ action: String, stream: String? = nil, session: String? = nil, detail: String? = nil, remote: String? = nil) -> AuditEntry {
        AuditEntry(actor: identity.id, actorName: identity.name, role: identity.role.rawValue, action: action, stream: stream, session: session, detail: detail, remote: remote)
    }

    init(configuration: ServerConfiguration, logger: Logger, shutdown: ShutdownSignal) throws {
        try configuration.validate()
        self.configuration = configuration
        self.logger = logger
        self.shutdown = shutdown
        tokens = try TokenStore(dataDirectory: configuration.dataDirectory)
        let hub = LiveHub()
        self.hub = hub
        let metrics = ServerMetrics()
        self.metrics = metrics
        let forensics = FaultForensics(
            dataDirectory: configuration.dataDirectory, maxFiles: configuration.forensicsMaxFiles, maxBytes: configuration.forensicsMaxBytes,
            logger: logger)
        codecs = CodecWorkerPool(
            configuration: configuration.codecWorkerConfiguration, logger: logger,
            onFault: { fault in
                metrics.workerFault(fault.error)
                forensics.keep(fault)
            },
            onEvent: { event in
                switch event {
                case .started: metrics.workerStarted()
                case .busy: metrics.workerBusy()
                }
            })
        var events = RecorderEvents()
        events.committed = { frames, bytes, fsync in metrics.recorded(frames: frames, bytes: bytes, fsync: fsync) }
        events.sessionsOpen = { metrics.sessionsOpen.record(Double($0)) }
        let recorder: Recorder
        do throws(RecordingError) {
            recorder = try Recorder(configuration: configuration.recorderConfiguration, logger: logger, events: events)
        } catch {
            throw ConfigurationError(message: "recording: \(error)")
        }
        self.recorder = recorder
        self.reader = SessionReader(recordingsDirectory: recorder.configuration.directory, index: recorder.index)
        let auditLog: AuditLog
        do throws(RecordingError) {
            auditLog = try AuditLog(dataDirectory: configuration.dataDirectory, key: recorder.key)
        } catch {
            throw ConfigurationError(message: "audit log: \(error)")
        }
        self.audit = auditLog
        registry = StreamRegistry(
            hub: hub, codecs: codecs, maxStreams: configuration.maxStreams, metrics: metrics, logger: logger,
            onRenderFault: { frame, error in
                metrics.dropped("render_fault")
                recorder.event(stream: frame.header.stream, event: "renderFault", seq: frame.header.seq, detail: "\(error)")
            })
        let quarantine = FaultQuarantine(
            threshold: configuration.quarantineAfterFaults, window: .milliseconds(Int(configuration.quarantineWindowSeconds * 1000)),
            duration: .milliseconds(Int(configuration.quarantineSeconds * 1000)))
        processor = IngestProcessor(
            registry: registry, recorder: recorder, maxImageBytes: configuration.maxImageBytes, quarantine: quarantine, logger: logger)
        sockets = SocketLimiter(maxPerToken: configuration.maxSocketsPerToken)
        watch = TokenWatch(tokens: tokens, interval: .milliseconds(Int(configuration.tokenCheckSeconds * 1000)), logger: logger)
        httpRate = TokenRateLimiter(rate: configuration.framesPerSecondPerDevice, burst: configuration.frameBurst)
        refusals = UpgradeRefusals()
    }
}
