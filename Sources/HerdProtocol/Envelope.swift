import Foundation

/// The binary framing of every binary WebSocket message, both directions: a 4-byte big-endian header
/// length N, N bytes of UTF-8 JSON (one object with a `type`), then the payload (possibly empty).
public enum Envelope {
    /// Largest JSON header accepted by default.
    public static let defaultMaxHeaderBytes = 64 * 1024

    /// Header and payload as one message.
    public static func encode(headerJSON: some Collection<UInt8>, payload: some Collection<UInt8>) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(4 + headerJSON.count + payload.count)
        let n = UInt32(headerJSON.count)
        out.append(contentsOf: [UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)])
        out.append(contentsOf: headerJSON)
        out.append(contentsOf: payload)
        return out
    }

    /// Encodes `header` as JSON and frames it with `payload`.
    public static func encode(header: some Encodable, payload: some Collection<UInt8>) -> [UInt8] {
        encode(headerJSON: WireJSON.encode(header), payload: payload)
    }

    /// Splits a message into its JSON header and payload without copying.
    public static func split(_ message: [UInt8], maxHeaderBytes: Int = defaultMaxHeaderBytes) throws(ProtocolError)
        -> (header: ArraySlice<UInt8>, payload: ArraySlice<UInt8>)
    {
        guard message.count >= 4 else { throw .badEnvelope("message of \(message.count) bytes has no 4-byte header length") }
        let n = Int(message[0]) << 24 | Int(message[1]) << 16 | Int(message[2]) << 8 | Int(message[3])
        guard n <= maxHeaderBytes else { throw .headerTooLarge("header of \(n) bytes exceeds \(maxHeaderBytes)") }
        guard n >= 2, 4 + n <= message.count else {
            throw .badEnvelope("header length \(n) does not fit a \(message.count)-byte message")
        }
        return (message[4..<(4 + n)], message[(4 + n)...])
    }
}
