import MultipartKit
import NIOCore

/// The `multipart/form-data` body of an HTTP frame upload (RFC 7578), parsed by MultipartKit's
/// streaming parser and held to HerdLens's limits: at most `maxParts` parts of at most 16 header lines
/// each, every part named, the body closed by its final delimiter. A refusal is a `Failure` whose
/// description says what was wrong; nothing traps on hostile bytes (`Fuzz/`: the `multipart` harness).
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
    /// (RFC 2046), quotes removed; nil when the type is not multipart/form-data or has no usable boundary.
    public static func boundary(fromContentType value: String) -> String? {
        let pieces = value.split(separator: ";").map(trimmed)
        guard pieces.first?.lowercased() == "multipart/form-data" else { return nil }
        for piece in pieces.dropFirst() where piece.lowercased().hasPrefix("boundary=") {
            let boundary = unquoted(String(piece.dropFirst("boundary=".count)))
            return (1...70).contains(boundary.utf8.count) && !boundary.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) ? boundary : nil
        }
        return nil
    }

    /// Parses a whole body.
    public init(parsing body: ByteBuffer, boundary: String, maxParts: Int = 8) throws(Failure) {
        guard (1...70).contains(boundary.utf8.count) else { throw Failure(description: "multipart boundary must be 1 to 70 characters") }
        let parser = MultipartParser(boundary: boundary)
        var parts: [Part] = []
        var headers: [(name: String, value: String)] = []
        var content = ByteBuffer()
        var open = false
        var failure: Failure?
        parser.onHeader = { name, value in
            open = true
            if headers.count >= Self.maxHeaderLines {
                failure = failure ?? Failure(description: "a multipart part with more than \(Self.maxHeaderLines) header lines")
            } else {
                headers.append((name, value))
            }
        }
        parser.onBody = { chunk in
            open = true
            content.writeBuffer(&chunk)
        }
        parser.onPartComplete = {
            defer {
                headers.removeAll(keepingCapacity: true)
                content.clear()
                open = false
            }
            guard failure == nil else { return }
            guard parts.count < maxParts else {
                failure = Failure(description: "more than \(maxParts) multipart parts")
                return
            }
            let disposition = headers.last { $0.name.lowercased() == "content-disposition" }?.value
            guard let name = disposition.flatMap({ Self.parameter("name", in: $0) }) else {
                failure = Failure(description: "a multipart part without a name")
                return
            }
            let type = headers.last { $0.name.lowercased() == "content-type" }.map { Self.trimmed($0.value) }
            parts.append(Part(name: name, contentType: type, body: Array(content.readableBytesView)))
        }
        do {
            try parser.execute(body)
        } catch {
            throw Failure(description: "malformed multipart body")
        }
        if let failure { throw failure }
        guard !open else { throw Failure(description: "truncated multipart body: a part is not closed by its boundary") }
        guard !parts.isEmpty else { throw Failure(description: "no multipart part in the body") }
        guard Self.contains(body, Array("\r\n--\(boundary)--".utf8)) else {
            throw Failure(description: "truncated multipart body: no final boundary")
        }
        self.parts = parts
    }

    /// The first part named `name`.
    public func part(_ name: String) -> Part? { parts.first { $0.name == name } }

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

    /// Whether `needle` occurs in `body` (searched from the end, where the final delimiter is).
    private static func contains(_ body: ByteBuffer, _ needle: [UInt8]) -> Bool {
        body.withUnsafeReadableBytes { bytes in
            guard bytes.count >= needle.count else { return false }
            var i = bytes.count - needle.count
            while i >= 0 {
                if bytes[i] == needle[0], UnsafeRawBufferPointer(rebasing: bytes[i..<i + needle.count]).elementsEqual(needle) { return true }
                i -= 1
            }
            return false
        }
    }
}
