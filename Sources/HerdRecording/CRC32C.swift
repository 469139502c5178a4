import CHerdCRC

/// CRC32C (Castagnoli) of record bodies; the SSE 4.2 instruction when the CPU has it.
public enum CRC32C {
    public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress else { return crc }
        return herdcrc_crc32c(crc, base.assumingMemoryBound(to: UInt8.self), bytes.count)
    }

    public static var usesHardware: Bool { herdcrc_hardware() != 0 }
}

/// CRC-32 (IEEE), the checksum ZIP archives carry: carry-less multiplication folding (PCLMULQDQ) in
/// C when the CPU has it, slicing by 8 otherwise.
public enum CRC32 {
    public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return crc }
        return herdcrc_crc32(crc, base.assumingMemoryBound(to: UInt8.self), bytes.count)
    }

    /// Slicing by 8 alone: the reference for tests and benchmarks.
    public static func portableChecksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return crc }
        return herdcrc_crc32_portable(crc, base.assumingMemoryBound(to: UInt8.self), bytes.count)
    }

    /// Whether `checksum` folds with PCLMULQDQ on this CPU.
    public static var folds: Bool { herdcrc_crc32_folds() != 0 }
}
