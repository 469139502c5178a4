import HerdOverlay
import HerdProtocol
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

    init() {
        viewers = registry.makeGauge(name: "herd_viewers", help: "Open live-view WebSockets")
        devices = registry.makeGauge(name: "herd_devices", help: "Open device ingest WebSockets")
        bytesOut = registry.makeCounter(name: "herd_bytes_out_total", help: "Bytes of frames written to viewers")
        decode = registry.makeDurationHistogram(name: "herd_stage_seconds", labels: [("stage", "decode")], buckets: latencyBuckets, help: "Time per frame in each pipeline stage")
        compose = registry.makeDurationHistogram(name: "herd_stage_seconds", labels: [("stage", "compose")], buckets: latencyBuckets, help: "Time per frame in each pipeline stage")
        encode = registry.makeDurationHistogram(name: "herd_stage_seconds", labels: [("stage", "encode")], buckets: latencyBuckets, help: "Time per frame in each pipeline stage")
        ingestLatency = registry.makeDurationHistogram(name: "herd_ingest_latency_seconds", buckets: latencyBuckets, help: "Server receive to broadcast")
        deliveryLatency = registry.makeDurationHistogram(name: "herd_delivery_latency_seconds", buckets: latencyBuckets, help: "Server receive to written on a viewer socket")
    }

    func frameIn(_ stream: StreamID) {
        counter(in: framesInByStream, name: "herd_frames_in_total", stream: stream, help: "Frames accepted from devices").increment()
    }

    /// The stream's frames-written-to-viewers counter; a viewer looks it up once per stream it watches.
    func framesOut(_ stream: StreamID) -> Counter {
        counter(in: framesOutByStream, name: "herd_frames_out_total", stream: stream, help: "Frames written to viewers (one per viewer)")
    }

    private func counter(in cache: borrowing Mutex<[String: Counter]>, name: String, stream: StreamID, help: String) -> Counter {
        cache.withLock { counters in
            if let c = counters[stream.rawValue] { return c }
            let c = registry.makeCounter(name: name, labels: [("stream", stream.rawValue)], help: help)
            if counters.count < 1024 { counters[stream.rawValue] = c }
            return c
        }
    }

    /// Frames not delivered, by reason: `duplicate`, `rejected` (bad image or header), `rate_limited`, `slow_viewer`.
    func dropped(_ reason: String, count: Int = 1) {
        registry.makeCounter(name: "herd_frames_dropped_total", labels: [("reason", reason)], help: "Frames dropped, by reason")
            .increment(by: Int64(count))
    }

    func record(_ report: ComposeReport) {
        decode.record(report.decode)
        compose.record(report.compose)
        encode.record(report.encode)
    }

    func exposition() -> [UInt8] { registry.emitToBuffer() }
}
