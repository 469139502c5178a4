import Foundation
import HTTPTypes
import HerdIdentity
import HerdProtocol
import Hummingbird
import NIOCore

extension HerdServices {
    /// The web app and its session: a token is exchanged for an HttpOnly cookie.
    func addViewerRoutes(to router: Router<HerdRequestContext>) {
        let assets = WebAssets()
        let tokens = self.tokens, services = self
        router.get("/") { _, _ in try assets.response("index.html") }
        router.get("/app.js") { _, _ in try assets.response("app.js") }
        router.get("/app.css") { _, _ in try assets.response("app.css") }
        router.get("/favicon.ico") { _, _ in Response(status: .noContent) }
        router.get("/i18n.js") { _, _ in try assets.response("i18n.js") }
        router.get("/audit.js") { _, _ in try assets.response("audit.js") }
        router.get("/console.js") { _, _ in try assets.response("console.js") }
        router.post("/api/v1/session") { request, context -> Response in
            struct SignIn: Decodable { var token: String }
            let body = try await request.body.collect(upTo: 4096)
            guard let signIn = try? JSONDecoder().decode(SignIn.self, from: Data(buffer: body)) else {
                throw HerdServerError(.badRequest, code: "badJSON", message: "send {\"token\": \"hl_…\"}")
            }
            let identity: Identity, secret: String
            do throws(IdentityError) {
                let presented = signIn.token
                (identity, secret) = try await BlockingIO.run { () throws(IdentityError) in
                    let identity = try tokens.authenticate(presented)
                    guard identity.role != .device else { throw .forbidden("device tokens cannot sign in to the viewer") }
                    return (identity, try tokens.createSession(for: identity, lifetime: SessionCookie.lifetime))
                }
            } catch {
                throw HerdServerError(error)
            }
            await services.note(HerdServices.entry(identity, "signin", remote: context.remote))
            var headers = HTTPFields()
            headers[.setCookie] = SessionCookie.set(secret)
            return Response(status: .noContent, headers: headers)
        }
        router.get("/api/v1/session") { _, context -> Response in
            let identity = try context.requireIdentity()
            struct Me: Encodable { var id: String; var name: String; var role: String; var streams: String }
            return jsonResponse(Me(id: identity.id, name: identity.name, role: identity.role.rawValue, streams: identity.streams.storedValue))
        }
        // The page's probe: 200 either way, so that a browser not signed in logs no failed request.
        router.get("/api/v1/session/status") { _, context -> Response in
            struct Status: Encodable { var signedIn: Bool; var id: String?; var name: String?; var role: String?; var streams: String? }
            guard let identity = context.identity, identity.role != .device else { return jsonResponse(Status(signedIn: false)) }
            return jsonResponse(Status(signedIn: true, id: identity.id, name: identity.name, role: identity.role.rawValue, streams: identity.streams.storedValue))
        }
        router.delete("/api/v1/session") { request, context -> Response in
            if let identity = context.identity { await services.note(HerdServices.entry(identity, "signout", remote: context.remote)) }
            if let cookie = request.headers[.cookie], let secret = SessionCookie.secret(fromCookieHeader: cookie) {
                do throws(IdentityError) {
                    try await BlockingIO.run { () throws(IdentityError) in try tokens.endSession(secret) }
                } catch {
                    throw HerdServerError(error)
                }
            }
            var headers = HTTPFields()
            headers[.setCookie] = SessionCookie.clear
            return Response(status: .noContent, headers: headers)
        }
    }
}
