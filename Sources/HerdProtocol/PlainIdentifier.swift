/// The rule every client-chosen id on the wire follows (annotation ids, mark ids): `maxLength` characters
/// at most, none of them white space, a control character, `"`, `/` or `\`. Ids may use any script
/// (`zone-猪圈A`) yet stay one token in a log line or a path.
enum PlainIdentifier {
    static func isValid(_ id: String, maxLength: Int) -> Bool {
        let bad = id.unicodeScalars.contains { $0.properties.isWhitespace || $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || "\"/\\".unicodeScalars.contains($0) }
        return (1...maxLength).contains(id.unicodeScalars.count) && !bad
    }
}
