import Foundation

/// An RFC 3339 instant with an explicit offset (`2026-11-20T08:15:01.250+08:00`, `…Z`), kept as sent
/// (the device's local offset is evidence) together with its parsed instant.
public struct Timestamp: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The text exactly as received.
    public let text: String
    /// Seconds since 1970-01-01T00:00:00Z.
    public let secondsSince1970: Double
    /// The stated offset from UTC, in minutes.
    public let offsetMinutes: Int

    public var date: Date { Date(timeIntervalSince1970: secondsSince1970) }

    /// Parses strictly: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; `t`/`z` and a space for `T` are accepted.
    public init(parsing text: String) throws(ProtocolError) {
        let b = Array(text.utf8)
        func digits(_ at: Int, _ count: Int) throws(ProtocolError) -> Int {
            guard at + count <= b.count else { throw .invalidTimestamp("'\(text)' is too short for RFC 3339") }
            var v = 0
            for i in at..<(at + count) {
                guard b[i] >= 0x30 && b[i] <= 0x39 else { throw .invalidTimestamp("'\(text)' is not RFC 3339") }
                v = v * 10 + Int(b[i] - 0x30)
            }
            return v
        }
        func expect(_ at: Int, _ chars: [UInt8]) throws(ProtocolError) {
            guard at < b.count, chars.contains(b[at]) else { throw .invalidTimestamp("'\(text)' is not RFC 3339") }
        }
        guard b.count <= 64 else { throw .invalidTimestamp("timestamp longer than 64 characters") }
        let year = try digits(0, 4)
        try expect(4, [0x2D])
        let month = try digits(5, 2)
        try expect(7, [0x2D])
        let day = try digits(8, 2)
        try expect(10, [0x54, 0x74, 0x20])
        let hour = try digits(11, 2)
        try expect(13, [0x3A])
        let minute = try digits(14, 2)
        try expect(16, [0x3A])
        let second = try digits(17, 2)
        var i = 19
        var fraction = 0.0
        if i < b.count && b[i] == 0x2E {
            i += 1
            var scale = 0.1
            let start = i
            while i < b.count && b[i] >= 0x30 && b[i] <= 0x39 {
                fraction += Double(b[i] - 0x30) * scale
                scale /= 10
                i += 1
            }
            guard i > start else { throw .invalidTimestamp("'\(text)' has an empty fraction") }
        }
        guard i < b.count else { throw .invalidTimestamp("'\(text)' has no offset (Z or ±HH:MM required)") }
        var offset = 0
        if b[i] == 0x5A || b[i] == 0x7A {
            i += 1
        } else if b[i] == 0x2B || b[i] == 0x2D {
            let sign = b[i] == 0x2D ? -1 : 1
            let oh = try digits(i + 1, 2)
            try expect(i + 3, [0x3A])
            let om = try digits(i + 4, 2)
            guard oh <= 23, om <= 59 else { throw .invalidTimestamp("'\(text)' has an impossible offset") }
            offset = sign * (oh * 60 + om)
            i += 6
        } else {
            throw .invalidTimestamp("'\(text)' has no offset (Z or ±HH:MM required)")
        }
        guard i == b.count else { throw .invalidTimestamp("'\(text)' has trailing characters") }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let monthDays = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard (1...12).contains(month), day >= 1, day <= monthDays[month - 1], hour <= 23, minute <= 59, second <= 60 else {
            throw .invalidTimestamp("'\(text)' is not a valid date and time")
        }
        // Days from civil (Howard Hinnant's algorithm), then seconds.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        let seconds = Double(days * 86_400 + hour * 3600 + minute * 60 + min(second, 59) - offset * 60) + fraction
        self.text = text
        self.secondsSince1970 = seconds
        self.offsetMinutes = offset
    }

    /// Now, in UTC, with millisecond precision.
    public static func now() -> Timestamp { Timestamp(date: Date()) }

    /// `date` formatted in UTC with milliseconds (`2026-11-20T00:15:01.250Z`).
    public init(date: Date) {
        let ms = (date.timeIntervalSince1970 * 1000).rounded()
        let totalSeconds = Int((ms / 1000).rounded(.down))
        let millis = Int(ms) - totalSeconds * 1000
        var days = totalSeconds / 86_400, rest = totalSeconds % 86_400
        if rest < 0 { rest += 86_400; days -= 1 }
        // Civil from days (inverse of the above).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func pad(_ v: Int, _ n: Int) -> String { String(repeating: "0", count: max(0, n - String(v).count)) + String(v) }
        let text = "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(rest / 3600, 2)):\(pad(rest % 3600 / 60, 2)):\(pad(rest % 60, 2)).\(pad(millis, 3))Z"
        self.text = text
        self.secondsSince1970 = ms / 1000
        self.offsetMinutes = 0
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        do {
            self = try Timestamp(parsing: text)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.message)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }

    public var description: String { text }
}
