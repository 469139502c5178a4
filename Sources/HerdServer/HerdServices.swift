import Crypto
import Foundation
import HerdAnalysis
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
    /// Marks to the field devices' ingest sockets.
    let field: FieldHub
    let metrics: ServerMetrics
    let codecs: CodecWorkerPool
    let registry: StreamRegistry
    let configs: StreamConfigStore
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
        let field = FieldHub()
        self.field = field
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
        let configs: StreamConfigStore
        do {
            configs = try StreamConfigStore(dataDirectory: configuration.dataDirectory)
        } catch {
            throw ConfigurationError(message: "stream configuration store: \(error)")
        }
        self.configs = configs
        let reader = self.reader
        var markLimits = MarkBoard.Limits()
        markLimits.maxMarks = configuration.maxMarksPerStream
        registry = StreamRegistry(
            hub: hub, field: field, markLimits: markLimits, codecs: codecs, maxStreams: configuration.maxStreams, metrics: metrics, logger: logger, configs: configs,
            onRenderFault: { frame, error in
                metrics.dropped("render_fault")
                recorder.event(stream: frame.header.stream, event: "renderFault", seq: frame.header.seq, detail: "\(error)")
            },
            onAnalysis: { stream, note in Self.record(note, stream: stream, recorder: recorder) },
            onCreate: { stream, pipeline in
                Task { await Self.restoreCount(stream: stream, pipeline: pipeline, recorder: recorder, reader: reader, logger: logger) }
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

    /// Keeps what analysis found with the stream's open session, as `event` records: `alert.raised`,
    /// `alert.escalated`, `alert.cleared`, `alert.acknowledged` (the alert as JSON, its evidence seq),
    /// `crossing` (the crossing and the net counts after it), `mark`, `mark.clear`, `mark.ack` (an
    /// inspector's mark and its author), `analysis.config` (the analyser's version,
    /// the SHA-256 of its canonical configuration, and the configuration).
    static func record(_ note: AnalysisNote, stream: StreamID, recorder: Recorder) {
        switch note {
        case .alert(let event):
            recorder.event(stream: stream, event: "alert.\(event.change.rawValue)", seq: event.alert.seq, detail: WireJSON.encodeString(event.alert))
        case .crossing(let crossing, let counts):
            recorder.event(stream: stream, event: "crossing", seq: crossing.seq, detail: WireJSON.encodeString(CrossingRecord(crossing: crossing, counts: counts)))
        case .configuration(let version, let json):
            let hash = SHA256.hash(data: json).map { String(format: "%02x", $0) }.joined()
            let detail = #"{"version":"\#(version)","configSHA256":"\#(hash)","config":"# + String(decoding: json, as: UTF8.self) + "}"
            recorder.event(stream: stream, event: "analysis.config", detail: detail)
        case .sealed(let seq):
            recorder.event(stream: stream, event: "seal.locked", seq: seq)
        case .carried(let from, let crossings):
            recorder.event(stream: stream, event: "count.carried", detail: WireJSON.encodeString(CarriedRecord(from: from, crossings: crossings)))
        case .mark(let event, let mark, let reason, let by):
            recorder.event(stream: stream, event: event, seq: mark.seq, detail: WireJSON.encodeString(MarkRecord(mark: mark, reason: reason, by: by)))
        }
    }

    /// The detail of the `mark`, `mark.clear` and `mark.ack` events: the mark (with its author), why it
    /// ended and who ended or acknowledged it.
    struct MarkRecord: Codable {
        var mark: Mark
        var reason: MarkClear.Reason?
        var by: String?
    }

    /// How long after a crash a loading's count (and marks) carry over to the next session of the same
    /// consignment on the stream.
    static let carryOverSeconds = 6.0 * 3600

    /// The `count.carried` event's detail: the session the count came from and its crossings.
    struct CarriedRecord: Codable {
        var from: String
        var crossings: [Crossing]
    }

    /// The `crossing` event's detail.
    struct CrossingRecord: Codable {
        var crossing: Crossing
        var counts: [String: Int]
    }

    /// After a restart mid-loading (or a pipeline released while idle and created again): when the
    /// stream has an open session, its recorded crossings rebuild the count (and the next track id
    /// continues past the recorded ones), and a recorded `seal.locked` its seal state. One pass over the session's records without their blobs.
    static func restoreCount(stream: StreamID, pipeline: StreamPipeline, recorder: Recorder, reader: SessionReader, logger: Logger) async {
        // Whatever is found, or not, the pipeline is told: its frames wait for this.
        await pipeline.restore(await readBack(stream: stream, recorder: recorder, reader: reader, logger: logger))
    }

    private static func readBack(stream: StreamID, recorder: Recorder, reader: SessionReader, logger: Logger) async -> StreamPipeline.Restored? {
        do {
            // The stream's open session; or, after a crash (recovery closed it as `recovered`), its last one if
            // that ended within `carryOverSeconds`: the loading goes on in the next session of its consignment.
            guard let open = try await recorder.onHousekeeping({ () throws(RecordingError) -> SessionRow? in
                if let open = try recorder.index.openSessions().first(where: { $0.stream == stream.rawValue }) { return open }
                var query = SessionQuery()
                query.streams = [stream.rawValue]
                query.limit = 1
                guard let last = try recorder.index.sessions(query).first, last.endReason == "recovered", let ended = last.endedAtMicros,
                    Double(Int64(Date().timeIntervalSince1970 * 1_000_000) - ended) / 1_000_000 < Self.carryOverSeconds
                else { return nil }
                return last
            })
            else { return nil }
            let (crossings, sealed, marks) = try await BlockingIO.run { () throws -> ([Crossing], Bool, [Mark]) in
                var found: [Crossing] = []
                var sealed = false
                var marks: [String: Mark] = [:]
                try reader.records(of: open, withBlobs: false) { record in
                    guard record.knownKind == .event, let meta = try? JSONDecoder().decode(EventMeta.self, from: Data(record.meta)) else { return }
                    if meta.event == "seal.locked" { sealed = true }
                    // A session that took its count over after a crash recorded the crossings it began with.
                    if meta.event == "count.carried", let detail = meta.detail,
                        let carried = try? JSONDecoder().decode(CarriedRecord.self, from: Data(detail.utf8))
                    {
                        found += carried.crossings
                        return
                    }
                    // Marks placed and not cleared (expiry is the pipeline's to judge).
                    if meta.event == "mark" || meta.event == "mark.clear" || meta.event == "mark.ack", let detail = meta.detail,
                        let mark = try? JSONDecoder().decode(MarkRecord.self, from: Data(detail.utf8)).mark
                    {
                        marks[mark.id] = meta.event == "mark.clear" ? nil : mark
                        return
                    }
                    guard meta.event == "crossing", let detail = meta.detail,
                        let crossing = try? JSONDecoder().decode(CrossingRecord.self, from: Data(detail.utf8)).crossing
                    else { return }
                    found.append(crossing)
                }
                return (found, sealed, marks.values.sorted { $0.at.secondsSince1970 < $1.at.secondsSince1970 })
            }
            logger.notice("count and seal rebuilt from the recording", metadata: [
                "herd.stream": "\(stream)", "herd.session": "\(open.id)", "herd.crossings": "\(crossings.count)", "herd.sealed": "\(sealed)", "herd.marks": "\(marks.count)",
            ])
            return StreamPipeline.Restored(
                session: open.id, consignment: open.consignment, crossings: crossings, sealed: sealed,
                nextTrackID: (crossings.map(\.trackId).max() ?? 0) + 1, marks: marks, closedByRecovery: open.endedAtMicros != nil)
        } catch {
            logger.warning("count not rebuilt from the recording", metadata: ["herd.stream": "\(stream)", "herd.error": "\(error)"])
            return nil
        }
    }
}
