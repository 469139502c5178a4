import Foundation
import HerdRecording
import Testing

/// The ZIP checksum: the PCLMULQDQ folding gives the same CRC-32 as the slicing-by-8 tables at every
/// length and alignment, and in pieces as whole.
@Suite("CRC-32 (ZIP)")
struct CRC32Tests {
    /// Deterministic bytes (xorshift).
    static func bytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed | 1
        return (0..<count).map { _ in
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return UInt8(truncatingIfNeeded: state)
        }
    }

    @Test("check values; folded equals tables at lengths 0 to 1,100 and unaligned starts; continuing over pieces equals whole")
    func agrees() {
        // The folding path is the one under test wherever the CPU has the instruction.
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        if cpu.contains(" pclmulqdq") && cpu.contains(" sse4_1") { #expect(CRC32.folds) }
        #expect(Array("123456789".utf8).withUnsafeBytes { CRC32.checksum($0) } == 0xCBF4_3926)
        #expect([UInt8](repeating: 0, count: 4096).withUnsafeBytes { CRC32.checksum($0) } == [UInt8](repeating: 0, count: 4096).withUnsafeBytes { CRC32.portableChecksum($0) })
        let data = Self.bytes(1_200, seed: 42)
        data.withUnsafeBytes { raw in
            for offset in 0..<4 {
                for length in 0...1_100 {
                    let slice = UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + length)])
                    let folded = CRC32.checksum(slice), tables = CRC32.portableChecksum(slice)
                    if folded != tables { Issue.record("offset \(offset) length \(length): \(folded) != \(tables)"); return }
                }
            }
            // In pieces (of every size under 200, so folded and table paths alternate) as whole.
            let whole = CRC32.checksum(raw)
            for piece in 1..<200 {
                var crc: UInt32 = 0
                var at = 0
                while at < raw.count {
                    let end = min(raw.count, at + piece)
                    crc = CRC32.checksum(UnsafeRawBufferPointer(rebasing: raw[at..<end]), continuing: crc)
                    at = end
                }
                if crc != whole { Issue.record("pieces of \(piece)"); return }
            }
        }
        let big = Self.bytes(3 << 20, seed: 7)
        #expect(big.withUnsafeBytes { CRC32.checksum($0) } == big.withUnsafeBytes { CRC32.portableChecksum($0) })
    }
}
