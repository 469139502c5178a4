import Foundation
import HerdRecording

/// Where an export's bytes go, in order: a file (`herdlens export`) or an HTTP response (`ChunkPipe`).
/// Called on the exporter's thread; may block.
public protocol ExportSink: AnyObject {
    func write(_ bytes: UnsafeRawBufferPointer) throws
}

/// An export to a file descriptor, written as it comes.
public final class FileSink: ExportSink {
    private let fd: Int32
    public private(set) var written: Int64 = 0

    /// Creates (or truncates) `path`.
    public init(path: String) throws {
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw ExportError.io("cannot create \(path): \(String(cString: strerror(errno)))") }
    }

    deinit { close(fd) }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let n = Foundation.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw ExportError.io("write failed: \(String(cString: strerror(errno)))")
            }
            done += n
        }
        written += Int64(bytes.count)
    }

    /// Flushes to disk.
    public func sync() throws {
        guard fsync(fd) == 0 else { throw ExportError.io("fsync failed: \(String(cString: strerror(errno)))") }
    }
}

/// An export failure: `notFound`, `io`, `cancelled` (the client went away), `invalid` (a bundle or
/// recording that cannot be read).
public struct ExportError: Error, CustomStringConvertible, Equatable {
    public let code: String
    public let message: String
    public var description: String { "\(code): \(message)" }

    public static func notFound(_ m: String) -> Self { .init(code: "notFound", message: m) }
    public static func io(_ m: String) -> Self { .init(code: "io", message: m) }
    public static func cancelled(_ m: String = "the export was cancelled") -> Self { .init(code: "cancelled", message: m) }
    public static func invalid(_ m: String) -> Self { .init(code: "invalid", message: m) }
}

/// A temporary file that holds what an export must write later as one entry (a JSON-lines view, the
/// central directory), so memory stays flat whatever the session's size. Unlinked at once: nothing is
/// left behind if the process dies.
final class SpillFile {
    private let fd: Int32
    private var buffer: [UInt8] = []
    private(set) var size: Int64 = 0

    init(directory: String) throws {
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var template = Array((directory + "/export-XXXXXX").utf8CString)
        fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw ExportError.io("cannot create a temporary file in \(directory)") }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        buffer.reserveCapacity(1 << 20)
    }

    deinit { close(fd) }

    func append(_ bytes: some Collection<UInt8>) throws {
        buffer.append(contentsOf: bytes)
        size += Int64(bytes.count)
        if buffer.count >= 1 << 20 { try flush() }
    }

    func append(line: [UInt8]) throws {
        try append(line)
        try append(CollectionOfOne(UInt8(ascii: "\n")))
    }

    private func flush() throws {
        var done = 0
        while done < buffer.count {
            let n = buffer.withUnsafeBytes { Foundation.write(fd, $0.baseAddress! + done, buffer.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ExportError.io("temporary file write failed")
            }
            done += n
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Calls `body` with the contents in chunks, from the start.
    func read(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        try flush()
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { chunk.deallocate() }
        var offset: off_t = 0
        while Int64(offset) < size {
            let n = pread(fd, chunk.baseAddress, chunk.count, offset)
            guard n > 0 else { throw ExportError.io("temporary file read failed") }
            try body(UnsafeRawBufferPointer(rebasing: chunk[0..<n]))
            offset += off_t(n)
        }
    }
}
