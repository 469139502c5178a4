import Foundation
import HTTPTypes
import HerdIdentity
import HerdPipeline
import HerdProtocol
import HerdWorker
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import Synchronization

func jsonResponse(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
    var headers = HTTPFields()
    headers[.contentType] = "application/json"
    return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: WireJSON.encode(value))))
}

/// Builds the HerdLens service: the same function `herdlens serve` runs and tests boot on an ephemeral
/// port. Routes: `/healthz`, `/readyz`, `POST /api/v1/streams/{stream}/frames`, WebSocket
/// `/api/v1/ingest` (devices) and `/api/v1/live` (inspectors).
///
/// `onRunning` receives the bound address once the server listens (port 0 picks a free one).
/// `shutdown`, when given, closes live viewers with 1001 as it fires (see `ShutdownNotifier`).
public func buildApplication(
    configuration: ServerConfiguration, logger: Logger, shutdown: ShutdownSignal = ShutdownSignal(),
    onRunning: @escaping @Sendable (String, Int) async -> Void = { _, _ in }
) throws -> some ApplicationProtocol {
    let tokens = try TokenStore(dataDirectory: configuration.dataDirectory)
    let hub = LiveHub()
    let metrics = ServerMetrics()
    let forensics = FaultForensics(
        dataDirectory: configuration.dataDirectory, maxFiles: configuration.forensicsMaxFiles, maxBytes: configuration.forensicsMaxBytes,
        logger: logger)
    let codecs = CodecWorkerPool(
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
    let registry = StreamRegistry(hub: hub, codecs: codecs, maxStreams: configuration.maxStreams, metrics: metrics, logger: logger)
    let quarantine = FaultQuarantine(
        threshold: configuration.quarantineAfterFaults, window: .milliseconds(Int(configuration.quarantineWindowSeconds * 1000)),
        duration: .milliseconds(Int(configuration.quarantineSeconds * 1000)))
    let slowDropsSeen = Mutex(0)
    shutdown.onTrigger { hub.closeAll() }
    let httpRate = TokenRateLimiter(rate: configuration.framesPerSecondPerDevice, burst: configuration.frameBurst)
    let processor = IngestProcessor(registry: registry, maxImageBytes: configuration.maxImageBytes, quarantine: quarantine, logger: logger)
    let sockets = SocketLimiter(maxPerToken: configuration.maxSocketsPerToken)
    let watch = TokenWatch(
        tokens: tokens, interval: .milliseconds(Int(configuration.tokenCheckSeconds * 1000)), logger: logger)
    let assets = WebAssets()

    let router = Router(context: HerdRequestContext.self)
    router.middlewares.add(TokenAuthenticator(tokens: tokens))

    // The web viewer and its session: a token is exchanged for an HttpOnly cookie.
    router.get("/") { _, _ in try assets.response("index.html") }
    router.get("/app.js") { _, _ in try assets.response("app.js") }
    router.get("/app.css") { _, _ in try assets.response("app.css") }
    router.post("/api/v1/session") { request, _ -> Response in
        struct SignIn: Decodable { var token: String }
        let body = try await request.body.collect(upTo: 4096)
        guard let signIn = try? JSONDecoder().decode(SignIn.self, from: Data(buffer: body)) else {
            throw HerdServerError(.badRequest, code: "badJSON", message: "send {\"token\": \"hl_…\"}")
        }
        let identity: Identity, secret: String
        do throws(IdentityError) {
            identity = try tokens.authenticate(signIn.token)
            guard identity.role != .device else { throw .forbidden("device tokens cannot sign in to the viewer") }
            secret = try tokens.createSession(for: identity, lifetime: SessionCookie.lifetime)
        } catch {
            throw HerdServerError(error)
        }
        var headers = HTTPFields()
        headers[.setCookie] = SessionCookie.set(secret)
        return Response(status: .noContent, headers: headers)
    }
    router.get("/api/v1/session") { _, context -> Response in
        let identity = try context.requireIdentity()
        struct Me: Encodable { var id: String; var name: String; var role: String; var streams: String }
        return jsonResponse(Me(id: identity.id, name: identity.name, role: identity.role.rawValue, streams: identity.streams.storedValue))
    }
    router.delete("/api/v1/session") { request, _ -> Response in
        if let cookie = request.headers[.cookie], let secret = SessionCookie.secret(fromCookieHeader: cookie) {
            do throws(IdentityError) {
                try tokens.endSession(secret)
            } catch {
                throw HerdServerError(error)
            }
        }
        var headers = HTTPFields()
        headers[.setCookie] = SessionCookie.clear
        return Response(status: .noContent, headers: headers)
    }
    router.get("/api/v1/streams") { _, context -> Response in
        let identity = try context.requireIdentity()
        guard identity.role == .inspector || identity.role == .admin else {
            throw HerdServerError.forbidden("a \(identity.role.rawValue) token may not list live streams")
        }
        struct Entry: Encodable { var stream: String; var online: Bool }
        let online = hub.onlineStreams
        var visible = Set(online.filter(identity.canWatch))
        if case .only(let granted) = identity.streams, identity.role == .inspector { visible.formUnion(granted) }
        return jsonResponse(visible.sorted().map { Entry(stream: $0.rawValue, online: online.contains($0)) })
    }

    router.get("/healthz") { _, _ in "ok\n" }
    router.get("/readyz") { _, _ -> Response in
        do throws(IdentityError) {
            _ = try tokens.list()
        } catch {
            throw HerdServerError(.serviceUnavailable, code: "notReady", message: error.message)
        }
        return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ready\n")))
    }

    // Prometheus text format. Stream ids appear as labels: scrape from the operations network.
    router.get("/metrics") { _, _ -> Response in
        let dropped = hub.counters.framesDropped
        let delta = slowDropsSeen.withLock { seen in
            defer { seen = dropped }
            return dropped - seen
        }
        if delta > 0 { metrics.dropped("slow_viewer", count: delta) }
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
    }

    router.post("/api/v1/streams/:stream/frames") { request, context -> Response in
        let identity = try context.requireIdentity()
        guard let stream = context.parameters.get("stream").flatMap(StreamID.init) else {
            throw HerdServerError(.badRequest, code: "invalidStream", message: "stream id must match [A-Za-z0-9._-]{1,64}")
        }
        guard identity.canPublish(to: stream) else { throw HerdServerError.forbidden("token \(identity.id) may not publish to stream \(stream)") }
        guard httpRate.allow(identity.id) else {
            metrics.dropped("rate_limited")
            throw HerdServerError(.tooManyRequests, code: "rateLimited", message: "more than \(Int(configuration.framesPerSecondPerDevice)) frames a second for this token")
        }
        guard let contentType = request.headers[.contentType], let boundary = MultipartFormData.boundary(fromContentType: contentType) else {
            throw HerdServerError(.unsupportedMediaType, code: "unsupportedMediaType", message: "send multipart/form-data with parts 'metadata' and 'image'")
        }
        let limit = configuration.maxImageBytes + configuration.maxHeaderBytes + 16 * 1024
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: limit)
        } catch {
            throw HerdServerError(.contentTooLarge, code: "tooLarge", message: "request body over \(limit) bytes")
        }
        let parts: [MultipartFormData.Part]
        do {
            parts = try MultipartFormData.parse(Array(buffer: body), boundary: boundary)
        } catch {
            throw HerdServerError(.badRequest, code: "badMultipart", message: "\(error)")
        }
        guard let metadata = parts.first(where: { $0.name == "metadata" }), let image = parts.first(where: { $0.name == "image" }) else {
            throw HerdServerError(.badRequest, code: "badMultipart", message: "parts 'metadata' and 'image' are both required")
        }
        guard metadata.body.count <= configuration.maxHeaderBytes else {
            throw HerdServerError(.contentTooLarge, code: "headerTooLarge", message: "metadata over \(configuration.maxHeaderBytes) bytes")
        }
        do {
            guard case .frame(let header) = try DeviceMessage.decode(metadata.body) else {
                throw IngestFailure(code: "unknownType", message: "metadata must be a frame header", status: 400)
            }
            guard header.stream == stream else {
                throw IngestFailure(code: "invalidStream", message: "metadata names stream \(header.stream), the URL \(stream)", status: 400)
            }
            let ack = try await processor.frame(header, image: Array(image.body), identity: identity)
            if ack.duplicate == true {
                throw IngestFailure(code: "duplicateSeq", message: "seq \(ack.seq) of \(stream) was already received", status: 409, stream: stream.rawValue, seq: ack.seq)
            }
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            return Response(status: .created, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: WireJSON.encode(ack))))
        } catch let error as ProtocolError {
            let failure = IngestFailure(error)
            throw HerdServerError(HTTPResponse.Status(code: failure.status), code: failure.code, message: failure.message)
        } catch let failure as IngestFailure {
            throw HerdServerError(
                HTTPResponse.Status(code: failure.status), code: failure.code, message: failure.message,
                retryAfterSeconds: failure.retryAfterSeconds)
        }
    }

    router.ws("/api/v1/ingest") { _, context in
        let identity = try context.requireIdentity()
        guard identity.role == .device || identity.role == .admin else {
            throw HerdServerError.forbidden("a \(identity.role.rawValue) token may not publish frames")
        }
        guard sockets.acquire(identity.id) else {
            throw HerdServerError(.tooManyRequests, code: "tooManySockets", message: "token \(identity.id) already has \(configuration.maxSocketsPerToken) sockets open")
        }
        return .upgrade([:])
    } onUpgrade: { inbound, outbound, context in
        let identity = context.requestContext.identity!
        defer { sockets.release(identity.id) }
        let session = DeviceSession(
            processor: processor, identity: identity, configuration: configuration, logger: context.logger, shutdown: shutdown,
            watch: watch)
        try await session.run(inbound: inbound, outbound: outbound)
    }

    router.ws("/api/v1/live") { request, context in
        let identity = try context.requireIdentity()
        let requested = request.uri.queryParameters.getAll("stream")
        guard !requested.isEmpty else {
            throw HerdServerError(.badRequest, code: "invalidStream", message: "name at least one ?stream=<id>")
        }
        for value in requested {
            guard let stream = StreamID(String(value)) else {
                throw HerdServerError(.badRequest, code: "invalidStream", message: "'\(value)' is not a stream id")
            }
            guard identity.canWatch(stream) else {
                throw HerdServerError.forbidden("token \(identity.id) (\(identity.role.rawValue)) may not watch stream \(stream)")
            }
        }
        _ = try viewerOptions(request)
        guard sockets.acquire(identity.id) else {
            throw HerdServerError(.tooManyRequests, code: "tooManySockets", message: "token \(identity.id) already has \(configuration.maxSocketsPerToken) sockets open")
        }
        return .upgrade([:])
    } onUpgrade: { inbound, outbound, context in
        let identity = context.requestContext.identity!
        defer { sockets.release(identity.id) }
        let initialOptions = (try? viewerOptions(context.request)) ?? ViewerOptions()
        let streams = Set(context.request.uri.queryParameters.getAll("stream").compactMap { StreamID(String($0)) })
        // Room for a few whole frames before the socket reads as full: a frame written to an idle socket
        // then never flips writability (a costly round trip per frame per viewer), while a viewer that
        // stops reading still stalls its writer after ViewerSession.writeBuffer bytes.
        try? await context.requestContext.channel.setOption(ChannelOptions.writeBufferWaterMark, value: ViewerSession.writeBuffer).get()
        let session = ViewerSession(
            hub: hub, metrics: metrics, shutdown: shutdown, watch: watch, token: identity.id, streams: streams,
            initialOptions: initialOptions, writeTimeout: .milliseconds(Int(configuration.viewerWriteTimeoutSeconds * 1000)),
            logger: context.logger)
        try await session.run(inbound: inbound, outbound: outbound)
    }

    return Application(
        router: router,
        server: .http1WebSocketUpgrade(
            webSocketRouter: router,
            configuration: .init(ws: .init(maxFrameSize: configuration.maxImageBytes + configuration.maxHeaderBytes + 4))),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "HerdLens"),
        services: [watch, CodecWorkerService(pool: codecs)],
        onServerRunning: { channel in
            await onRunning(configuration.host, channel.localAddress?.port ?? configuration.port)
        },
        logger: logger
    )
}

/// Viewer options given in the live URL (`maxWidth`, `overlay`): checked like an `options` message,
/// 400 when malformed or out of range.
private func viewerOptions(_ request: Request) throws -> ViewerOptions {
    let query = request.uri.queryParameters
    var options = ViewerOptions()
    if let width = query.get("maxWidth") {
        guard let value = Int(width) else { throw HerdServerError(.badRequest, code: "invalidMessage", message: "maxWidth must be a whole number") }
        options.maxWidth = value
    }
    if let overlay = query.get("overlay") {
        guard overlay == "true" || overlay == "false" else { throw HerdServerError(.badRequest, code: "invalidMessage", message: "overlay must be true or false") }
        options.overlay = overlay == "true"
    }
    do throws(ProtocolError) {
        try options.validate()
    } catch {
        throw HerdServerError(.badRequest, code: error.code, message: error.message)
    }
    return options
}
