import HerdPipeline
import HerdRecording
import ServiceLifecycle

/// The recorder's clock: every second it closes idle sessions, signs due checkpoints, ends HTTP online
/// leases, releases idle pipelines and ticks the live ones (the silence check); every `housekeepingSeconds` it runs retention and the storage
/// check. On graceful shutdown it closes every open session (reason `shutdown`) after ingest stopped.
struct RecorderService: Service {
    let recorder: Recorder
    let registry: StreamRegistry
    let pipelineIdle: Duration
    /// Its unsigned tail is checkpointed once a minute and at shutdown.
    let audit: AuditLog

    func run() async throws {
        var sinceRetention = Duration.zero
        let retentionEvery = Duration.milliseconds(Int(recorder.configuration.housekeepingSeconds * 1000))
        await recorder.retention()
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
            await recorder.housekeeping()
            registry.hub.expireLeases()
            await registry.releaseIdle(after: pipelineIdle)
            await registry.tick()
            sinceRetention += .seconds(1)
            if sinceRetention >= retentionEvery {
                sinceRetention = .zero
                await recorder.retention()
                await signAudit(force: false)
            }
        }
        await recorder.shutdown()
        await signAudit(force: true)
    }

    private func signAudit(force: Bool) async {
        let audit = self.audit
        _ = try? await BlockingIO.run { () throws(RecordingError) in try audit.checkpoint(force: force) }
    }
}
