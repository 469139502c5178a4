import HerdOverlay
import HerdProtocol
import HerdWorker
import Prometheus
import Synchronization

/// The service's Prometheus metrics, all named `herd_*`, in a registry of its own (each built
/// application has one, so tests never share global state). Served at `/metrics`.
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let latencyBuckets: [Duration] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000].map { .milliseconds($0) }
    private let framesInByStream = Mutex<[String: Counter]>([:])
    private let framesOutByStream = Mutex<[String: Counter]>([:])

    let viewers: Gauge
    let devices: Gauge
    let bytesOut: Counter
    let decode: DurationHistogram
    let compose: DurationHistogram
    let encode: DurationHistogram
    /// Server receive to the frame handed to viewers.
    let ingestLatency: DurationHistogram
    /// Server receive to the frame written to a viewer's socket.
    let deliveryLatency: DurationHistogram
    /// Recording: frames and bytes made durable, fsync time per group commit, receive to ack.
    let framesRecorded: Counter
    let bytesRecorded: Counter
    let fsyncLatency: DurationHistogram
    let ackLatency: DurationHistogram
    let sessionsOpen: Gauge
    let storageFree: Gauge
    let storageUsed: Gauge
    /// Codec workers with a request in progress (sampled at scrape).
    let workersBusy: Gauge

    init() {
        let stage = Self.name("stage", "seconds", "Time per frame in each pipeline stage")
        viewers = registry.makeGauge(descriptor: Self.name("viewers", "", "Open live-view WebSockets"))
        devices = registry.makeGauge(descriptor: Self.name("devices", "", "Open device ingest WebSockets"))
        bytesOut = registry.makeCounter(descriptor: Self.name("bytes_out", "total", "Bytes of frames written to viewers"))
        decode = registry.makeDurationHistogram(descriptor: stage, labels: [("stage", "decode")], buckets: latencyBuckets)
        compose = registry.makeDurationHistogram(descriptor: stage, labels: [("stage", "compose")], buckets: latencyBuckets)
        encode = registry.makeDurationHistogram(descriptor: stage, labels: [("stage", "encode")], buckets: latencyBuckets)
        ingestLatency = registry.makeDurationHistogram(descriptor: Self.name("ingest_latency", "seconds", "Server receive to broadcast"), buckets: latencyBuckets)
        deliveryLatency = registry.makeDurationHistogram(descriptor: Self.name("delivery_latency", "seconds", "Server receive to written on a viewer socket"), buckets: latencyBuckets)
        framesRecorded = registry.makeCounter(descriptor: Self.name("frames_recorded", "total", "Frames made durable in the recording"))
        bytesRecorded = registry.makeCounter(descriptor: Self.name("recorded_bytes", "total", "Bytes made durable in the recording"))
        let fine: [Duration] = [0.5, 1, 2, 5, 10, 20, 50, 100, 150, 200, 500, 1000].map { .microseconds(Int64($0 * 1000)) }
        fsyncLatency = registry.makeDurationHistogram(descriptor: Self.name("recording_fsync", "seconds", "fsync time of one group commit"), buckets: fine)
        ackLatency = registry.makeDurationHistogram(descriptor: Self.name("ack_latency", "seconds", "Server receive to the ack (frame durable)"), buckets: fine)
        sessionsOpen = registry.makeGauge(descriptor: Self.name("sessions_open", "", "Recording sessions open"))
        storageFree = registry.makeGauge(descriptor: Self.name("recording_free", "bytes", "Free space on the recordings' file system"))
        storageUsed = registry.makeGauge(descriptor: Self.name("recording_used", "bytes", "Bytes held by recordings"))
        workersBusy = registry.makeGauge(descriptor: Self.name("codec_workers_busy", "", "Codec workers with a request in progress"))
    }

    func frameIn(_ stream: StreamID) {
        counter(in: framesInByStream, Self.name("frames_in", "total", "Frames accepted from devices"), stream: stream).increment()
    }

    /// The stream's frames-written-to-viewers counter; a viewer looks it up once per stream it watches.
    func framesOut(_ stream: StreamID) -> Counter {
        counter(in: framesOutByStream, Self.name("frames_out", "total", "Frames written to viewers (one per viewer)"), stream: stream)
    }

    private func counter(in cache: borrowing Mutex<[String: Counter]>, _ name: MetricNameDescriptor, stream: StreamID) -> Counter {
        cache.withLock { counters in
            if let c = counters[stream.rawValue] { return c }
            let c = registry.makeCounter(descriptor: name, labels: [("stream", stream.rawValue)])
            if counters.count < 1024 { counters[stream.rawValue] = c }
            return c
        }
    }

    func recorded(frames: Int, bytes: Int64, fsync: Duration) {
        framesRecorded.increment(by: Int64(frames))
        bytesRecorded.increment(by: bytes)
        fsyncLatency.record(fsync)
    }

    /// The metrics reason for a refusal code.
    static func reason(forCode code: String) -> String {
        switch code {
        case "rateLimited": "rate_limited"
        case "workerCrashed", "workerTimeout": "worker_fault"
        case "quarantined": "quarantined"
        case "storageFull": "storage_full"
        case "storage", "shuttingDown": "storage"
        case "seqConflict": "seq_conflict"
        case "workerUnavailable", "workerRestarted", "tooManyStreams": "busy"
        default: "rejected"
        }
    }

    /// Frames not delivered or not kept, by reason: `duplicate`, `rejected` (bad image or header),
    /// `rate_limited`, `slow_viewer`, `worker_fault` (a codec worker crashed or hung on it), `quarantined`,
    /// `storage_full`, `storage`, `seq_conflict`, `busy`, `render_fault` (recorded, not shown).
    func dropped(_ reason: String, count: Int = 1) {
        registry.makeCounter(descriptor: Self.name("frames_dropped", "total", "Frames dropped, by reason"), labels: [("reason", reason)])
            .increment(by: Int64(count))
    }

    /// A codec worker crashed (`crash`) or overran its deadline (`timeout`) on a request.
    func workerFault(_ error: CodecWorkerError) {
        registry.makeCounter(
            descriptor: Self.name("codec_worker_faults", "total", "Codec worker crashes and deadline overruns, by kind"),
            labels: [("kind", error == .timedOut() ? "timeout" : "crash")]
        ).increment()
    }

    /// A codec worker process started (the first ones, and every replacement).
    func workerStarted() {
        registry.makeCounter(descriptor: Self.name("codec_worker_starts", "total", "Codec worker processes started")).increment()
    }

    /// A request refused because every codec worker was busy past its queue bound.
    func workerBusy() {
        registry.makeCounter(descriptor: Self.name("codec_worker_busy", "total", "Requests refused: every codec worker busy")).increment()
    }

    func record(_ report: ComposeReport) {
        decode.record(report.decode)
        compose.record(report.compose)
        encode.record(report.encode)
    }

    func exposition() -> [UInt8] { registry.emitToBuffer() }

    /// `herd_<metric>_<unit>` with its help text.
    private static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "herd", metricName: metric, unitName: unit, helpText: help)
    }
}
