import Foundation

/// Reads the central directory of a ZIP (ZIP64 included) and the bytes of its stored entries, with
/// every offset and size checked against the file: bundles come from elsewhere and may be hostile.
final class ZipReader {
    struct Entry {
        var name: String
        var size: Int64
        var crc: UInt32
        var method: UInt16
        var localOffset: Int64
    }

    private let fd: Int32
    let fileSize: Int64
    private(set) var entries: [Entry] = []
    private(set) var byName: [String: Int] = [:]
    static let maxEntries = 10_000_000
    static let maxCentralDirectory: Int64 = 2 << 30

    init(path: String) throws {
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ExportError.notFound("cannot open \(path): \(String(cString: strerror(errno)))") }
        var st = stat()
        fstat(fd, &st)
        fileSize = Int64(st.st_size)
        do {
            try readDirectory()
        } catch {
            close(fd)
            throw error
        }
    }

    deinit { close(fd) }

    func read(at offset: Int64, count: Int) throws -> [UInt8] {
        guard offset >= 0, count >= 0, offset + Int64(count) <= fileSize else { throw ExportError.invalid("read past the end of the archive") }
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset) + off_t(done)) }
            guard n > 0 else { throw ExportError.io("archive read failed") }
            done += n
        }
        return bytes
    }

    private func readDirectory() throws {
        let tailSize = Int(min(fileSize, 65_535 + 22))
        let tail = try read(at: fileSize - Int64(tailSize), count: tailSize)
        guard tail.count >= 22, let eocd = stride(from: tail.count - 22, through: 0, by: -1).first(where: { tail.u32($0) == 0x0605_4b50 }) else {
            throw ExportError.invalid("not a ZIP archive (no end of central directory)")
        }
        var count = Int64(tail.u16(eocd + 10))
        var cdSize = Int64(tail.u32(eocd + 12))
        var cdOffset = Int64(tail.u32(eocd + 16))
        let eocdAt = fileSize - Int64(tailSize) + Int64(eocd)
        if count == 0xFFFF || cdSize == 0xFFFF_FFFF || cdOffset == 0xFFFF_FFFF, eocdAt >= 20 {
            let locator = try read(at: eocdAt - 20, count: 20)
            guard locator.u32(0) == 0x0706_4b50 else { throw ExportError.invalid("ZIP64 locator missing") }
            let recordAt = Int64(bitPattern: locator.u64(8))
            let record = try read(at: recordAt, count: 56)
            guard record.u32(0) == 0x0606_4b50 else { throw ExportError.invalid("ZIP64 end record missing") }
            count = Int64(bitPattern: record.u64(32))
            cdSize = Int64(bitPattern: record.u64(40))
            cdOffset = Int64(bitPattern: record.u64(48))
        }
        guard count >= 0, count <= Self.maxEntries, cdSize >= 0, cdSize <= Self.maxCentralDirectory, cdOffset >= 0, cdOffset + cdSize <= fileSize else {
            throw ExportError.invalid("central directory out of range")
        }
        let cd = try read(at: cdOffset, count: Int(cdSize))
        var at = 0
        for _ in 0..<count {
            guard at + 46 <= cd.count, cd.u32(at) == 0x0201_4b50 else { throw ExportError.invalid("central directory entry malformed") }
            let method = cd.u16(at + 10)
            let crc = cd.u32(at + 16)
            var size = Int64(cd.u32(at + 24))
            let nameLength = Int(cd.u16(at + 28)), extraLength = Int(cd.u16(at + 30)), commentLength = Int(cd.u16(at + 32))
            var local = Int64(cd.u32(at + 42))
            guard at + 46 + nameLength + extraLength + commentLength <= cd.count else { throw ExportError.invalid("central directory entry past its end") }
            guard let name = String(validating: cd[(at + 46)..<(at + 46 + nameLength)], as: UTF8.self) else { throw ExportError.invalid("entry name is not UTF-8") }
            var e = at + 46 + nameLength
            let extraEnd = e + extraLength
            while e + 4 <= extraEnd {
                let id = cd.u16(e), n = Int(cd.u16(e + 2))
                guard e + 4 + n <= extraEnd else { break }
                if id == 0x0001 {
                    var f = e + 4
                    if size == 0xFFFF_FFFF, f + 8 <= e + 4 + n { size = Int64(bitPattern: cd.u64(f)); f += 8 }
                    if cd.u32(at + 20) == 0xFFFF_FFFF, f + 8 <= e + 4 + n { f += 8 }
                    if local == 0xFFFF_FFFF, f + 8 <= e + 4 + n { local = Int64(bitPattern: cd.u64(f)) }
                }
                e += 4 + n
            }
            guard size >= 0, local >= 0, local < fileSize else { throw ExportError.invalid("entry \(name) out of range") }
            guard byName[name] == nil else { throw ExportError.invalid("entry \(name) appears twice") }
            byName[name] = entries.count
            entries.append(Entry(name: name, size: size, crc: crc, method: method, localOffset: local))
            at += 46 + nameLength + extraLength + commentLength
        }
    }

    /// Where an entry's bytes start (after its local header).
    func dataOffset(_ entry: Entry) throws -> Int64 {
        let local = try read(at: entry.localOffset, count: 30)
        guard local.u32(0) == 0x0403_4b50 else { throw ExportError.invalid("entry \(entry.name): no local header") }
        let start = entry.localOffset + 30 + Int64(local.u16(26)) + Int64(local.u16(28))
        guard entry.method == 0, start + entry.size <= fileSize else { throw ExportError.invalid("entry \(entry.name): not stored, or past the end") }
        return start
    }

    /// An entry's bytes (entries of a bundle are at most a frame record's size, or a view).
    func contents(_ name: String, limit: Int64 = 1 << 31) throws -> [UInt8]? {
        guard let i = byName[name] else { return nil }
        let entry = entries[i]
        guard entry.size <= limit else { throw ExportError.invalid("entry \(name) is larger than \(limit) bytes") }
        return try read(at: try dataOffset(entry), count: Int(entry.size))
    }

    /// Streams an entry's bytes in chunks.
    func stream(_ entry: Entry, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        var offset = try dataOffset(entry)
        var left = entry.size
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { chunk.deallocate() }
        while left > 0 {
            let n = pread(fd, chunk.baseAddress, Int(min(Int64(chunk.count), left)), off_t(offset))
            guard n > 0 else { throw ExportError.io("archive read failed") }
            try body(UnsafeRawBufferPointer(rebasing: chunk[0..<n]))
            offset += Int64(n)
            left -= Int64(n)
        }
    }
}

extension [UInt8] {
    func u16(_ at: Int) -> UInt16 { UInt16(self[at]) | UInt16(self[at + 1]) << 8 }
    func u32(_ at: Int) -> UInt32 { UInt32(u16(at)) | UInt32(u16(at + 2)) << 16 }
    func u64(_ at: Int) -> UInt64 { UInt64(u32(at)) | UInt64(u32(at + 4)) << 32 }
}
