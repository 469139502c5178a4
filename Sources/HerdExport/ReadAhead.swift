import Foundation

/// Runs a producer on its own thread ahead of a consumer on the calling one, through a queue bounded
/// in bytes: an export reads the next records from disk while the current ones are hashed and
/// written, instead of leaving the disk idle during the hashing. Either side's error stops both; the
/// producer thread has ended when `run` returns.
enum ReadAhead {
    static func run<Item: Sendable>(
        limitBytes: Int,
        produce: @escaping @Sendable (_ emit: (Item, _ bytes: Int) throws -> Void) throws -> Void,
        consume: (Item) throws -> Void
    ) throws {
        let queue = Queue<Item>(limitBytes: limitBytes)
        let thread = Thread {
            do {
                try produce { item, bytes in try queue.push(item, bytes: bytes) }
                queue.close(nil)
            } catch {
                queue.close(error)
            }
        }
        thread.name = "herd-export-read"
        thread.start()
        do {
            while let item = try queue.pop() { try consume(item) }
            queue.waitForProducer()
        } catch {
            queue.abandon()
            queue.waitForProducer()
            throw error
        }
    }

    private final class Queue<Item: Sendable>: @unchecked Sendable {
        private let condition = NSCondition()
        private var items: [(Item, Int)] = []
        private var head = 0
        private var queuedBytes = 0
        private let limitBytes: Int
        private var closed = false
        private var producerDone = false
        private var failure: (any Error)?
        private var abandoned = false

        init(limitBytes: Int) { self.limitBytes = limitBytes }

        /// Blocks while the queue is full (one item always fits, however large).
        func push(_ item: Item, bytes: Int) throws {
            condition.lock()
            defer { condition.unlock() }
            while queuedBytes > 0 && queuedBytes + bytes > limitBytes && !abandoned { condition.wait() }
            if abandoned { throw ExportError.cancelled("the export stopped") }
            items.append((item, bytes))
            queuedBytes += bytes
            condition.broadcast()
        }

        func close(_ error: (any Error)?) {
            condition.lock()
            closed = true
            producerDone = true
            failure = error
            condition.broadcast()
            condition.unlock()
        }

        /// The next item; nil once the producer has finished and everything was taken.
        func pop() throws -> Item? {
            condition.lock()
            defer { condition.unlock() }
            while head == items.count && !closed { condition.wait() }
            if head == items.count {
                if let failure { throw failure }
                return nil
            }
            let (item, bytes) = items[head]
            head += 1
            if head > 64 && head * 2 > items.count {
                items.removeFirst(head)
                head = 0
            }
            queuedBytes -= bytes
            condition.broadcast()
            return item
        }

        func abandon() {
            condition.lock()
            abandoned = true
            items.removeAll()
            head = 0
            queuedBytes = 0
            condition.broadcast()
            condition.unlock()
        }

        func waitForProducer() {
            condition.lock()
            while !producerDone { condition.wait() }
            condition.unlock()
        }
    }
}
