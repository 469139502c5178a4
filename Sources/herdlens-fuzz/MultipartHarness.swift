import HerdMultipart

/// The HTTP ingest body (`MultipartForm`). The first byte picks the boundary's length
/// (1-70); then the boundary, then the body. Checks: never crashes or traps; at most 8 parts, each named;
/// no part holds the delimiter it was split on; the Content-Type reader never returns a bad boundary.
enum MultipartHarness {
    static let harness = Harness(name: "multipart") { input in
        guard input.count > 1 else { return }
        let length = Int(input[0]) % 70 + 1
        guard input.count > 1 + length else { return }
        let boundary = String(decoding: input[1..<1 + length], as: UTF8.self)
        let body = Array(input[(1 + length)...])
        for header in ["multipart/form-data; boundary=\(boundary)", String(decoding: input.prefix(200), as: UTF8.self)] {
            if let found = MultipartForm.boundary(fromContentType: header), !(1...70).contains(found.utf8.count) {
                finding("a boundary of \(found.utf8.count) bytes from \(header)")
            }
        }
        guard (1...70).contains(boundary.utf8.count), let form = try? MultipartForm(parsing: body, boundary: boundary, maxParts: 8) else { return }
        if form.parts.count > 8 { finding("\(form.parts.count) parts past the limit of 8") }
        let delimiter = Array("\r\n--\(boundary)".utf8)
        for part in form.parts {
            let bytes = part.body
            if bytes.count >= delimiter.count,
                (0...(bytes.count - delimiter.count)).contains(where: { bytes[$0..<$0 + delimiter.count].elementsEqual(delimiter) })
            {
                finding("a part's body holds its delimiter")
            }
        }
    }
}
