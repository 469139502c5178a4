import Foundation
import HTTPTypes
import HerdProtocol
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore

func jsonResponse(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
    var headers = HTTPFields()
    headers[.contentType] = "application/json"
    return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: WireJSON.encode(value))))
}

/// Builds the HerdLens service: the same function `herdlens serve` runs and tests boot on an ephemeral
/// port. The routes, by concern:
/// - viewer: the web app and its sign-in session (`ViewerRoutes.swift`);
/// - ingest: `POST /api/v1/streams/{stream}/frames`, WebSocket `/api/v1/ingest` (`IngestRoutes.swift`);
/// - live: WebSocket `/api/v1/live`, `GET /api/v1/streams` (`LiveRoutes.swift`);
/// - sessions: recorded sessions, verify, hold (`SessionRoutes.swift`);
/// - replay and audit: WebSocket `/api/v1/sessions/{id}/replay`, `/api/v1/audit` (`ReplayRoutes.swift`);
/// - export: evidence bundles and MCAP, streamed (`ExportRoutes.swift`);
/// - operations: `/healthz`, `/readyz`, `/metrics` (`OperationsRoutes.swift`).
///
/// `onRunning` receives the bound address once the server listens (port 0 picks a free one).
/// `shutdown`, when given, closes live viewers with 1001 as it fires (see `ShutdownNotifier`).
/// Throws `ConfigurationError` for a configuration that does not validate.
public func buildApplication(
    configuration: ServerConfiguration, logger: Logger, shutdown: ShutdownSignal = ShutdownSignal(),
    onRunning: @escaping @Sendable (String, Int) async -> Void = { _, _ in }
) throws -> some ApplicationProtocol {
    let services = try HerdServices(configuration: configuration, logger: logger, shutdown: shutdown)
    // The hub alone: the signal lives as long as the services, and a closure holding them would be a cycle.
    shutdown.onTrigger { [hub = services.hub] in hub.closeAll() }

    let router = Router(context: HerdRequestContext.self)
    router.middlewares.add(WebSocketSlotRelease())
    router.middlewares.add(UpgradeRefusalMiddleware(refusals: services.refusals))
    router.middlewares.add(TokenAuthenticator(tokens: services.tokens))
    services.addViewerRoutes(to: router)
    services.addIngestRoutes(to: router)
    services.addLiveRoutes(to: router)
    services.addSessionRoutes(to: router)
    services.addReplayRoutes(to: router)
    services.addConfigRoutes(to: router)
    services.addExportRoutes(to: router)
    services.addOperationsRoutes(to: router)

    let refusals = services.refusals
    return Application(
        router: router,
        server: .guardedHTTP1WebSocketUpgrade(
            webSocketRouter: router,
            configuration: HTTP1WebSocketUpgradeChannel.Configuration(
                http1: .init(additionalChannelHandlers: [UpgradeRefusalHandler(refusals: refusals)]),
                ws: .init(
                    maxFrameSize: configuration.maxImageBytes + configuration.maxHeaderBytes + 4,
                    autoPing: .enabled(timePeriod: .milliseconds(Int64(configuration.webSocketPingSeconds * 1000))))),
            headTimeout: .milliseconds(Int64(configuration.requestHeadTimeoutSeconds * 1000))),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "HerdLens"),
        services: [
            services.watch, CodecWorkerService(pool: services.codecs),
            RecorderService(
                recorder: services.recorder, registry: services.registry,
                pipelineIdle: .milliseconds(Int(configuration.pipelineIdleSeconds * 1000)), audit: services.audit),
        ],
        onServerRunning: { channel in
            await onRunning(configuration.host, channel.localAddress?.port ?? configuration.port)
        },
        logger: logger
    )
}
