import HTTPTypes
import HerdIdentity
import Hummingbird

/// Reads `Authorization: Bearer <token>` (devices, scripts) or the browser's session cookie and sets the
/// context's identity. Neither leaves the request anonymous (routes decide); a present but invalid
/// token is refused with 401 at once.
struct TokenAuthenticator: RouterMiddleware {
    typealias Context = HerdRequestContext
    let tokens: TokenStore

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else {
            // A stale or ended session cookie leaves the request anonymous: routes that need an identity
            // answer 401 and the viewer shows its sign-in.
            if let cookie = request.headers[.cookie], let secret = SessionCookie.secret(fromCookieHeader: cookie),
                let identity = try? tokens.identity(forSession: secret)
            {
                var context = context
                context.identity = identity
                return try await next(request, context)
            }
            return try await next(request, context)
        }
        guard header.count > 7, header.prefix(7).lowercased() == "bearer " else {
            throw HerdServerError.unauthorized("Authorization must be 'Bearer <token>'")
        }
        var context = context
        do {
            context.identity = try tokens.authenticate(String(header.dropFirst(7)))
        } catch {
            throw HerdServerError.unauthorized(error.message)
        }
        context.logger[metadataKey: "herd.token"] = "\(context.identity!.id)"
        return try await next(request, context)
    }
}
