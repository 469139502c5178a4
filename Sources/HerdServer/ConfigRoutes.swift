import Crypto
import Foundation
import HTTPTypes
import HerdAnalysis
import HerdIdentity
import HerdPipeline
import HerdProtocol
import Hummingbird

/// `GET`/`PUT /api/v1/streams/{id}/config`: a stream's analysis configuration (zones, counting lines,
/// geofence, route, thresholds, detector choice). PUT is for admins: the body (any subset of the
/// fields, the rest take their defaults) is checked strictly, stored in SQLite, applied to the running
/// pipeline from its next frame without a restart, recorded in the stream's open session
/// (`analysis.config`) and audited. GET: admins, and inspectors of the stream.
/// `GET /api/v1/streams/{id}/alerts`: the alerts raised now, the net counts per line, and (v1.4) the
/// open session, its declared head count and the inspector marks live on the stream.
struct ConfigReply: Encodable {
    var stream: String
    var revision: Int
    var updatedAt: String?
    var updatedBy: String?
    var analyzer: String
    var configSHA256: String
    var config: AnalysisConfig
}

struct AlertsReply: Encodable {
    var stream: String
    var alerts: [Alert]
    var counts: [String: Int]
    var session: String?
    var declaredHeadCount: Int?
    var marks: [Mark]
}

extension HerdServices {
    func addConfigRoutes(to router: Router<HerdRequestContext>) {
        let services = self

        @Sendable func stream(_ context: HerdRequestContext) throws -> StreamID {
            let raw = context.parameters.get("stream") ?? ""
            guard let stream = StreamID(raw) else { throw HerdServerError(.badRequest, code: "invalidStream", message: "'\(raw)' is not a stream id") }
            return stream
        }

        @Sendable func reply(_ stream: StreamID) -> ConfigReply {
            let stored = services.configs.stored(stream)
            let config = stored?.config ?? AnalysisConfig()
            let hash = SHA256.hash(data: config.canonicalJSON).map { String(format: "%02x", $0) }.joined()
            return ConfigReply(
                stream: stream.rawValue, revision: stored?.revision ?? 0, updatedAt: stored?.updatedAt, updatedBy: stored?.updatedBy,
                analyzer: StreamAnalyzer.version, configSHA256: hash, config: config)
        }

        router.get("/api/v1/streams/:stream/config") { _, context -> Response in
            let identity = try context.requireIdentity()
            let stream = try stream(context)
            guard identity.role == .admin || (identity.role == .inspector && identity.canWatch(stream)) else {
                throw HerdServerError.forbidden("only an admin or an inspector of \(stream) may read its configuration")
            }
            return jsonResponse(reply(stream))
        }

        router.put("/api/v1/streams/:stream/config") { request, context -> Response in
            let identity = try context.requireIdentity()
            let stream = try stream(context)
            guard identity.role == .admin else { throw HerdServerError.forbidden("only an admin may change a stream's configuration") }
            let body = try await request.body.collect(upTo: 256 * 1024)
            let config: AnalysisConfig
            do {
                _ = try StrictJSON.check(body.readableBytesView)
            } catch {
                throw HerdServerError(.badRequest, code: "badJSON", message: "\(error)")
            }
            do {
                config = try AnalysisConfig.decode(merging: Data(buffer: body))
            } catch let error as AnalysisConfig.Invalid {
                throw HerdServerError(.badRequest, code: "invalidConfig", message: error.description)
            } catch {
                throw HerdServerError(.badRequest, code: "invalidConfig", message: "the configuration does not decode: \(error)")
            }
            do throws(AnalysisConfig.Invalid) {
                try config.validate()
            } catch {
                throw HerdServerError(.badRequest, code: "invalidConfig", message: error.description)
            }
            let actor = "\(identity.name) (\(identity.id))"
            let configs = services.configs
            do {
                _ = try await BlockingIO.run { () throws -> StreamConfigStore.Stored in try configs.save(stream, config, by: actor) }
            } catch {
                throw HerdServerError(.internalServerError, code: "storage", message: "the configuration was not stored: \(error)")
            }
            await services.registry.existing(stream)?.reconfigure(config)
            let answer = reply(stream)
            await services.note(HerdServices.entry(identity, "config.update", stream: stream.rawValue, detail: "revision \(answer.revision) sha256 \(answer.configSHA256)", remote: context.remote))
            return jsonResponse(answer)
        }

        router.get("/api/v1/streams/:stream/alerts") { _, context -> Response in
            let identity = try context.requireIdentity()
            let stream = try stream(context)
            guard identity.role == .admin || ((identity.role == .inspector || identity.role == .auditor) && identity.canWatch(stream)) else {
                throw HerdServerError.forbidden("token \(identity.id) may not watch \(stream)")
            }
            let pipeline = services.registry.existing(stream)
            let state = await pipeline?.analysisState
            let open = await pipeline?.sessionState
            return jsonResponse(AlertsReply(
                stream: stream.rawValue, alerts: state?.raised ?? [], counts: state?.counts ?? [:], session: open?.session,
                declaredHeadCount: open?.declaredHeadCount, marks: await pipeline?.liveMarks() ?? []))
        }
    }
}
