/// Why a wire message was refused. The `code` is stable and is what devices and viewers receive in
/// `{"type":"error","code":…}` or `{"error":{"code":…}}`; Protocol/v1/README.md lists every code.
public struct ProtocolError: Error, Equatable, CustomStringConvertible {
    private enum Internal: String, Equatable {
        case badEnvelope
        case headerTooLarge
        case badJSON
        case unknownType
        case invalidStream
        case invalidSeq
        case invalidTimestamp
        case invalidMessage
        case forbidden
        case notFound
        case tooManyMarks
        case rateLimited
    }

    private let value: Internal
    /// What is wrong, for people; not part of equality.
    public let message: String

    private init(_ value: Internal, _ message: String) {
        self.value = value
        self.message = message
    }

    public static func == (a: ProtocolError, b: ProtocolError) -> Bool { a.value == b.value }

    /// Shorter than 4 bytes, or a header length past the end of the message.
    public static func badEnvelope(_ message: String = "malformed envelope") -> Self { .init(.badEnvelope, message) }
    /// The JSON header is longer than the limit (64 KiB by default).
    public static func headerTooLarge(_ message: String = "header too large") -> Self { .init(.headerTooLarge, message) }
    /// The header is not a JSON object of the right shape.
    public static func badJSON(_ message: String) -> Self { .init(.badJSON, message) }
    /// `type` names no message this endpoint accepts.
    public static func unknownType(_ message: String) -> Self { .init(.unknownType, message) }
    /// A stream id outside `[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}` (1 to 64 characters, not starting with a dot).
    public static func invalidStream(_ message: String) -> Self { .init(.invalidStream, message) }
    /// A missing or non-integer `seq`, or one outside 0...2^64-1.
    public static func invalidSeq(_ message: String) -> Self { .init(.invalidSeq, message) }
    /// A time that is not RFC 3339 with an explicit offset.
    public static func invalidTimestamp(_ message: String) -> Self { .init(.invalidTimestamp, message) }
    /// Well-formed JSON that breaks another rule (sensor ranges, detection boxes, options).
    public static func invalidMessage(_ message: String) -> Self { .init(.invalidMessage, message) }
    /// The token's role may not do this (an auditor acknowledging an alert).
    public static func forbidden(_ message: String) -> Self { .init(.forbidden, message) }
    /// No such thing where this socket can reach (an unknown alert id).
    public static func notFound(_ message: String) -> Self { .init(.notFound, message) }

    /// The stream already holds as many live inspector marks as it may (v1.4).
    public static func tooManyMarks(_ message: String) -> Self { .init(.tooManyMarks, message) }

    /// Sent faster than the endpoint's rate allows; nothing was done (v1.4: marks).
    public static func rateLimited(_ message: String) -> Self { .init(.rateLimited, message) }

    public var code: String { value.rawValue }
    public var description: String { "\(code): \(message)" }
}
