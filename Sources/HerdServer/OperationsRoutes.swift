import HTTPTypes
import HerdIdentity
import HerdRecording
import Hummingbird
import NIOCore

extension HerdServices {
    /// `/healthz` (the process answers), `/readyz` (tokens readable, recorder writable, space left),
    /// `/metrics` (Prometheus text; stream ids appear as labels: scrape from the operations network).
    func addOperationsRoutes(to router: Router<HerdRequestContext>) {
        let tokens = self.tokens, recorder = self.recorder, hub = self.hub, metrics = self.metrics, seen = self, codecs = self.codecs
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/readyz") { _, _ -> Response in
            do throws(IdentityError) {
                _ = try await BlockingIO.run { () throws(IdentityError) in try tokens.list() }
            } catch {
                throw HerdServerError(.serviceUnavailable, code: "notReady", message: error.message)
            }
            do throws(RecordingError) {
                try await recorder.onHousekeeping { () throws(RecordingError) in try recorder.checkWritable() }
            } catch {
                throw HerdServerError(.serviceUnavailable, code: "notReady", message: "recording: \(error.message)")
            }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ready\n")))
        }
        router.get("/metrics") { _, _ -> Response in
            let dropped = hub.counters.framesDropped
            let delta = seen.slowDropsSeen.withLock { last in
                defer { last = dropped }
                return dropped - last
            }
            if delta > 0 { metrics.dropped("slow_viewer", count: delta) }
            metrics.storageFree.record(Double(recorder.freeBytes()))
            metrics.storageUsed.record(Double(recorder.recordedBytes))
            metrics.workersBusy.record(Double(codecs.busyOperations.compactMap { $0 }.count))
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
        }
    }
}
