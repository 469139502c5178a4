import Foundation
import HerdProtocol

/// `--json` output of the commands: one line (sorted keys, slashes unescaped, as on the wire), or
/// indented for people.
enum JSONOutput {
    static func print(_ value: some Encodable, pretty: Bool = false) {
        guard pretty else { return Swift.print(WireJSON.encodeString(value)) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        Swift.print(String(decoding: (try? encoder.encode(value)) ?? Data(), as: UTF8.self))
    }
}
