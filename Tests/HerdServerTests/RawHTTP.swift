import Foundation
import HerdTesting

/// A raw TCP exchange with the server: what a client library that is not ours sees, byte for byte.
enum RawHTTP {
    struct Response {
        var status: Int
        var headers: [String: String]
        var body: String
    }

    /// Sends `request` and reads until the server closes (or 30 s pass, or a 101 head is complete), on a thread of its own: blocking
    /// a cooperative thread could starve the server under test.
    static func exchange(port: Int, _ request: String) async throws -> Response {
        try await OffPool.run { try blockingExchange(port: port, request) }
    }

    /// Sends `bytes` and returns everything received until the server closes (or 30 s pass, or a 101 head
    /// is complete), on a thread of its own.
    static func received(port: Int, _ bytes: [UInt8]) async throws -> [UInt8] {
        try await OffPool.run { try blockingReceive(port: port, bytes) }
    }

    /// Sends `first`, reads until `until` has arrived, then sends `then` and returns everything received
    /// until the server closes (30 s limit on each read).
    static func conversation(port: Int, _ first: [UInt8], until: String, then: [UInt8]) async throws -> [UInt8] {
        try await OffPool.run { try blockingReceive(port: port, first, until: Array(until.utf8), then: then) }
    }

    /// Parses a response as received.
    static func parse(_ received: [UInt8]) throws -> Response {
        guard let split = (0..<max(0, received.count - 3)).first(where: { received[$0..<$0 + 4] == [13, 10, 13, 10] }) else {
            throw POSIXError(.EBADMSG)
        }
        let head = String(decoding: received[..<split], as: UTF8.self).split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
        let statusParts = head[0].split(separator: " ")
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return Response(
            status: statusParts.count > 1 ? Int(statusParts[1]) ?? 0 : 0, headers: headers, body: String(decoding: received[(split + 4)...], as: UTF8.self))
    }

    private static func blockingExchange(port: Int, _ request: String) throws -> Response {
        try parse(try blockingReceive(port: port, Array(request.utf8)))
    }

    private static func blockingReceive(port: Int, _ bytes: [UInt8], until marker: [UInt8]? = nil, then more: [UInt8] = []) throws -> [UInt8] {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        // Generous: CI runs ~150 tests at once on two cores, and a loaded server has answered later than 10 s.
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        func sendAll(_ bytes: [UInt8]) throws {
            var sent = 0
            while sent < bytes.count {
                let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
                guard n > 0 else { throw POSIXError(.EPIPE) }
                sent += n
            }
        }
        try sendAll(bytes)
        var marker = marker
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n < 0 && errno == EAGAIN { throw POSIXError(.ETIMEDOUT) }
            if n <= 0 { break }
            received.append(contentsOf: buffer[0..<n])
            if let m = marker, received.count >= m.count, (0...(received.count - m.count)).contains(where: { received[$0..<$0 + m.count].elementsEqual(m) }) {
                marker = nil
                try sendAll(more)
            }
            // A switched protocol stays open: its head is all there is to read.
            if received.starts(with: Array("HTTP/1.1 101".utf8)), received.count >= 4,
                (0...(received.count - 4)).contains(where: { received[$0..<$0 + 4] == [13, 10, 13, 10] })
            {
                break
            }
        }
        return received
    }

    /// A WebSocket opening handshake as a browser sends it.
    static func upgrade(_ path: String, token: String?) -> String {
        var lines = [
            "GET \(path) HTTP/1.1", "Host: 127.0.0.1", "Upgrade: websocket", "Connection: Upgrade",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13",
        ]
        if let token { lines.append("Authorization: Bearer \(token)") }
        return lines.joined(separator: "\r\n") + "\r\n\r\n"
    }
}
