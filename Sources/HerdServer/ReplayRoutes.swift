import Foundation
import HerdIdentity
import HerdProtocol
import HerdRecording
import Hummingbird
import HummingbirdWebSocket
import NIOCore

extension HerdServices {
    /// Auditors: replay of a recorded session (WebSocket) and the audit log.
    func addReplayRoutes(to router: Router<HerdRequestContext>) {
        let recorder = self.recorder, reader = self.reader, codecs = self.codecs, audit = self.audit, shutdown = self.shutdown
        let sockets = self.sockets, configuration = self.configuration, services = self

        router.ws("/api/v1/sessions/:id/replay") { request, context in
            let identity = try context.requireIdentity()
            _ = try await services.readableSession(context.parameters.get("id") ?? "", identity)
            _ = try replayOverlay(request)
            guard sockets.acquire(identity.id) else {
                throw HerdServerError(.tooManyRequests, code: "tooManySockets", message: "token \(identity.id) already has \(configuration.maxSocketsPerToken) sockets open")
            }
            return .upgrade([:])
        } onUpgrade: { inbound, outbound, context in
            let identity = context.requestContext.identity!
            defer { sockets.release(identity.id) }
            let id = context.requestContext.parameters.get("id") ?? ""
            let loaded: (SessionRow, ReplaySession.Timeline)?
            do throws(RecordingError) {
                loaded = try await recorder.onHousekeeping { () throws(RecordingError) -> (SessionRow, ReplaySession.Timeline)? in
                    guard let row = try reader.index.session(id) else { return nil }
                    return (row, try ReplaySession.loadTimeline(row, reader: reader))
                }
            } catch {
                try await outbound.write(.text(WireJSON.encodeString(ErrorReply(code: error.code, message: error.message))))
                return
            }
            guard let (row, timeline) = loaded else {
                // Purged between the upgrade and now: say so rather than close in silence.
                try await outbound.write(.text(WireJSON.encodeString(ErrorReply(code: "notFound", message: "no session \(id)"))))
                return
            }
            let remote = context.requestContext.remote
            await services.note(HerdServices.entry(identity, "replay.start", stream: row.stream, session: row.id, remote: remote))
            try? await context.requestContext.channel.setOption(ChannelOptions.writeBufferWaterMark, value: ViewerSession.writeBuffer).get()
            let session = ReplaySession(
                row: row, reader: reader, codecs: codecs, audit: audit, identity: identity, remote: remote, shutdown: shutdown,
                initialOverlay: (try? replayOverlay(context.request)) ?? true,
                writeTimeout: .milliseconds(Int(configuration.viewerWriteTimeoutSeconds * 1000)), logger: context.logger)
            try await session.run(timeline: timeline, inbound: inbound, outbound: outbound)
        }

        router.get("/api/v1/audit") { request, context -> Response in
            let identity = try context.requireIdentity()
            guard identity.role == .auditor || identity.role == .admin else {
                throw HerdServerError.forbidden("only auditors and admins read the audit log")
            }
            let q = request.uri.queryParameters
            var query = AuditQuery()
            query.fromMicros = try queryTime(q.get("from"), "from")
            query.toMicros = try queryTime(q.get("to"), "to")
            query.actor = q.get("actor")
            query.session = q.get("session")
            query.action = q.get("action")
            if let after = q.get("after") {
                guard let n = UInt64(after) else { throw HerdServerError(.badRequest, code: "invalidMessage", message: "after must be an entry index") }
                query.afterIndex = n
            }
            if let limit = q.get("limit") {
                guard let n = Int(limit), (1...5000).contains(n) else { throw HerdServerError(.badRequest, code: "invalidMessage", message: "limit must be 1...5000") }
                query.limit = n
            }
            let page = query
            let entries = try await BlockingIO.run { () throws(RecordingError) in try audit.entries(page) }
            struct Listing: Encodable { var entries: [AuditEntry]; var next: UInt64? }
            return jsonResponse(Listing(entries: entries, next: entries.count == query.limit ? entries.last?.index : nil))
        }

        router.get("/api/v1/audit/verify") { _, context -> Response in
            let identity = try context.requireIdentity()
            guard identity.role == .auditor || identity.role == .admin else {
                throw HerdServerError.forbidden("only auditors and admins verify the audit log")
            }
            let report = try await BlockingIO.run { () throws(RecordingError) in try audit.verify() }
            await services.note(HerdServices.entry(identity, "audit.verify", detail: report.ok ? "ok" : report.failure?.detail, remote: context.remote))
            return jsonResponse(report)
        }
    }
}

/// `?overlay=true|false` on the replay URL (default true).
func replayOverlay(_ request: Request) throws -> Bool {
    guard let value = request.uri.queryParameters.get("overlay") else { return true }
    guard value == "true" || value == "false" else { throw HerdServerError(.badRequest, code: "invalidMessage", message: "overlay must be true or false") }
    return value == "true"
}
