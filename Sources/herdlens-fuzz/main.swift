// herdlens-fuzz: the libFuzzer harnesses over HerdLens's Swift parsers of outside bytes, in one binary.
//
//   herdlens-fuzz HARNESS [libFuzzer flags] [CORPUS_DIR...]   built with -sanitize=fuzzer,address: fuzz
//   herdlens-fuzz HARNESS FILE_OR_DIR...                       a plain build: replay inputs, then exit
//   herdlens-fuzz seeds HARNESS DIR                            write real seed inputs (a recorded session's
//                                                              segments, an exported bundle) into DIR
//   herdlens-fuzz list
//
// scripts/fuzz.sh builds it (SwiftPM, its own scratch path) and runs it like the C harnesses.
import CHerdFuzz
import Foundation

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: herdlens-fuzz HARNESS [libFuzzer flags] [inputs]   (herdlens-fuzz list)\n".utf8))
    exit(64)
}
switch arguments[1] {
case "list":
    print(Harnesses.all.map(\.name).joined(separator: "\n"))
case "seeds":
    guard arguments.count == 4, let harness = Harnesses.named(arguments[2]) else {
        FileHandle.standardError.write(Data("usage: herdlens-fuzz seeds HARNESS DIR\n".utf8))
        exit(64)
    }
    do {
        try FileManager.default.createDirectory(atPath: arguments[3], withIntermediateDirectories: true)
        let written = try harness.seeds(arguments[3])
        print("\(harness.name): \(written) seeds in \(arguments[3])")
    } catch {
        FileHandle.standardError.write(Data("seeds for \(harness.name) failed: \(error)\n".utf8))
        exit(1)
    }
default:
    guard let harness = Harnesses.named(arguments[1]) else {
        FileHandle.standardError.write(Data("unknown harness \(arguments[1]) (herdlens-fuzz list)\n".utf8))
        exit(64)
    }
    Harnesses.select(harness)
    harness.prepare()
    // libFuzzer sees argv without the harness name.
    let rest = [arguments[0]] + arguments.dropFirst(2)
    var argc = Int32(rest.count)
    var cStrings = rest.map { strdup($0) } + [nil]
    let status = cStrings.withUnsafeMutableBufferPointer { buffer -> Int32 in
        var argv = buffer.baseAddress
        return herdfuzz_run_driver(&argc, &argv) { data, size in Harnesses.runSelected(data, size) }
    }
    if status != -1 { exit(status) }
    cStrings.forEach { free($0) }  // no driver kept them (LeakSanitizer checks the replay)
    // A plain build: replay every file named, or every file in the directories named.
    var replayed = 0
    for path in arguments.dropFirst(2) where !path.hasPrefix("-") {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { continue }
        let files = isDirectory.boolValue
            ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { path + "/" + $0 } : [path]
        for file in files {
            guard let bytes = FileManager.default.contents(atPath: file) else { continue }
            bytes.withUnsafeBytes { raw in
                _ = Harnesses.runSelected(raw.bindMemory(to: UInt8.self).baseAddress ?? UnsafePointer(bitPattern: 1)!, raw.count)
            }
            replayed += 1
        }
    }
    print("\(harness.name): \(replayed) inputs replayed without a finding (plain build, no fuzzing)")
}
