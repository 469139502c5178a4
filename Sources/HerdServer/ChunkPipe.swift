import Foundation
import HerdExport
import NIOCore

/// Carries an export from the thread that writes it to the HTTP response that streams it: at most
/// `capacity` chunks wait, so a slow client slows the export (its writer thread blocks) rather than
/// filling memory; a client that goes away cancels it. The response side never blocks a thread: it
/// suspends until the writer hands it the next chunk.
final class ChunkPipe: ExportSink, @unchecked Sendable {
    private let condition = NSCondition()
    private var chunks: [ByteBuffer] = []
    private var finished = false
    private var failure: (any Error)?
    private var cancelledFlag = false
    /// The response waiting for a chunk (only while `chunks` is empty).
    private var waiter: CheckedContinuation<ByteBuffer?, any Error>?
    private let capacity: Int

    init(capacity: Int = 4) {
        self.capacity = capacity
    }

    /// Writer side (blocks its own thread while full).
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        condition.lock()
        while chunks.count >= capacity && !cancelledFlag { condition.wait() }
        if cancelledFlag {
            condition.unlock()
            throw ExportError.cancelled("the client went away")
        }
        let chunk = ByteBuffer(bytes: bytes)
        if let waiter {
            self.waiter = nil
            condition.unlock()
            waiter.resume(returning: chunk)
        } else {
            chunks.append(chunk)
            condition.unlock()
        }
    }

    func finish(_ error: (any Error)? = nil) {
        condition.lock()
        finished = true
        failure = error
        let waiter = self.waiter
        self.waiter = nil
        condition.unlock()
        if let error { waiter?.resume(throwing: error) } else { waiter?.resume(returning: nil) }
    }

    func cancel() {
        condition.lock()
        cancelledFlag = true
        condition.broadcast()
        condition.unlock()
    }

    var isCancelled: Bool {
        condition.lock()
        defer { condition.unlock() }
        return cancelledFlag
    }

    /// Response side: the next chunk, nil at the end; throws the export's failure.
    func next() async throws -> ByteBuffer? {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<ByteBuffer?, any Error>) in
            condition.lock()
            if !chunks.isEmpty {
                let chunk = chunks.removeFirst()
                condition.broadcast()
                condition.unlock()
                c.resume(returning: chunk)
            } else if finished {
                let failure = self.failure
                condition.unlock()
                if let failure { c.resume(throwing: failure) } else { c.resume(returning: nil) }
            } else {
                waiter = c
                condition.unlock()
            }
        }
    }
}
