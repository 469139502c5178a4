import Foundation
import HTTPTypes
import HerdProtocol
import HerdIdentity
import Hummingbird

/// An HTTP error with a stable code, rendered as `{"error":{"code","message"}}`. Library errors are
/// converted to it once, here at the edge.
public struct HerdServerError: HTTPResponseError, CustomStringConvertible {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String
    /// Sent as `Retry-After` when the refusal ends at a known time (a quarantined device).
    public let retryAfterSeconds: Int?
    /// Whether the same request may succeed later (sent in the body as `retryable`).
    public let retryable: Bool?

    public init(_ status: HTTPResponse.Status, code: String, message: String, retryAfterSeconds: Int? = nil, retryable: Bool? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.retryAfterSeconds = retryAfterSeconds
        self.retryable = retryable
    }

    /// A refused frame at the HTTP edge: its status, code, retry advice.
    init(_ failure: IngestFailure) {
        self.init(
            HTTPResponse.Status(code: failure.status), code: failure.code, message: failure.message, retryAfterSeconds: failure.retryAfterSeconds,
            retryable: failure.retryable)
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer realm=\"herdlens\"" }
        if let retryAfterSeconds { headers[.retryAfter] = "\(retryAfterSeconds)" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: WireJSON.encode(HTTPErrorBody(code: code, message: message, retryable: retryable)))))
    }

    /// An identity failure at the HTTP edge: 401 unauthenticated, 403 forbidden, 404 not found,
    /// 503 when the token store itself failed (so a broken disk never reads as "sign in again"), 400 else.
    init(_ error: IdentityError) {
        switch error.code {
        case "unauthenticated": self = .unauthorized(error.message)
        case "forbidden": self = .forbidden(error.message)
        case "notFound": self.init(.notFound, code: error.code, message: error.message)
        case "storage": self.init(.serviceUnavailable, code: error.code, message: error.message)
        default: self.init(.badRequest, code: error.code, message: error.message)
        }
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    static func unauthorized(_ message: String) -> Self { .init(.unauthorized, code: "unauthenticated", message: message) }
    static func forbidden(_ message: String) -> Self { .init(.forbidden, code: "forbidden", message: message) }
}
