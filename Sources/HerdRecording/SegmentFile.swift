import Foundation

/// Names and headers of segment files: `<recordings>/<stream>/<session>/segment-000001.hlr`, each
/// starting with the 16-byte header `HERDSEG\u{1}`, u32 format version (1), u32 segment number.
public enum SegmentFile {
    public static let magic: [UInt8] = Array("HERDSEG".utf8) + [1]
    public static let headerSize = 16

    public static func name(_ number: Int) -> String { String(format: "segment-%06d.hlr", number) }

    public static func header(number: Int) -> [UInt8] {
        var bytes = magic
        bytes.appendLE(UInt32(1))
        bytes.appendLE(UInt32(number))
        return bytes
    }

    /// Segment numbers present in a session directory, ascending.
    public static func numbers(in directory: String) -> [Int] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { name -> Int? in
            guard name.hasPrefix("segment-"), name.hasSuffix(".hlr") else { return nil }
            return Int(name.dropFirst(8).dropLast(4))
        }.sorted()
    }

    /// fsync of a directory, so a created or renamed file's entry is durable.
    static func syncDirectory(_ path: String) throws(RecordingError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { throw .storage("cannot open directory \(path): errno \(errno)") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw errnoError("fsync of \(path)") }
    }

    static func errnoError(_ what: String, _ code: Int32 = errno) -> RecordingError {
        if code == ENOSPC || code == EDQUOT { return .storageFull("\(what): no space left on the device") }
        return .storage("\(what): \(String(cString: strerror(code)))")
    }

    /// Cuts what a walk stopped at off a directory's segment files: a torn or damaged record (and what
    /// follows it in that file), or a segment created but never given its header (removed). Only ever
    /// called for what lies past the last committed record, which was never acknowledged. Returns the
    /// bytes removed.
    static func cut(_ stop: SegmentWalker.Stop, in directory: String) -> Int64 {
        switch stop {
        case .truncated(let segment, let offset), .corrupt(let segment, let offset, _):
            let path = directory + "/" + name(segment)
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? offset
            let fd = open(path, O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { return 0 }
            defer { close(fd) }
            _ = ftruncate(fd, off_t(offset))
            _ = fsync(fd)
            return size - offset
        case .badHeader(let segment, _):
            // A segment created but never written (crash between create and header): remove it.
            let path = directory + "/" + name(segment)
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? 0
            if size < Int64(headerSize) { unlink(path) }
            return size
        }
    }
}
