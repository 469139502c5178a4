/// A recording failure with a stable code: `storageFull` and `storage` are retryable for a device (keep the
/// frame, send it again later); `seqConflict` is final; the rest are operator or auditor errors.
public struct RecordingError: Error, Hashable, CustomStringConvertible {
    private enum Code: String {
        case storageFull, storage, seqConflict, notFound, invalidArgument, key, shuttingDown
    }

    private let value: Code
    public let message: String

    private init(_ value: Code, _ message: String) {
        self.value = value
        self.message = message
    }

    public var code: String { value.rawValue }
    /// Whether the same frame may be accepted if sent again later.
    public var isRetryable: Bool { value == .storageFull || value == .storage || value == .shuttingDown }
    public var description: String { "\(code): \(message)" }

    public static func storageFull(_ m: String = "recording storage is full") -> Self { .init(.storageFull, m) }
    public static func storage(_ m: String = "recording storage failed") -> Self { .init(.storage, m) }
    public static func seqConflict(_ m: String = "seq already recorded with other bytes") -> Self { .init(.seqConflict, m) }
    public static func notFound(_ m: String = "no such session") -> Self { .init(.notFound, m) }
    public static func invalidArgument(_ m: String) -> Self { .init(.invalidArgument, m) }
    public static func key(_ m: String) -> Self { .init(.key, m) }
    public static func shuttingDown(_ m: String = "the server is shutting down; send this frame again later") -> Self { .init(.shuttingDown, m) }

    public static func == (a: Self, b: Self) -> Bool { a.value == b.value }
    public func hash(into h: inout Hasher) { h.combine(value) }
}
