import Foundation

/// The web viewer's session cookie: `herd_session`, HttpOnly, SameSite=Strict, holding a session secret
/// from `TokenStore.createSession` (never the token itself).
enum SessionCookie {
    static let name = "herd_session"
    /// How long a browser session lasts (never longer than its token).
    static let lifetime: Double = 12 * 3600

    /// The `Set-Cookie` value that signs the browser in.
    static func set(_ secret: String) -> String {
        "\(name)=\(secret); HttpOnly; SameSite=Strict; Path=/; Max-Age=\(Int(lifetime))"
    }

    /// The `Set-Cookie` value that signs it out.
    static let clear = "\(name)=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"

    /// The session secret in a `Cookie` header, if any.
    static func secret(fromCookieHeader header: String) -> String? {
        for pair in header.split(separator: ";") {
            let parts = pair.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if parts.count == 2, parts[0] == name { return String(parts[1]) }
        }
        return nil
    }
}
