/// A stream identifier: 1 to 64 characters of `A-Z a-z 0-9 . _ -`, not starting with a dot. Safe in URLs,
/// file names and logs: stream ids name directories (`recordings/<stream>/`), and `.` or `..` would have
/// put a stream's sessions in the recordings root or the data directory (issue 12's path review).
public struct StreamID: Sendable, Hashable, Codable, CustomStringConvertible, Comparable {
    public let rawValue: String

    /// Nil unless `rawValue` matches `[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}` (1 to 64 characters, not starting with a dot).
    public init?(_ rawValue: String) {
        guard Self.isValid(rawValue) else { return nil }
        self.rawValue = rawValue
    }

    public static func isValid(_ value: String) -> Bool {
        let utf8 = value.utf8
        guard (1...64).contains(utf8.count), utf8.first != 0x2E else { return false }
        return utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2E || c == 0x5F || c == 0x2D
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let value = try container.decode(String.self)
        guard let id = StreamID(value) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "stream id must match [A-Za-z0-9._-]{1,64}, not starting with a dot")
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public var description: String { rawValue }
    public static func < (a: StreamID, b: StreamID) -> Bool { a.rawValue < b.rawValue }
}
