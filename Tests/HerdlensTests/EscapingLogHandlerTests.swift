import Foundation
import Logging
import Testing
@testable import herdlens

/// Log injection (docs/security.md): text from outside never starts a log line of its own.
@Suite("log lines escape what clients chose")
struct EscapingLogHandlerTests {
    @Test("newlines, carriage returns, terminal escapes and Unicode line separators are escaped; the rest is kept")
    func escapes() {
        #expect(EscapingLogHandler.escaped("plain 猪 text") == "plain 猪 text")
        #expect(EscapingLogHandler.escaped("hello\n2026-12-06T00:00:00+0000 critical herdlens: forged") == "hello\\n2026-12-06T00:00:00+0000 critical herdlens: forged")
        #expect(EscapingLogHandler.escaped("a\r\tb\u{1B}[31mred\u{7F}\u{85}\u{2028}") == "a\\r\\tb\\u{1B}[31mred\\u{7F}\\u{85}\\u{2028}")
        let nested = EscapingLogHandler.escaped(Logger.Metadata.Value.dictionary(["k\n": .array([.string("v\n"), .stringConvertible(7)])]))
        guard case .dictionary(let d) = nested, case .array(let a)? = d["k\\n"], case .string(let v) = a[0], case .string(let n) = a[1] else {
            Issue.record("nested metadata not escaped as expected: \(nested)")
            return
        }
        #expect(v == "v\\n" && n == "7")
    }
}
