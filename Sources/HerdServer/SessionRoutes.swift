import Foundation
import HTTPTypes
import HerdIdentity
import HerdProtocol
import HerdRecording
import Hummingbird
import NIOCore

/// One session in a listing.
struct SessionListEntry: Codable, Sendable {
    var id: String
    var stream: String
    var startedAt: String
    var endedAt: String?
    var frames: Int
    var consignment: Consignment?
    var hold: Bool

    init(_ row: SessionRow) {
        id = row.id
        stream = row.stream
        startedAt = Micros.text(row.startedAtMicros)
        endedAt = row.endedAtMicros.map(Micros.text)
        frames = row.frames
        consignment = row.consignment
        hold = row.hold
    }
}

/// `GET /api/v1/sessions/{id}`: the summary an auditor starts from, and the last signed manifest.
struct SessionSummary: Codable, Sendable {
    struct Gaps: Codable, Sendable {
        /// Seqs never received between the session's first and last seq.
        var missing: UInt64
        /// The first ranges `[from, to]` (at most 100).
        var ranges: [[UInt64]]
    }

    var id: String
    var stream: String
    var startedAt: String
    var endedAt: String?
    /// How it ended: `device`, `api`, `idle`, `nextSession`, `shutdown`, `recovered`; absent while open.
    var endReason: String?
    var open: Bool
    var frames: Int
    var durationSeconds: Double
    var firstCapturedAt: String?
    var lastCapturedAt: String?
    var firstSeq: UInt64?
    var lastSeq: UInt64?
    var gaps: Gaps
    /// Frames that arrived late (store-and-forward), recorded and marked.
    var lateFrames: Int
    var refused: Int
    var alerts: Int
    var addenda: Int
    var bytes: Int64
    var hold: Bool
    var consignment: Consignment?
    var manifest: Manifest?
}

extension HerdServices {
    /// Recorded sessions: list, summary, verify, open and end, legal hold.
    func addSessionRoutes(to router: Router<HerdRequestContext>) {
        let recorder = self.recorder, processor = self.processor, services = self
        let index = recorder.index

        router.get("/api/v1/sessions") { request, context -> Response in
            let identity = try context.requireIdentity()
            guard identity.role != .device else { throw HerdServerError.forbidden("a device token may not read recordings") }
            let q = request.uri.queryParameters
            var query = SessionQuery()
            if let s = q.get("stream") {
                guard let stream = StreamID(s) else { throw HerdServerError(.badRequest, code: "invalidStream", message: "'\(s)' is not a stream id") }
                guard identity.canReadRecordings(of: stream) else { throw HerdServerError.forbidden("token \(identity.id) may not read stream \(stream)") }
                query.streams = [s]
            } else if identity.role == .inspector, case .only(let granted) = identity.streams {
                query.streams = Set(granted.map(\.rawValue))
            }
            query.fromMicros = try queryTime(q.get("from"), "from")
            query.toMicros = try queryTime(q.get("to"), "to")
            query.consignment = q.get("consignment")
            query.plate = q.get("plate")
            if let limit = q.get("limit") {
                guard let n = Int(limit), (1...500).contains(n) else { throw HerdServerError(.badRequest, code: "invalidMessage", message: "limit must be 1...500") }
                query.limit = n
            }
            if let cursor = q.get("before") {
                let parts = cursor.split(separator: "_", maxSplits: 1)
                guard parts.count == 2, let micros = Int64(parts[0]) else { throw HerdServerError(.badRequest, code: "invalidMessage", message: "before must be a cursor from 'next'") }
                query.beforeMicros = micros
                query.beforeID = String(parts[1])
            }
            let page = query
            let rows = try await recorder.onHousekeeping { () throws(RecordingError) in try index.sessions(page) }
            struct Listing: Encodable { var sessions: [SessionListEntry]; var next: String? }
            let next = rows.count == query.limit ? rows.last.map { "\($0.startedAtMicros)_\($0.id)" } : nil
            return jsonResponse(Listing(sessions: rows.map(SessionListEntry.init), next: next))
        }

        router.get("/api/v1/sessions/:id") { _, context -> Response in
            let identity = try context.requireIdentity()
            let row = try await services.readableSession(context.parameters.get("id") ?? "", identity)
            let gaps = try await recorder.onHousekeeping { () throws(RecordingError) in try index.gaps(session: row.id, limit: 100) }
            let span = row.minSeq.map { lo in (row.maxSeq ?? lo) - lo + 1 } ?? 0
            let missing = span > UInt64(row.frames) ? span - UInt64(row.frames) : 0
            let end = row.endedAtMicros ?? Micros.now()
            let summary = SessionSummary(
                id: row.id, stream: row.stream, startedAt: Micros.text(row.startedAtMicros), endedAt: row.endedAtMicros.map(Micros.text),
                endReason: row.endReason, open: row.isOpen, frames: row.frames, durationSeconds: Double(end - row.startedAtMicros) / 1e6,
                firstCapturedAt: row.firstCapturedMicros.map(Micros.text), lastCapturedAt: row.lastCapturedMicros.map(Micros.text),
                firstSeq: row.minSeq, lastSeq: row.maxSeq, gaps: .init(missing: missing, ranges: gaps.map { [$0.lowerBound, $0.upperBound] }),
                lateFrames: row.late, refused: row.refused, alerts: row.alerts, addenda: row.addenda, bytes: row.bytes, hold: row.hold,
                consignment: row.consignment, manifest: row.manifest.flatMap { try? JSONDecoder().decode(Manifest.self, from: Data($0.utf8)) })
            return jsonResponse(summary)
        }

        router.get("/api/v1/sessions/:id/verify") { _, context -> Response in
            let identity = try context.requireIdentity()
            let row = try await services.readableSession(context.parameters.get("id") ?? "", identity)
            do throws(RecordingError) {
                let report = try await recorder.verify(session: row.id)
                await services.note(HerdServices.entry(
                    identity, "verify", stream: row.stream, session: row.id,
                    detail: report.ok ? "ok" : "\(report.failure?.problem.rawValue ?? "failed"): \(report.failure?.detail ?? "")", remote: context.remote))
                return jsonResponse(report)
            } catch {
                throw HerdServerError(IngestFailure(error, stream: row.stream, seq: nil))
            }
        }

        router.post("/api/v1/sessions") { request, context -> Response in
            let identity = try context.requireIdentity()
            struct Open: Decodable { var stream: String; var consignment: Consignment? }
            let body = try await request.body.collect(upTo: 16 * 1024)
            let open: Open
            do {
                _ = try StrictJSON.check(body.readableBytesView)
                open = try JSONDecoder().decode(Open.self, from: Data(buffer: body))
            } catch {
                throw HerdServerError(.badRequest, code: "badJSON", message: "send {\"stream\": \"…\", \"consignment\": {…}} (\(error))")
            }
            guard let stream = StreamID(open.stream) else { throw HerdServerError(.badRequest, code: "invalidStream", message: "'\(open.stream)' is not a stream id") }
            guard identity.role == .admin || (identity.role == .inspector && identity.canWatch(stream)) else {
                throw HerdServerError.forbidden("only an admin or an inspector of \(stream) may open its session")
            }
            do throws(ProtocolError) {
                try open.consignment?.validate()
            } catch {
                throw HerdServerError(.badRequest, code: error.code, message: error.message)
            }
            do throws(IngestFailure) {
                return jsonResponse(try await processor.session(stream, action: .start, consignment: open.consignment, openedBy: "api"), status: .created)
            } catch {
                throw HerdServerError(error)
            }
        }

        router.post("/api/v1/sessions/:id/end") { _, context -> Response in
            let identity = try context.requireIdentity()
            let row = try await services.readableSession(context.parameters.get("id") ?? "", identity)
            guard let stream = StreamID(row.stream), identity.role == .admin || (identity.role == .inspector && identity.canWatch(stream)) else {
                throw HerdServerError.forbidden("only an admin or an inspector of \(row.stream) may end its session")
            }
            guard row.isOpen else { throw HerdServerError(.conflict, code: "sessionClosed", message: "session \(row.id) already ended") }
            do throws(IngestFailure) {
                return jsonResponse(try await processor.session(stream, action: .end, consignment: nil, openedBy: "api"))
            } catch {
                throw HerdServerError(error)
            }
        }

        for method in [HTTPRequest.Method.put, .delete] {
            router.on("/api/v1/sessions/:id/hold", method: method) { _, context -> Response in
                let identity = try context.requireIdentity()
                guard identity.role == .admin else { throw HerdServerError.forbidden("only an admin may place or lift a legal hold") }
                let id = context.parameters.get("id") ?? ""
                do throws(RecordingError) {
                    try await recorder.setHold(id, method == .put)
                } catch {
                    throw HerdServerError(IngestFailure(error, stream: nil, seq: nil))
                }
                // The stream, for the audit entry (the hold itself needs only the id).
                let row = try? await recorder.onHousekeeping { () throws(RecordingError) in try recorder.index.session(id) }
                await services.note(HerdServices.entry(identity, method == .put ? "hold" : "release", stream: row?.stream, session: id, remote: context.remote))
                return Response(status: .noContent)
            }
        }
    }

    /// The session, if this identity may read it (404 for one it may not know of; 403 for a device).
    func readableSession(_ id: String, _ identity: Identity) async throws -> SessionRow {
        guard identity.role != .device else { throw HerdServerError.forbidden("a device token may not read recordings") }
        let index = recorder.index
        let row = try await recorder.onHousekeeping { () throws(RecordingError) in try index.session(id) }
        guard let row, let stream = StreamID(row.stream), identity.canReadRecordings(of: stream) else {
            throw HerdServerError(.notFound, code: "notFound", message: "no session \(id)")
        }
        return row
    }
}

/// An RFC 3339 query parameter as microseconds, or 400 `invalidTimestamp`.
func queryTime(_ text: String?, _ name: String) throws -> Int64? {
    guard let text else { return nil }
    do throws(ProtocolError) {
        return Micros.of(try Timestamp(parsing: text))
    } catch {
        throw HerdServerError(.badRequest, code: "invalidTimestamp", message: "\(name) must be an RFC 3339 time")
    }
}
