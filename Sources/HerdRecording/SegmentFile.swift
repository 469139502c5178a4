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

    /// Maps a whole file for reading (segments are read back by recovery, verify and replay).
    static func map(_ path: String) throws(RecordingError) -> Data {
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw .storage("cannot read \(path): \(error)")
        }
    }
}
