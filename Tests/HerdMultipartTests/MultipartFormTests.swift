import HerdMultipart
import Testing

@Suite("multipart/form-data bodies of HTTP ingest")
struct MultipartFormTests {
    static let boundary = "herdlens-boundary-3f9a"

    static func body(_ parts: [(headers: String, body: [UInt8])], close: Bool = true, boundary: String = boundary) -> [UInt8] {
        var bytes: [UInt8] = []
        for part in parts {
            bytes += Array("--\(boundary)\r\n\(part.headers)\r\n\r\n".utf8) + part.body + Array("\r\n".utf8)
        }
        bytes += Array(close ? "--\(boundary)--\r\n".utf8 : "--\(boundary)\r\n".utf8)
        return bytes
    }

    /// Bytes that look like delimiters to a careless parser: CR, LF, dashes, part of the boundary.
    static let awkwardImage: [UInt8] = [0xFF, 0xD8] + Array("\r\n--herdlens-boundary-3f9\r\n\r\r\n--\r\n-".utf8) + (0..<2048).map { UInt8($0 % 256) } + [0xFF, 0xD9]

    @Test("a device's upload: both parts, names, types and exact bytes")
    func upload() throws {
        let metadata = Array(#"{"type":"frame","stream":"farm-jx-017.cam-1","seq":1,"capturedAt":"2026-11-20T08:15:01.250+08:00"}"#.utf8)
        let form = try MultipartForm(parsing: Self.body([
            ("Content-Disposition: form-data; name=\"metadata\"\r\nContent-Type: application/json", metadata),
            ("Content-Disposition: form-data; name=\"image\"; filename=\"f.jpg\"\r\nContent-Type: image/jpeg", Self.awkwardImage),
        ]), boundary: Self.boundary)
        #expect(form.parts.map(\.name) == ["metadata", "image"])
        #expect(form.part("metadata")?.body == metadata)
        #expect(form.part("metadata")?.contentType == "application/json")
        #expect(form.part("image")?.body == Self.awkwardImage)
        #expect(form.part("image")?.contentType == "image/jpeg")
        #expect(form.part("other") == nil)
    }

    @Test("refused bodies name what is wrong", arguments: [
        ("cut inside a part", "truncated"),
        ("no final boundary", "no final boundary"),
        ("nine parts", "more than 8"),
        ("a part without a name", "without a name"),
        ("17 header lines", "more than 16 header lines"),
        ("no part", "no multipart part"),
        ("garbage header", "malformed"),
        ("a header-name byte over 0x7F (trapped MultipartKit 4.7.1)", "malformed"),
    ])
    func refused(variant: String, expected: String) {
        let named = ("Content-Disposition: form-data; name=\"metadata\"", Array("{}".utf8))
        let buffer: [UInt8]
        switch variant {
        case "cut inside a part":
            buffer = Self.body([named, ("Content-Disposition: form-data; name=\"image\"", Self.awkwardImage)]).dropLast(100)
        case "no final boundary": buffer = Self.body([named], close: false)
        case "nine parts": buffer = Self.body(Array(repeating: named, count: 9))
        case "a part without a name": buffer = Self.body([("Content-Disposition: form-data", [1, 2, 3])])
        case "17 header lines": buffer = Self.body([((0..<16).map { "X-Extra-\($0): 1\r\n" }.joined() + named.0, named.1)])
        case "no part": buffer = Array("a preamble and nothing else\r\n".utf8)
        case "garbage header": buffer = Array("--\(Self.boundary)\r\nBad Header Name: x\r\n\r\nbody\r\n--\(Self.boundary)--\r\n".utf8)
        default: buffer = Array("--\(Self.boundary)\r\n\u{BD}ent-Disposition: form-data; name=\"m\"\r\n\r\nbody\r\n--\(Self.boundary)--\r\n".utf8)
        }
        #expect {
            try MultipartForm(parsing: buffer, boundary: Self.boundary)
        } throws: { error in
            "\(error)".contains(expected)
        }
    }

    @Test("the boundary from Content-Type", arguments: [
        ("multipart/form-data; boundary=abc", "abc"),
        ("Multipart/Form-Data; charset=utf-8; boundary=\"a b:c\"", "a b:c"),
        ("multipart/form-data; boundary=" + String(repeating: "x", count: 70), String(repeating: "x", count: 70)),
        ("multipart/form-data; boundary=" + String(repeating: "x", count: 71), nil),
        ("multipart/form-data; boundary=", nil),
        ("multipart/form-data; boundary=a\u{7}b", nil),
        ("multipart/mixed; boundary=abc", nil),
        ("image/jpeg", nil),
    ] as [(String, String?)])
    func boundary(header: String, expected: String?) {
        #expect(MultipartForm.boundary(fromContentType: header) == expected)
    }

    @Test("a boundary the parser cannot use is refused, not trapped on")
    func unusableBoundary() {
        #expect(throws: MultipartForm.Failure.self) { try MultipartForm(parsing: Array("--\r\n".utf8), boundary: "") }
        #expect(throws: MultipartForm.Failure.self) {
            try MultipartForm(parsing: Array("x".utf8), boundary: String(repeating: "b", count: 71))
        }
    }
}
