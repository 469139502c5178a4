/// Why an identity operation failed. `code` is stable; the server maps `unauthenticated` to 401 and
/// `forbidden` to 403 once, at its edge.
public struct IdentityError: Error, Equatable, CustomStringConvertible {
    private enum Internal: String, Equatable {
        case unauthenticated
        case forbidden
        case invalidStream
        case invalidExpiry
        case notFound
        case storage
    }

    private let value: Internal
    public let message: String

    private init(_ value: Internal, _ message: String) {
        self.value = value
        self.message = message
    }

    public static func == (a: IdentityError, b: IdentityError) -> Bool { a.value == b.value }

    /// No token, an unknown token, a revoked or expired one.
    public static func unauthenticated(_ message: String = "missing or invalid token") -> Self { .init(.unauthenticated, message) }
    /// A valid token without the role or the stream.
    public static func forbidden(_ message: String = "not allowed") -> Self { .init(.forbidden, message) }
    public static func invalidStream(_ message: String) -> Self { .init(.invalidStream, message) }
    /// An expiry that is not like `30d`, `12h`, `90m` or `never`.
    public static func invalidExpiry(_ message: String) -> Self { .init(.invalidExpiry, message) }
    /// No token with that id.
    public static func notFound(_ message: String) -> Self { .init(.notFound, message) }
    /// The database failed.
    public static func storage(_ message: String) -> Self { .init(.storage, message) }

    public var code: String { value.rawValue }
    public var description: String { "\(code): \(message)" }
}
