import Foundation

/// JSON for the wire: camelCase as declared, no escaped slashes, and decoding errors turned into
/// `ProtocolError` with the path of the offending field.
public enum WireJSON {
    private struct TypePeek: Decodable {
        var type: String
    }

    public static func encode(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        // Every wire type holds strings, finite numbers and arrays of them: encoding cannot fail.
        return (try? [UInt8](encoder.encode(value))) ?? Array("{}".utf8)
    }

    public static func encodeString(_ value: some Encodable) -> String {
        String(decoding: encode(value), as: UTF8.self)
    }

    public static func decode<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>) throws(ProtocolError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw classify(error)
        } catch {
            throw .badJSON("\(error)")
        }
    }

    /// The `type` field of a JSON object, or `badJSON`.
    public static func messageType(_ bytes: some Collection<UInt8>) throws(ProtocolError) -> String {
        try decode(TypePeek.self, from: bytes).type
    }

    private static func classify(_ error: DecodingError) -> ProtocolError {
        func path(_ context: DecodingError.Context) -> String {
            let p = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return p.isEmpty ? "top level" : String(p.drop(while: { $0 == "." }))
        }
        switch error {
        case .keyNotFound(let key, let c):
            let where_ = path(c) == "top level" ? key.stringValue : "\(path(c)).\(key.stringValue)"
            switch key.stringValue {
            case "seq": return .invalidSeq("missing 'seq'")
            case "stream": return .invalidStream("missing 'stream'")
            case "capturedAt": return .invalidTimestamp("missing 'capturedAt'")
            default: return .badJSON("missing '\(where_)'")
            }
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c):
            let field = c.codingPath.last?.stringValue
            let detail = "\(path(c)): \(c.debugDescription)"
            switch field {
            case "seq": return .invalidSeq(detail)
            case "stream": return .invalidStream(detail)
            case "capturedAt", "at": return .invalidTimestamp(detail)
            case nil: return .badJSON(detail)
            default:
                // A value of the right JSON type but outside its set (an unknown seal state, a bad enum).
                if case .dataCorrupted = error { return .invalidMessage(detail) }
                return .badJSON(detail)
            }
        @unknown default:
            return .badJSON("\(error)")
        }
    }
}
