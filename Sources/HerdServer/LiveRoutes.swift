import HerdIdentity
import HerdProtocol
import Hummingbird
import HummingbirdWebSocket
import NIOCore

extension HerdServices {
    /// Inspectors: the live WebSocket and the list of streams they may watch.
    func addLiveRoutes(to router: Router<HerdRequestContext>) {
        let hub = self.hub, sockets = self.sockets, configuration = self.configuration, metrics = self.metrics
        let shutdown = self.shutdown, watch = self.watch, services = self
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
            let remote = context.requestContext.remote
            let watched = streams.map(\.rawValue).sorted().joined(separator: ",")
            await services.note(HerdServices.entry(identity, "live.start", stream: streams.count == 1 ? watched : nil, detail: "streams \(watched)", remote: remote))
            let startedAt = Timestamp.now().text
            @Sendable func ended() async {
                var entry = HerdServices.entry(identity, "live.end", stream: streams.count == 1 ? watched : nil, detail: "streams \(watched)", remote: remote)
                entry.from = startedAt
                entry.to = Timestamp.now().text
                await services.note(entry)
            }
            let registry = services.registry
            let acknowledge: @Sendable (String) async -> Result<Alert, ProtocolError> = { id in
                guard identity.role == .inspector || identity.role == .admin else {
                    return .failure(.forbidden("token \(identity.id) (\(identity.role.rawValue)) may not acknowledge alerts"))
                }
                for stream in streams.sorted() {
                    guard let pipeline = registry.existing(stream) else { continue }
                    if let alert = await pipeline.acknowledge(alert: id, by: "\(identity.name) (\(identity.id))") {
                        await services.note(HerdServices.entry(identity, "alert.ack", stream: stream.rawValue, session: alert.session, detail: "\(alert.id) \(alert.rule)", remote: remote))
                        return .success(alert)
                    }
                }
                return .failure(.notFound("no alert \(id) on the streams this socket watches"))
            }
            let author = "\(identity.name) (\(identity.id))"
            /// Inspectors and admins mark the streams this socket watches.
            @Sendable func mayMark(_ stream: StreamID) -> ProtocolError? {
                guard identity.role == .inspector || identity.role == .admin else {
                    return .forbidden("token \(identity.id) (\(identity.role.rawValue)) may not place marks")
                }
                guard streams.contains(stream), identity.canWatch(stream) else {
                    return .forbidden("this socket does not watch stream \(stream): open it with ?stream=\(stream)")
                }
                return nil
            }
            let mark: @Sendable (MarkRequest) async -> Result<Mark, ProtocolError> = { request in
                if let refusal = mayMark(request.stream) { return .failure(refusal) }
                guard let pipeline = try? registry.pipeline(for: request.stream) else {
                    return .failure(.notFound("stream \(request.stream) cannot take marks now: the server runs too many streams"))
                }
                do throws(ProtocolError) {
                    return .success(try await pipeline.place(request, by: author))
                } catch {
                    return .failure(error)
                }
            }
            let clearMark: @Sendable (String, StreamID?) async -> Result<Mark, ProtocolError> = { id, named in
                for stream in (named.map { [$0] } ?? streams.sorted()) {
                    if let refusal = mayMark(stream) { return .failure(refusal) }
                    if let cleared = await registry.existing(stream)?.clearMark(id: id, by: author) { return .success(cleared) }
                }
                return .failure(.notFound("no mark \(id) live on the streams this socket watches"))
            }
            let session = ViewerSession(
                hub: hub, metrics: metrics, shutdown: shutdown, watch: watch, token: identity.id, streams: streams,
                initialOptions: initialOptions, writeTimeout: .milliseconds(Int(configuration.viewerWriteTimeoutSeconds * 1000)),
                logger: context.logger, acknowledge: acknowledge, mark: mark, clearMark: clearMark,
                marksPerSecond: configuration.marksPerSecondPerSocket, markBurst: configuration.markBurst)
            do {
                try await session.run(inbound: inbound, outbound: outbound)
            } catch {
                await ended()
                throw error
            }
            await ended()
        }
    }
}

/// Viewer options given in the live URL (`maxWidth`, `overlay`): checked like an `options` message,
/// 400 when malformed or out of range.
func viewerOptions(_ request: Request) throws -> ViewerOptions {
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
