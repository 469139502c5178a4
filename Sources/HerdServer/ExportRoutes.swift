import Foundation
import HTTPTypes
import HerdExport
import HerdIdentity
import HerdProtocol
import HerdRecording
import Hummingbird
import NIOCore

extension HerdServices {
    /// `GET /api/v1/sessions/{id}/export?format=bundle|mcap` and
    /// `GET /api/v1/consignments/{id}/export?format=…` (every session of a consignment, all streams):
    /// written on a thread of its own and streamed as it is written.
    func addExportRoutes(to router: Router<HerdRequestContext>) {
        let services = self
        router.get("/api/v1/sessions/:id/export") { request, context -> Response in
            let identity = try context.requireIdentity()
            let row = try await services.readableSession(context.parameters.get("id") ?? "", identity)
            return try await services.export([row], name: row.id, request: request, identity: identity, remote: context.remote)
        }
        router.get("/api/v1/consignments/:id/export") { request, context -> Response in
            let identity = try context.requireIdentity()
            guard identity.role != .device else { throw HerdServerError.forbidden("a device token may not read recordings") }
            let id = context.parameters.get("id") ?? ""
            let index = services.recorder.index
            var query = SessionQuery()
            query.consignment = id
            query.limit = 500
            let page = query
            let rows = try await services.recorder.onHousekeeping { () throws(RecordingError) in try index.sessions(page) }
                .filter { StreamID($0.stream).map(identity.canReadRecordings) ?? false }
                .sorted { ($0.startedAtMicros, $0.id) < ($1.startedAtMicros, $1.id) }
            guard !rows.isEmpty else { throw HerdServerError(.notFound, code: "notFound", message: "no recorded session of consignment \(id)") }
            return try await services.export(rows, name: "consignment-" + id, request: request, identity: identity, remote: context.remote)
        }
    }

    private func export(_ rows: [SessionRow], name: String, request: Request, identity: Identity, remote: String?) async throws -> Response {
        let format = request.uri.queryParameters.get("format") ?? "bundle"
        guard format == "bundle" || format == "mcap" else {
            throw HerdServerError(.badRequest, code: "invalidMessage", message: "format must be bundle or mcap")
        }
        let auditEntries: [AuditEntry]
        do throws(RecordingError) {
            // The export is itself audited, before it starts: its entry is inside the bundle it makes.
            var entry = HerdServices.entry(identity, "export", stream: rows.count == 1 ? rows[0].stream : nil, session: rows.count == 1 ? rows[0].id : nil, detail: "format \(format)" + (rows.count > 1 ? "; sessions \(rows.map(\.id).joined(separator: ","))" : ""), remote: remote)
            entry.fromSeq = rows.compactMap(\.minSeq).min()
            entry.toSeq = rows.compactMap(\.maxSeq).max()
            entry.frames = rows.reduce(0) { $0 + $1.frames }
            try await audit.record(entry)
            let audit = self.audit
            auditEntries = try await BlockingIO.run { () throws(RecordingError) in try audit.entries(sessions: rows.map(\.id)) }
        } catch {
            throw HerdServerError(.serviceUnavailable, code: "auditUnavailable", message: "the export cannot be audited, so it is refused: \(error.message)")
        }
        let pipe = ChunkPipe()
        let reader = self.reader, key = recorder.key, temporary = configuration.dataDirectory + "/tmp", logger = self.logger
        let exportedBy = "\(identity.id) (\(identity.name), \(identity.role.rawValue))"
        Thread.detachNewThread {
            do {
                let summary: ExportSummary
                if format == "bundle" {
                    summary = try BundleExporter(reader: reader, key: key, temporaryDirectory: temporary).export(
                        sessions: rows, audit: auditEntries, exportedBy: exportedBy, to: pipe, cancelled: { pipe.isCancelled })
                } else {
                    summary = try McapExporter(reader: reader).export(sessions: rows, to: pipe, cancelled: { pipe.isCancelled })
                }
                logger.info("export written", metadata: ["herd.export.format": "\(format)", "herd.export.bytes": "\(summary.bytes)", "herd.export.frames": "\(summary.frames)"])
                pipe.finish()
            } catch {
                logger.warning("export ended early", metadata: ["herd.export.format": "\(format)", "herd.error": "\(error)"])
                pipe.finish(error)
            }
        }
        var headers = HTTPFields()
        headers[.contentType] = format == "bundle" ? "application/zip" : "application/octet-stream"
        headers[.contentDisposition] = "attachment; filename=\"\(name).\(format == "bundle" ? "zip" : "mcap")\""
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            do {
                while let chunk = try await pipe.next() {
                    try await writer.write(chunk)
                }
                try await writer.finish(nil)
            } catch {
                pipe.cancel()
                throw error
            }
        })
    }
}
