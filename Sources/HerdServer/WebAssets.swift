import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The web viewer's files, shipped inside the package (no CDN: it works offline) and read once.
struct WebAssets: Sendable {
    private let files: [String: (type: String, body: ByteBuffer)]

    init() {
        var files: [String: (String, ByteBuffer)] = [:]
        for (name, type) in [("index.html", "text/html; charset=utf-8"), ("app.js", "text/javascript; charset=utf-8"), ("app.css", "text/css; charset=utf-8"), ("i18n.js", "text/javascript; charset=utf-8"), ("audit.js", "text/javascript; charset=utf-8"), ("console.js", "text/javascript; charset=utf-8")] {
            if let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Web"),
                let data = try? Data(contentsOf: url)
            {
                files[name] = (type, ByteBuffer(bytes: data))
            }
        }
        self.files = files
    }

    func response(_ name: String) throws -> Response {
        guard let file = files[name] else { throw HerdServerError(.notFound, code: "notFound", message: "\(name) is not part of the viewer") }
        var headers = HTTPFields()
        headers[.contentType] = file.type
        headers[.cacheControl] = "no-cache"
        headers[.init("Content-Security-Policy")!] = "default-src 'self'; img-src 'self' blob:; connect-src 'self' ws: wss:"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: file.body))
    }
}
