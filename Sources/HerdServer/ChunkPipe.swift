import Foundation
import HerdExport
import NIOCore

/// Carries an export from the thread that writes it to the HTTP response that streams it: at most
/// `capacity` chunks wait, so a slow client slows the export rather than filling memory; a client that
/// goes away cancels it.
final class ChunkPipe: ExportSink, @unchecked Sendable {
    private let condition = NSCondition()
    private var chunks: [ByteBuffer] = []
    private var finished = false
    private var failure: (any Error)?
    private var cancelledFlag = false
    private let capacity: Int

    init(capacity: Int = 4) {
        self.capacity = capacity
    }

    /// Producer side (blocks while full).
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        condition.lock()
        defer { condition.unlock() }
        while chunks.count >= capacity && !cancelledFlag { condition.wait() }
        if cancelledFlag { throw ExportError.cancelled("the client went away") }
        chunks.append(ByteBuffer(bytes: bytes))
        condition.broadcast()
    }

    func finish(_ error: (any Error)? = nil) {
        condition.lock()
        finished = true
        failure = error
        condition.broadcast()
        condition.unlock()
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

    /// Consumer side (blocks while empty): the next chunk, nil at the end; throws the export's failure.
    func take() throws -> ByteBuffer? {
        condition.lock()
        defer { condition.unlock() }
        while chunks.isEmpty && !finished { condition.wait() }
        if !chunks.isEmpty {
            let chunk = chunks.removeFirst()
            condition.broadcast()
            return chunk
        }
        if let failure { throw failure }
        return nil
    }
}
