#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Why a message could not be moved over a worker's pipe.
enum WorkerIOError: Error, Equatable {
    /// The other end closed (the worker exited or crashed; or the server went away).
    case closed
    /// The deadline passed first.
    case timedOut
    /// A length out of range or a body that does not parse.
    case malformed
    /// A system call failed with this errno.
    case system(Int32)
}

/// Blocking-with-deadline message I/O over pipe descriptors. Blocking calls run on the pool's own
/// threads, never on Swift's cooperative pool or NIO's event loops.
enum WorkerIO {
    static func write(_ message: WorkerMessage, to fd: Int32, deadline: ContinuousClock.Instant?) throws(WorkerIOError) {
        let bytes = message.encoded()
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw in Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset) }
            if n > 0 {
                offset += n
                continue
            }
            let e = errno
            if n < 0 && e == EINTR { continue }
            if n < 0 && (e == EAGAIN || e == EWOULDBLOCK) {
                try wait(fd, for: Int16(POLLOUT), deadline: deadline)
                continue
            }
            throw e == EPIPE ? .closed : .system(e)
        }
    }

    static func read(from fd: Int32, deadline: ContinuousClock.Instant?) throws(WorkerIOError) -> WorkerMessage {
        let prefix = try readExactly(4, from: fd, deadline: deadline)
        guard let length = WorkerMessage.length(prefix: prefix) else { throw .malformed }
        let body = try readExactly(length, from: fd, deadline: deadline)
        guard let message = WorkerMessage.decode(body: body) else { throw .malformed }
        return message
    }

    private static func readExactly(_ count: Int, from fd: Int32, deadline: ContinuousClock.Instant?) throws(WorkerIOError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            let n = out.withUnsafeMutableBytes { raw in Glibc.read(fd, raw.baseAddress! + offset, count - offset) }
            if n > 0 {
                offset += n
                continue
            }
            if n == 0 { throw .closed }
            let e = errno
            if e == EINTR { continue }
            if e == EAGAIN || e == EWOULDBLOCK {
                try wait(fd, for: Int16(POLLIN), deadline: deadline)
                continue
            }
            throw .system(e)
        }
        return out
    }

    /// Waits until `fd` is ready for `events` or the deadline passes. A hang-up counts as ready: the next
    /// read or write reports it.
    private static func wait(_ fd: Int32, for events: Int16, deadline: ContinuousClock.Instant?) throws(WorkerIOError) {
        while true {
            var timeout: Int32 = -1
            if let deadline {
                let left = deadline - .now
                if left <= .zero { throw .timedOut }
                let ms = left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1
                timeout = Int32(min(ms, Int64(Int32.max)))
            }
            var pfd = pollfd(fd: fd, events: events, revents: 0)
            let rc = poll(&pfd, 1, timeout)
            if rc > 0 { return }
            if rc == 0 { continue } // re-check the deadline
            if errno != EINTR { throw .system(errno) }
        }
    }
}
