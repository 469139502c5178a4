import HTTPTypes
import HerdIdentity
import Hummingbird

/// Reads `Authorization: Bearer <token>` (devices, scripts) or the browser's session cookie and sets the
/// context's identity. Neither leaves the request anonymous (routes decide); a present but invalid
/// token is refused with 401 at once. The token store is read off the cooperative pool (`BlockingIO`).
struct TokenAuthenticator: RouterMiddleware {
    typealias Context = HerdRequestContext
    let tokens: TokenStore

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else {
            // A stale or ended session cookie leaves the request anonymous: routes that need an identity
            // answer 401 and the viewer shows its sign-in. A failing token store is a 503, not a sign-out.
            guard let cookie = request.headers[.cookie], let secret = SessionCookie.secret(fromCookieHeader: cookie) else {
                return try await next(request, context)
            }
            var context = context
            do throws(IdentityError) {
                let tokens = self.tokens
                context.identity = try await BlockingIO.run { () throws(IdentityError) in try tokens.identity(forSession: secret) }
            } catch where error.code == "unauthenticated" {
                return try await next(request, context)
            } catch {
                throw HerdServerError(error)
            }
            return try await next(request, context)
        }
        guard header.count > 7, header.prefix(7).lowercased() == "bearer " else {
            throw HerdServerError.unauthorized("Authorization must be 'Bearer <token>'")
        }
        var context = context
        do throws(IdentityError) {
            let tokens = self.tokens, presented = String(header.dropFirst(7))
            context.identity = try await BlockingIO.run { () throws(IdentityError) in try tokens.authenticate(presented) }
        } catch {
            throw HerdServerError(error)
        }
        context.logger[metadataKey: "herd.token"] = "\(context.identity!.id)"
        return try await next(request, context)
    }
}
