import Foundation
import HerdRecording

/// A ZIP archive written front to back to a sink, every entry stored (no compression: JPEGs do not
/// shrink, and an auditor's tools read stored entries fastest). ZIP64 where sizes, offsets or the
/// entry count need it. Each entry is written whole with its CRC-32 and size in the local header; entries
/// known only at the end come from a `SpillFile`. The central directory is spilled too, so memory stays
/// flat whatever the number of entries.
final class ZipWriter {
    private let sink: ExportSink
    private var out: [UInt8] = []
    private var offset: Int64 = 0
    private let central: SpillFile
    private var count = 0
    private let dosTime: UInt16
    private let dosDate: UInt16
    static let chunk = 1 << 20

    init(sink: ExportSink, temporaryDirectory: String, date: Date = Date()) throws {
        self.sink = sink
        central = try SpillFile(directory: temporaryDirectory)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        dosTime = UInt16((c.hour ?? 0) << 11 | (c.minute ?? 0) << 5 | (c.second ?? 0) / 2)
        dosDate = UInt16(max(0, (c.year ?? 1980) - 1980) << 9 | (c.month ?? 1) << 5 | (c.day ?? 1))
        out.reserveCapacity(Self.chunk + 64 * 1024)
    }

    var bytesWritten: Int64 { offset }

    private func emit(_ bytes: UnsafeRawBufferPointer) throws {
        if out.count + bytes.count > Self.chunk, !out.isEmpty { try drain() }
        if bytes.count >= Self.chunk {
            try sink.write(bytes)
        } else {
            out.append(contentsOf: bytes)
        }
        offset += Int64(bytes.count)
    }

    private func emit(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try emit($0) } }

    private func drain() throws {
        guard !out.isEmpty else { return }
        try out.withUnsafeBytes { try sink.write($0) }
        out.removeAll(keepingCapacity: true)
    }

    /// One entry from bytes in memory.
    func add(_ name: String, _ bytes: [UInt8]) throws {
        let crc = bytes.withUnsafeBytes { CRC32.checksum($0) }
        try header(name, size: Int64(bytes.count), crc: crc)
        try emit(bytes)
    }

    /// One entry from a spill file (read twice: for its CRC, then its bytes).
    func add(_ name: String, spill: SpillFile) throws {
        var crc: UInt32 = 0
        try spill.read { crc = CRC32.checksum($0, continuing: crc) }
        try header(name, size: spill.size, crc: crc)
        try spill.read { try emit($0) }
    }

    private func header(_ name: String, size: Int64, crc: UInt32) throws {
        let nameBytes = Array(name.utf8)
        let at = offset
        let big = size >= 0xFFFF_FFFF
        var local = [UInt8]()
        local.le32(0x0403_4b50)
        local.le16(big ? 45 : 20)
        local.le16(0x0800)  // UTF-8 names
        local.le16(0)  // stored
        local.le16(dosTime)
        local.le16(dosDate)
        local.le32(crc)
        local.le32(big ? 0xFFFF_FFFF : UInt32(size))
        local.le32(big ? 0xFFFF_FFFF : UInt32(size))
        local.le16(UInt16(nameBytes.count))
        local.le16(big ? 20 : 0)
        local.append(contentsOf: nameBytes)
        if big {
            local.le16(0x0001)
            local.le16(16)
            local.le64(UInt64(size))
            local.le64(UInt64(size))
        }
        try emit(local)
        // Its central directory entry, spilled.
        let farOffset = at >= 0xFFFF_FFFF
        var extra = [UInt8]()
        if big || farOffset {
            var fields = [UInt8]()
            if big {
                fields.le64(UInt64(size))
                fields.le64(UInt64(size))
            }
            if farOffset { fields.le64(UInt64(at)) }
            extra.le16(0x0001)
            extra.le16(UInt16(fields.count))
            extra.append(contentsOf: fields)
        }
        var entry = [UInt8]()
        entry.le32(0x0201_4b50)
        entry.le16(3 << 8 | 45)  // made by: Unix, 4.5
        entry.le16(big || farOffset ? 45 : 20)
        entry.le16(0x0800)
        entry.le16(0)
        entry.le16(dosTime)
        entry.le16(dosDate)
        entry.le32(crc)
        entry.le32(big ? 0xFFFF_FFFF : UInt32(size))
        entry.le32(big ? 0xFFFF_FFFF : UInt32(size))
        entry.le16(UInt16(nameBytes.count))
        entry.le16(UInt16(extra.count))
        entry.le16(0)  // comment
        entry.le16(0)  // disk
        entry.le16(0)  // internal attributes
        entry.le32(UInt32(0o100644) << 16)
        entry.le32(farOffset ? 0xFFFF_FFFF : UInt32(at))
        entry.append(contentsOf: nameBytes)
        entry.append(contentsOf: extra)
        try central.append(entry)
        count += 1
    }

    /// Writes the central directory and the end records; the sink has everything after this.
    func finish() throws {
        let cdOffset = offset
        try central.read { try emit($0) }
        let cdSize = offset - cdOffset
        let zip64 = count >= 0xFFFF || cdOffset >= 0xFFFF_FFFF || cdSize >= 0xFFFF_FFFF
        var end = [UInt8]()
        if zip64 {
            let recordAt = offset
            end.le32(0x0606_4b50)
            end.le64(44)
            end.le16(3 << 8 | 45)
            end.le16(45)
            end.le32(0)
            end.le32(0)
            end.le64(UInt64(count))
            end.le64(UInt64(count))
            end.le64(UInt64(cdSize))
            end.le64(UInt64(cdOffset))
            end.le32(0x0706_4b50)
            end.le32(0)
            end.le64(UInt64(recordAt))
            end.le32(1)
        }
        end.le32(0x0605_4b50)
        end.le16(0)
        end.le16(0)
        end.le16(zip64 ? 0xFFFF : UInt16(count))
        end.le16(zip64 ? 0xFFFF : UInt16(count))
        end.le32(zip64 ? 0xFFFF_FFFF : UInt32(cdSize))
        end.le32(zip64 ? 0xFFFF_FFFF : UInt32(cdOffset))
        end.le16(0)
        try emit(end)
        try drain()
    }
}

extension [UInt8] {
    mutating func le16(_ v: UInt16) { Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) } }
    mutating func le32(_ v: UInt32) { Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) } }
    mutating func le64(_ v: UInt64) { Swift.withUnsafeBytes(of: v.littleEndian) { append(contentsOf: $0) } }
}
