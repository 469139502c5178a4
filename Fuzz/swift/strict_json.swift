// libFuzzer harness for StrictJSON (the strict pass over every device header), built by
// scripts/fuzz.sh strict_json: swiftc -sanitize=fuzzer,address over StrictJSON.swift and ProtocolError.swift.
// Checks: never crashes or overflows its stack (nesting is bounded); whatever it accepts, Foundation's
// JSONSerialization accepts too (it is stricter, never looser).
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    do {
        _ = try StrictJSON.check(bytes)
        // Accepted: a standard parser must accept it too. (Numbers are left out of the comparison:
        // Foundation refuses some that RFC 8259 allows, such as 1e400.)
        if !bytes.contains(where: { (48...57).contains($0) }),
            (try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])) == nil
        {
            fatalError("StrictJSON accepted what JSONSerialization refuses: \(String(decoding: bytes, as: UTF8.self))")
        }
    } catch {
        // Refused with badJSON: fine.
    }
    return 0
}
