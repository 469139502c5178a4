import Foundation

/// One libFuzzer harness: a name for scripts/fuzz.sh, the body run on each input (it traps on a broken
/// contract, so libFuzzer keeps the input), and the real inputs it is seeded with beyond Fuzz/ seeds.
struct Harness: Sendable {
    let name: String
    let run: @Sendable (UnsafeRawBufferPointer) -> Void
    var seeds: @Sendable (_ directory: String) throws -> Int = { _ in 0 }
    /// Run once before the first input (so what it allocates is not taken for a leak of that input).
    var prepare: @Sendable () -> Void = {}
}

/// The harnesses of this binary, and the one picked on the command line.
enum Harnesses {
    static let all: [Harness] = [
        ProtocolHarnesses.strictJSON, ProtocolHarnesses.protocolMessages, MultipartHarness.harness,
        SegmentHarnesses.reader, SegmentHarnesses.recovery, BundleHarness.harness,
    ]

    nonisolated(unsafe) private static var selected: Harness?

    static func named(_ name: String) -> Harness? { all.first { $0.name == name } }

    /// Picks the harness before the driver starts (single-threaded then).
    static func select(_ harness: Harness) { selected = harness }

    static func runSelected(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
        guard let selected else { return 0 }
        selected.run(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size))
        return 0
    }
}

/// libFuzzer looks this symbol up at link time; the driver is handed the same function.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    Harnesses.runSelected(data, size)
}

/// A broken contract: stops the run so libFuzzer saves the input.
func finding(_ message: String) -> Never {
    FileHandle.standardError.write(Data("FINDING: \(message)\n".utf8))
    abort()
}

/// A per-process scratch directory, in memory where the machine has /dev/shm.
let scratchRoot: String = {
    let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
    let path = base + "/herdlens-fuzz-\(getpid())"
    try? FileManager.default.removeItem(atPath: path)
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(atPath: scratchRoot) }
    return path
}()
