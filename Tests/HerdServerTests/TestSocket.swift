import Foundation
import HerdProtocol
import HummingbirdTesting
import HummingbirdWSTesting
import NIOCore
import Synchronization
import WSClient

/// A WebSocket client for tests that talk to several sockets at once: it keeps every text message and
/// every frame header received, sends on request, and `waitFor` returns once a received message
/// matches, or throws after its deadline.
final class TestSocket: Sendable {
    struct TimedOut: Error, CustomStringConvertible {
        var what: String
        var description: String { "timed out waiting for \(what)" }
    }

    private struct State {
        var texts: [String] = []
        var frames: [LiveFrameHeader] = []
        var closed = false
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter = 0
        /// Bumped by every change: a wait registered after a change it did not see returns at once.
        var generation = 0
    }

    private final class Box: Sendable {
        let state = Mutex(State())
    }

    private let box = Box()
    private let outgoing: AsyncStream<WebSocketOutboundWriter.OutboundFrame>.Continuation
    private let task: Task<Void, any Error>

    /// Opens `path` with `token` on the test server; the socket runs until `close()`.
    init(_ client: some TestClientProtocol & Sendable, _ path: String, token: String) {
        let (stream, continuation) = AsyncStream.makeStream(of: WebSocketOutboundWriter.OutboundFrame.self)
        outgoing = continuation
        let box = self.box
        task = Task {
            defer { Self.changed(box) { $0.closed = true } }
            _ = try await client.ws(path, configuration: LiveStreamingTests.wsConfiguration(token: token)) { inbound, outbound, _ in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for try await message in inbound.messages(maxSize: 16 << 20) {
                            switch message {
                            case .text(let text): Self.changed(box) { $0.texts.append(text) }
                            case .binary(let buffer):
                                let (json, _) = try Envelope.split(Array(buffer.readableBytesView))
                                let header = try WireJSON.decode(LiveFrameHeader.self, from: json)
                                Self.changed(box) { $0.frames.append(header) }
                            }
                        }
                    }
                    group.addTask {
                        for await frame in stream { try await outbound.write(frame) }
                        try await outbound.close(.normalClosure, reason: nil)
                    }
                    try await group.next()
                    group.cancelAll()
                }
            }
        }
    }

    private static func changed(_ box: Box, _ body: (inout State) -> Void) {
        let waiters = box.state.withLock { s -> [CheckedContinuation<Void, Never>] in
            body(&s)
            s.generation += 1
            defer { s.waiters = [:] }
            return Array(s.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    func send(_ text: String) { outgoing.yield(.text(text)) }
    func send(_ binary: ByteBuffer) { outgoing.yield(.binary(binary)) }

    /// Closes the socket and waits for it to end.
    func close() async {
        outgoing.finish()
        _ = try? await task.value
    }

    var texts: [String] { box.state.withLock { $0.texts } }
    var frames: [LiveFrameHeader] { box.state.withLock { $0.frames } }
    var isClosed: Bool { box.state.withLock { $0.closed } }

    /// Text messages received as JSON objects.
    var objects: [[String: Any]] {
        texts.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    /// Waits until `find` finds something in what was received (or the socket closes, or `timeout`).
    func waitFor<T>(_ what: String, timeout: Duration = .seconds(30), _ find: (TestSocket) -> T?) async throws -> T {
        let deadline = ContinuousClock.now + timeout
        while true {
            let seen = box.state.withLock { $0.generation }
            if let found = find(self) { return found }
            if isClosed { throw TimedOut(what: "\(what) (the socket closed)") }
            let now = ContinuousClock.now
            guard now < deadline else { throw TimedOut(what: what) }
            let id = box.state.withLock { s -> Int in
                s.nextWaiter += 1
                return s.nextWaiter
            }
            // Wakes on the next message, or at the deadline.
            let timer = Task { [box] in
                try await Task.sleep(for: deadline - now)
                box.state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
            }
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let ready = box.state.withLock { s -> Bool in
                    if s.generation != seen || s.closed { return true }
                    s.waiters[id] = c
                    return false
                }
                if ready { c.resume() }
            }
            timer.cancel()
        }
    }

    /// The first text message whose JSON `key` is `value` and that passes `extra`.
    func message(_ key: String, _ value: String, where extra: ([String: Any]) -> Bool = { _ in true }) -> [String: Any]? {
        objects.first { ($0[key] as? String) == value && extra($0) }
    }
}
