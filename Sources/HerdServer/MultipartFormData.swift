import Foundation

/// A small, bounded `multipart/form-data` parser (RFC 7578) for the HTTP ingest route: finds the parts
/// by boundary and reads each part's name from its Content-Disposition. No part is copied twice.
struct MultipartFormData {
    struct Part {
        var name: String
        var contentType: String?
        var body: ArraySlice<UInt8>
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The boundary from a `Content-Type: multipart/form-data; boundary=…` header, or nil.
    static func boundary(fromContentType value: String) -> String? {
        let parts = value.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.first?.lowercased() == "multipart/form-data" else { return nil }
        for p in parts.dropFirst() where p.lowercased().hasPrefix("boundary=") {
            var b = String(p.dropFirst("boundary=".count))
            if b.hasPrefix("\""), b.hasSuffix("\""), b.count >= 2 { b = String(b.dropFirst().dropLast()) }
            return (1...70).contains(b.utf8.count) ? b : nil
        }
        return nil
    }

    static func parse(_ body: [UInt8], boundary: String, maxParts: Int = 8) throws -> [Part] {
        let delimiter = Array("--\(boundary)".utf8)
        var parts: [Part] = []
        guard var cursor = find(delimiter, in: body, from: 0) else { throw Failure(description: "no multipart boundary in body") }
        cursor += delimiter.count
        while true {
            // "--" after a delimiter ends the body.
            if cursor + 1 < body.count, body[cursor] == 0x2D, body[cursor + 1] == 0x2D { return parts }
            guard let lineEnd = find([0x0D, 0x0A], in: body, from: cursor) else { throw Failure(description: "truncated multipart body") }
            cursor = lineEnd + 2
            guard let headerEnd = find([0x0D, 0x0A, 0x0D, 0x0A], in: body, from: cursor) else {
                throw Failure(description: "multipart part without a header block")
            }
            let headers = String(decoding: body[cursor..<headerEnd], as: UTF8.self)
            let contentStart = headerEnd + 4
            guard let next = find([0x0D, 0x0A] + delimiter, in: body, from: contentStart) else {
                throw Failure(description: "multipart part not terminated by its boundary")
            }
            var name: String?
            var contentType: String?
            for line in headers.split(separator: "\r\n") {
                let lower = line.lowercased()
                if lower.hasPrefix("content-disposition:") {
                    name = Self.parameter("name", in: String(line))
                } else if lower.hasPrefix("content-type:") {
                    contentType = line.dropFirst("content-type:".count).trimmingCharacters(in: .whitespaces)
                }
            }
            guard let name else { throw Failure(description: "multipart part without a name") }
            parts.append(Part(name: name, contentType: contentType, body: body[contentStart..<next]))
            guard parts.count <= maxParts else { throw Failure(description: "more than \(maxParts) multipart parts") }
            cursor = next + 2 + delimiter.count
        }
    }

    private static func parameter(_ key: String, in header: String) -> String? {
        for piece in header.split(separator: ";") {
            let trimmed = piece.trimmingCharacters(in: .whitespaces)
            guard trimmed.lowercased().hasPrefix("\(key)=") else { continue }
            var value = String(trimmed.dropFirst(key.count + 1))
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            return value
        }
        return nil
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
