/// The `multipart/form-data` body of an HTTP frame upload (RFC 7578), held to HerdLens's limits: at
/// most `maxParts` parts of at most 16 well-formed header lines each, every part named, the body closed
/// by its final delimiter. A refusal is a `Failure` whose description says what was wrong; nothing traps
/// on hostile bytes (`Fuzz/`: the `multipart` harness).
///
/// Hand-written rather than MultipartKit's parser: MultipartKit 4.7.1 (the version this project can
/// use) indexes a 128-entry table with every header-name byte, so one byte ≥ 0x80 in a part's header
/// name traps and kills the server process; the fuzzer found it in 7 executions
/// (`Fuzz/regressions/multipart/`, docs/reliability.md).
public struct MultipartForm: Sendable {
    /// One part: its form name, its Content-Type if given, and its bytes.
    public struct Part: Sendable {
        public var name: String
        public var contentType: String?
        public var body: [UInt8]
    }

    /// Why a body was refused.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// The most header lines a part may carry (a real upload sends two).
    public static let maxHeaderLines = 16

    public private(set) var parts: [Part]

    /// The boundary of a `Content-Type: multipart/form-data; boundary=…` value: 1 to 70 characters
    /// (RFC 2046), quotes removed, no control characters; nil when the type is not multipart/form-data
    /// or has no usable boundary.
    public static func boundary(fromContentType value: String) -> String? {
        let pieces = value.split(separator: ";").map(trimmed)
        guard pieces.first?.lowercased() == "multipart/form-data" else { return nil }
        for piece in pieces.dropFirst() where piece.lowercased().hasPrefix("boundary=") {
            let boundary = unquoted(String(piece.dropFirst("boundary=".count)))
            return (1...70).contains(boundary.utf8.count) && !boundary.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) ? boundary : nil
        }
        return nil
    }

    /// Parses a whole body. Part bodies are copied out once.
    public init(parsing body: [UInt8], boundary: String, maxParts: Int = 8) throws(Failure) {
        guard (1...70).contains(boundary.utf8.count) else { throw Failure(description: "multipart boundary must be 1 to 70 characters") }
        let delimiter = Array("--\(boundary)".utf8)
        let crlf: [UInt8] = [0x0D, 0x0A]
        var parts: [Part] = []
        guard var cursor = Self.find(delimiter, in: body, from: 0) else { throw Failure(description: "no multipart part in the body") }
        cursor += delimiter.count
        while true {
            // "--" after a delimiter closes the body; what follows (the epilogue) is ignored.
            if cursor + 1 < body.count, body[cursor] == 0x2D, body[cursor + 1] == 0x2D {
                guard !parts.isEmpty else { throw Failure(description: "no multipart part in the body") }
                self.parts = parts
                return
            }
            guard let lineEnd = Self.find(crlf, in: body, from: cursor), lineEnd + 2 < body.count else {
                throw Failure(description: "truncated multipart body: no final boundary")
            }
            cursor = lineEnd + 2
            guard let headerEnd = Self.find(crlf + crlf, in: body, from: cursor) else {
                throw Failure(description: "truncated multipart body: a part without a header block")
            }
            let contentStart = headerEnd + 4
            guard let next = Self.find(crlf + delimiter, in: body, from: contentStart) else {
                throw Failure(description: "truncated multipart body: a part is not closed by its boundary")
            }
            guard parts.count < maxParts else { throw Failure(description: "more than \(maxParts) multipart parts") }
            var name: String?
            var contentType: String?
            let lines = body[cursor..<headerEnd].split(separator: 0x0D, omittingEmptySubsequences: false).enumerated().map { i, line in
                i == 0 ? line : line.dropFirst()  // each line after the first starts with the LF of the CRLF before it
            }
            guard lines.count <= Self.maxHeaderLines else {
                throw Failure(description: "a multipart part with more than \(Self.maxHeaderLines) header lines")
            }
            for line in lines {
                guard let colon = line.firstIndex(of: 0x3A), colon > line.startIndex, line[line.startIndex..<colon].allSatisfy(Self.isTokenByte) else {
                    throw Failure(description: "malformed multipart body: a header line is not 'Name: value'")
                }
                let field = String(decoding: line[line.startIndex..<colon], as: UTF8.self).lowercased()
                let value = Self.trimmed(String(decoding: line[(colon + 1)...], as: UTF8.self))
                if field == "content-disposition" {
                    name = Self.parameter("name", in: value)
                } else if field == "content-type" {
                    contentType = value
                }
            }
            guard let name else { throw Failure(description: "a multipart part without a name") }
            parts.append(Part(name: name, contentType: contentType, body: Array(body[contentStart..<next])))
            cursor = next + 2 + delimiter.count
        }
    }

    /// The first part named `name`.
    public func part(_ name: String) -> Part? { parts.first { $0.name == name } }

    /// RFC 7230 `tchar`: what a header field name may hold.
    private static func isTokenByte(_ b: UInt8) -> Bool {
        switch b {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "*"),
            UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"),
            UInt8(ascii: "~"):
            return true
        default: return false
        }
    }

    private static func parameter(_ key: String, in header: String) -> String? {
        for piece in header.split(separator: ";") {
            let item = trimmed(piece)
            guard item.lowercased().hasPrefix("\(key)=") else { continue }
            return unquoted(String(item.dropFirst(key.count + 1)))
        }
        return nil
    }

    private static func trimmed(_ s: some StringProtocol) -> String {
        String(s.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }

    private static func unquoted(_ s: String) -> String {
        s.count >= 2 && s.hasPrefix("\"") && s.hasSuffix("\"") ? String(s.dropFirst().dropLast()) : s
    }

    /// First index of `needle` in `haystack` at or after `start`.
    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        let first = needle[0]
        var i = start
        let last = haystack.count - needle.count
        while i <= last {
            if haystack[i] == first {
                var j = 1
                while j < needle.count && haystack[i + j] == needle[j] { j += 1 }
                if j == needle.count { return i }
            }
            i += 1
        }
        return nil
    }
}
