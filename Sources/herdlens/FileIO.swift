import Foundation

/// Plain POSIX file reads and writes for the batch hot path: one copy from the page cache into the
/// array, no `Data` round trip, and no fsync (outputs are derived views; durability is the
/// recorder's job).
enum FileIO {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// A file (or pipe) over the caller's size limit; nothing past the limit was read.
    struct TooLarge: Error, CustomStringConvertible {
        var limit: Int
        var description: String { "larger than the \(limit)-byte limit" }
    }

    /// The whole file, or everything a pipe (`<(...)`, `/dev/stdin`) delivers, up to `limit` bytes.
    static func readAll(_ path: String, limit: Int) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(description: String(cString: strerror(errno))) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw Failure(description: String(cString: strerror(errno))) }
        guard (info.st_mode & S_IFMT) != S_IFDIR else { throw Failure(description: "is a directory") }
        let regular = (info.st_mode & S_IFMT) == S_IFREG
        if regular && Int(info.st_size) > limit { throw TooLarge(limit: limit) }
        var bytes = [UInt8](repeating: 0, count: regular ? Int(info.st_size) : 64 * 1024)
        var done = 0
        while true {
            if done == bytes.count {
                if regular { break }
                guard bytes.count < limit + 1 else { throw TooLarge(limit: limit) }
                bytes.append(contentsOf: repeatElement(0, count: min(bytes.count, limit + 1 - bytes.count)))
            }
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw Failure(description: String(cString: strerror(errno))) }
            if n == 0 { break }
            done += n
        }
        if done > limit { throw TooLarge(limit: limit) }
        bytes.removeLast(bytes.count - done)
        return bytes
    }

    /// Writes beside the target and renames over it, so a reader never sees half a file.
    static func writeReplacing(_ path: String, _ bytes: [UInt8]) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        let temporary = (directory.isEmpty ? "." : directory) + "/.\(name).\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Failure(description: String(cString: strerror(errno))) }
        var written = 0
        let result: Int32 = bytes.withUnsafeBytes { buffer in
            while written < buffer.count {
                let n = write(fd, buffer.baseAddress! + written, buffer.count - written)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return errno == 0 ? EIO : errno }
                written += n
            }
            return 0
        }
        let closed = close(fd)
        if result != 0 || closed != 0 {
            let reason = String(cString: strerror(result != 0 ? result : errno))
            unlink(temporary)
            throw Failure(description: reason)
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw Failure(description: reason)
        }
    }
}
