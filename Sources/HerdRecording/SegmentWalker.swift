import Foundation

/// Reads a session's records in order across its segment files, from a starting point, checking each
/// record's CRC and (optionally) its hash. Used by recovery, verify and replay.
struct SegmentWalker {
    enum Stop: Equatable {
        /// The last segment ends inside a record (a torn write).
        case truncated(segment: Int, offset: Int64)
        case corrupt(segment: Int, offset: Int64, reason: String)
        case badHeader(segment: Int, reason: String)
    }

    let directory: String
    let verifyHash: Bool

    /// Calls `body` with each record and where it starts; returns why it stopped early, or nil at the end.
    /// `body` returns false to stop.
    func walk(
        from start: (segment: Int, offset: Int64)? = nil, upTo limit: (segment: Int, offset: Int64)? = nil,
        _ body: (_ record: Record, _ segment: Int, _ offset: Int64, _ size: Int) -> Bool
    ) throws(RecordingError) -> Stop? {
        let numbers = SegmentFile.numbers(in: directory).filter { n in
            (start.map { n >= $0.segment } ?? true) && (limit.map { n <= $0.segment } ?? true)
        }
        for number in numbers {
            let data = try SegmentFile.map(directory + "/" + SegmentFile.name(number))
            let stop: Stop?? = data.withUnsafeBytes { raw -> Stop?? in
                guard raw.count >= SegmentFile.headerSize, Array(raw[0..<8]) == SegmentFile.magic else {
                    return .some(.badHeader(segment: number, reason: "not a HerdLens segment"))
                }
                guard Int(raw.loadLE(UInt32.self, at: 12)) == number else {
                    return .some(.badHeader(segment: number, reason: "segment header names another number"))
                }
                var offset = SegmentFile.headerSize
                if let start, start.segment == number { offset = Int(start.offset) }
                var end = raw.count
                if let limit, limit.segment == number { end = min(end, Int(limit.offset)) }
                let view = UnsafeRawBufferPointer(rebasing: raw[0..<end])
                while offset < end {
                    switch Record.read(view, at: offset, verifyHash: verifyHash) {
                    case .record(let record, let size):
                        if !body(record, number, Int64(offset), size) { return .some(nil) }
                        offset += size
                    case .truncated:
                        return .some(.truncated(segment: number, offset: Int64(offset)))
                    case .corrupt(let reason):
                        return .some(.corrupt(segment: number, offset: Int64(offset), reason: reason))
                    }
                }
                return .none
            }
            if let stop { return stop }
        }
        return nil
    }
}
