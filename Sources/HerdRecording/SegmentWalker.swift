import Foundation

/// Reads a session's records in order across its segment files, from a starting point, checking each
/// record's CRC and (optionally) its hash. Used by recovery, verify and replay. Files are read with
/// `pread` into one reusable buffer (no mapping: a multi-gigabyte session costs no page-table churn), and
/// only the blobs of the kinds `keepBlobs` names are copied out.
struct SegmentWalker {
    enum Stop: Equatable {
        /// The last segment ends inside a record (a torn write).
        case truncated(segment: Int, offset: Int64)
        case corrupt(segment: Int, offset: Int64, reason: String)
        case badHeader(segment: Int, reason: String)
    }

    let directory: String
    let verifyHash: Bool
    var keepBlobs: @Sendable (UInt8) -> Bool = { _ in true }

    /// Bytes read at a time (grown for a larger record). Small ones exercise the refill path (fuzzing).
    var chunk: Int

    init(directory: String, verifyHash: Bool, keepBlobs: @escaping @Sendable (UInt8) -> Bool = { _ in true }, chunk: Int = 8 * 1024 * 1024) {
        self.directory = directory
        self.verifyHash = verifyHash
        self.keepBlobs = keepBlobs
        self.chunk = max(chunk, Record.frameHeaderSize)
    }

    /// Calls `body` with each record and where it starts; returns why it stopped early, or nil at the end.
    /// `body` returns false to stop.
    func walk(
        from start: (segment: Int, offset: Int64)? = nil, upTo limit: (segment: Int, offset: Int64)? = nil,
        _ body: (_ record: Record, _ segment: Int, _ offset: Int64, _ size: Int) -> Bool
    ) throws(RecordingError) -> Stop? {
        let numbers = SegmentFile.numbers(in: directory).filter { n in
            (start.map { n >= $0.segment } ?? true) && (limit.map { n <= $0.segment } ?? true)
        }
        var buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 64)
        defer { buffer.deallocate() }
        for number in numbers {
            let path = directory + "/" + SegmentFile.name(number)
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw SegmentFile.errnoError("cannot open \(path)") }
            defer { close(fd) }
            var st = stat()
            guard fstat(fd, &st) == 0 else { throw SegmentFile.errnoError("cannot stat \(path)") }
            var end = Int64(st.st_size)
            if let limit, limit.segment == number { end = min(end, limit.offset) }
            _ = posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_SEQUENTIAL))
            // The header.
            var header = [UInt8](repeating: 0, count: SegmentFile.headerSize)
            let got = header.withUnsafeMutableBytes { pread(fd, $0.baseAddress, SegmentFile.headerSize, 0) }
            guard got == SegmentFile.headerSize, Array(header[0..<8]) == SegmentFile.magic else {
                return .badHeader(segment: number, reason: "not a HerdLens segment")
            }
            guard header.withUnsafeBytes({ Int($0.loadLE(UInt32.self, at: 12)) }) == number else {
                return .badHeader(segment: number, reason: "segment header names another number")
            }
            var offset = Int64(SegmentFile.headerSize)
            if let start, start.segment == number { offset = start.offset }
            // `filled` bytes of the file from `base` are in the buffer.
            var base = offset, filled = 0
            while offset < end {
                var view = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[0..<filled])
                var at = Int(offset - base)
                var result = Record.read(view, at: at, verifyHash: verifyHash, keepBlobs: keepBlobs)
                if case .truncated = result {
                    // Move what is left to the front and read more (growing the buffer for a big record).
                    let left = filled - at
                    if left > 0 { buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + at, byteCount: left) }
                    base = offset
                    filled = left
                    if left >= Record.frameHeaderSize {
                        let need = Record.frameHeaderSize + Int(UnsafeRawBufferPointer(buffer).loadLE(UInt32.self, at: 0))
                        if need > buffer.count, need <= Record.maxBodySize + Record.frameHeaderSize {
                            let bigger = UnsafeMutableRawBufferPointer.allocate(byteCount: need, alignment: 64)
                            bigger.baseAddress!.copyMemory(from: buffer.baseAddress!, byteCount: left)
                            buffer.deallocate()
                            buffer = bigger
                        }
                    }
                    let want = min(buffer.count - filled, Int(end - (base + Int64(filled))))
                    if want > 0 {
                        let n = pread(fd, buffer.baseAddress! + filled, want, off_t(base) + off_t(filled))
                        if n < 0 { throw SegmentFile.errnoError("cannot read \(path)") }
                        filled += n
                    }
                    view = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[0..<filled])
                    at = 0
                    result = Record.read(view, at: at, verifyHash: verifyHash, keepBlobs: keepBlobs)
                }
                switch result {
                case .record(let record, let size):
                    if !body(record, number, offset, size) { return nil }
                    offset += Int64(size)
                case .truncated:
                    return .truncated(segment: number, offset: offset)
                case .corrupt(let reason):
                    return .corrupt(segment: number, offset: offset, reason: reason)
                }
            }
        }
        return nil
    }
}
