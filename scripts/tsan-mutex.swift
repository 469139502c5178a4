// Does ThreadSanitizer see Synchronization.Mutex? Four threads add 10,000 each to a counter and an
// array inside `withLock`: the program is race-free (it prints 40000), and on this toolchain TSan still
// reports "Swift access race" on the locked state, because Mutex locks with atomics and futexes in the
// prebuilt, uninstrumented standard library. docs/reliability.md (Sanitizers) uses this to sort the
// server tests' TSan reports.
//
//   swiftc -sanitize=thread -g scripts/tsan-mutex.swift -o /tmp/tsan-mutex && TSAN_OPTIONS=halt_on_error=0 /tmp/tsan-mutex
import Dispatch
import Synchronization

final class Counter: Sendable {
    struct State {
        var count = 0
        var items: [Int] = []
    }
    let state = Mutex(State())
}

let counter = Counter()
DispatchQueue.concurrentPerform(iterations: 4) { _ in
    for i in 0..<10_000 { counter.state.withLock { $0.count += 1; $0.items.append(i) } }
}
print(counter.state.withLock { $0.count })
