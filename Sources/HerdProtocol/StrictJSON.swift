/// A strict pass over JSON text before it is decoded: well-formed RFC 8259, nesting at most `maxDepth`,
/// and no object with the same key twice (decoders disagree on which one wins: Foundation keeps the
/// first, Python the last; the header bytes are kept as evidence and other tools will read them).
/// Returns the top-level object's `type` string, if any, so a message is parsed once more, not twice.
public enum StrictJSON {
    public static let maxDepth = 64

    public static func check(_ bytes: some Collection<UInt8>) throws(ProtocolError) -> String? {
        let b = Array(bytes)
        var scanner = Scanner(bytes: b)
        return try scanner.document()
    }

    private struct Scanner {
        let bytes: [UInt8]
        var i = 0
        var depth = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        func fail(_ why: String) -> ProtocolError { .badJSON("\(why) at byte \(i)") }

        mutating func skipSpace() {
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
        }

        mutating func document() throws(ProtocolError) -> String? {
            skipSpace()
            var type: String?
            try value(top: true, type: &type)
            skipSpace()
            guard i == bytes.count else { throw fail("unexpected data after the JSON value") }
            return type
        }

        mutating func value(top: Bool, type: inout String?) throws(ProtocolError) {
            guard i < bytes.count else { throw fail("unexpected end of JSON") }
            switch bytes[i] {
            case UInt8(ascii: "{"): try object(top: top, type: &type)
            case UInt8(ascii: "["): try array()
            case UInt8(ascii: "\""): _ = try string()
            case UInt8(ascii: "t"): try literal("true")
            case UInt8(ascii: "f"): try literal("false")
            case UInt8(ascii: "n"): try literal("null")
            default: try number()
            }
        }

        mutating func literal(_ word: String) throws(ProtocolError) {
            let w = Array(word.utf8)
            guard i + w.count <= bytes.count, Array(bytes[i..<i + w.count]) == w else { throw fail("invalid literal") }
            i += w.count
        }

        mutating func number() throws(ProtocolError) {
            let start = i
            if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard i < bytes.count, (48...57).contains(bytes[i]) else { throw fail("invalid value") }
            if bytes[i] == 48 { i += 1 } else { while i < bytes.count, (48...57).contains(bytes[i]) { i += 1 } }
            if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
                i += 1
                guard i < bytes.count, (48...57).contains(bytes[i]) else { throw fail("invalid number") }
                while i < bytes.count, (48...57).contains(bytes[i]) { i += 1 }
            }
            if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
                i += 1
                if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
                guard i < bytes.count, (48...57).contains(bytes[i]) else { throw fail("invalid number") }
                while i < bytes.count, (48...57).contains(bytes[i]) { i += 1 }
            }
            guard i > start else { throw fail("invalid value") }
        }

        mutating func enter() throws(ProtocolError) {
            depth += 1
            guard depth <= StrictJSON.maxDepth else { throw fail("JSON nested deeper than \(StrictJSON.maxDepth) levels") }
        }

        mutating func array() throws(ProtocolError) {
            try enter()
            i += 1
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
                i += 1
                depth -= 1
                return
            }
            var ignored: String?
            while true {
                skipSpace()
                try value(top: false, type: &ignored)
                skipSpace()
                guard i < bytes.count else { throw fail("unterminated array") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                guard bytes[i] == UInt8(ascii: "]") else { throw fail("expected , or ]") }
                i += 1
                depth -= 1
                return
            }
        }

        mutating func object(top: Bool, type: inout String?) throws(ProtocolError) {
            try enter()
            i += 1
            var keys = Set<String>()
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
                i += 1
                depth -= 1
                return
            }
            while true {
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected a key") }
                let key = try string()
                guard keys.insert(key).inserted else { throw fail("duplicate key '\(key.prefix(64))'") }
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw fail("expected :") }
                i += 1
                skipSpace()
                if top, key == "type", i < bytes.count, bytes[i] == UInt8(ascii: "\"") {
                    type = try string()
                } else {
                    var ignored: String?
                    try value(top: false, type: &ignored)
                }
                skipSpace()
                guard i < bytes.count else { throw fail("unterminated object") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                guard bytes[i] == UInt8(ascii: "}") else { throw fail("expected , or }") }
                i += 1
                depth -= 1
                return
            }
        }

        /// A string token, unescaped (keys are compared as text, so "\u0074ype" is "type").
        mutating func string() throws(ProtocolError) -> String {
            i += 1
            var out: [UInt8] = []
            while i < bytes.count {
                let c = bytes[i]
                switch c {
                case UInt8(ascii: "\""):
                    i += 1
                    guard let text = String(validating: out, as: UTF8.self) else { throw fail("string is not valid UTF-8") }
                    return text
                case UInt8(ascii: "\\"):
                    guard i + 1 < bytes.count else { throw fail("unterminated escape") }
                    let e = bytes[i + 1]
                    i += 2
                    switch e {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                    case UInt8(ascii: "b"): out.append(8)
                    case UInt8(ascii: "f"): out.append(12)
                    case UInt8(ascii: "n"): out.append(10)
                    case UInt8(ascii: "r"): out.append(13)
                    case UInt8(ascii: "t"): out.append(9)
                    case UInt8(ascii: "u"):
                        var code = try hex4()
                        if (0xD800...0xDBFF).contains(code) {
                            guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else { throw fail("lone surrogate") }
                            i += 2
                            let low = try hex4()
                            guard (0xDC00...0xDFFF).contains(low) else { throw fail("lone surrogate") }
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        } else if (0xDC00...0xDFFF).contains(code) {
                            throw fail("lone surrogate")
                        }
                        out.append(contentsOf: Array(String(Character(Unicode.Scalar(code)!)).utf8))
                    default: throw fail("invalid escape")
                    }
                case 0..<0x20:
                    throw fail("control character in a string")
                default:
                    out.append(c)
                    i += 1
                }
            }
            throw fail("unterminated string")
        }

        mutating func hex4() throws(ProtocolError) -> UInt32 {
            guard i + 4 <= bytes.count else { throw fail("short \\u escape") }
            var v: UInt32 = 0
            for k in 0..<4 {
                let c = bytes[i + k]
                let d: UInt32
                switch c {
                case 48...57: d = UInt32(c - 48)
                case 97...102: d = UInt32(c - 87)
                case 65...70: d = UInt32(c - 55)
                default: throw fail("invalid \\u escape")
                }
                v = v << 4 | d
            }
            i += 4
            return v
        }
    }
}
