// LeakSanitizer reports live Swift memory in two shapes (scripts/lsan.supp suppresses both):
//   swiftc -sanitize=address scripts/lsan-swift.swift -o /tmp/lsan-swift && ASAN_OPTIONS=detect_leaks=1 /tmp/lsan-swift
// prints 2 and reports a 32-byte "direct leak" from formWeakReference (the side table of `alive`,
// whose address the object keeps encoded in its reference count) and a 65-byte one from
// Data.InlineSlice (the digest's storage, whose pointer carries the enum's tag in its spare bits).
// Both objects are reachable until exit.
import Foundation

final class Pipeline { var n = 1 }
let alive = Pipeline()
func peek() -> Int {
    weak let probe = alive  // a weak reference that is gone by exit, as a finished task's [weak self]
    return probe?.n ?? 0
}

enum Value { case null, int(Int64), blob(Data), text(String) }
final class Statement { var arguments: [Value] = [] }
let cached = Statement()
cached.arguments = [.int(1), .blob(Data([UInt8](repeating: 7, count: 32))), .text("pen-1")]  // as Data(digest)
print(peek() + cached.arguments.count - 2)
