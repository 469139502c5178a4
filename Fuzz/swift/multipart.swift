// libFuzzer harness for the HTTP ingest route's multipart/form-data parser (MultipartFormData), built by
// scripts/fuzz.sh multipart: swiftc -sanitize=fuzzer,address over Sources/HerdServer/MultipartFormData.swift.
// The first byte picks the boundary's length (1-70, the RFC's limit); then the boundary, then the body.
// Checks: never crashes or traps; at most maxParts parts; every part's body lies inside the input and
// never contains the delimiter it was split on.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 1 else { return 0 }
    let length = Int(data[0]) % 70 + 1
    guard size > 1 + length else { return 0 }
    let boundary = String(decoding: UnsafeBufferPointer(start: data + 1, count: length), as: UTF8.self)
    let body = Array(UnsafeBufferPointer(start: data + 1 + length, count: size - 1 - length))
    _ = MultipartFormData.boundary(fromContentType: "multipart/form-data; boundary=\(boundary)")
    _ = MultipartFormData.boundary(fromContentType: String(decoding: body.prefix(200), as: UTF8.self))
    guard let parts = try? MultipartFormData.parse(body, boundary: boundary, maxParts: 8) else { return 0 }
    if parts.count > 8 { fatalError("\(parts.count) parts past the limit of 8") }
    let delimiter = Array("\r\n--\(boundary)".utf8)
    for part in parts {
        guard part.body.startIndex >= 0, part.body.endIndex <= body.count else { fatalError("a part outside the body") }
        let bytes = Array(part.body)
        if bytes.count >= delimiter.count, (0...(bytes.count - delimiter.count)).contains(where: { bytes[$0..<$0 + delimiter.count].elementsEqual(delimiter) }) {
            fatalError("a part's body holds its delimiter")
        }
    }
    return 0
}
