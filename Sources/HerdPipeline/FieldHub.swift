import HerdProtocol
import Synchronization

/// Server messages to field devices (inspector marks for an AR display): each ingest socket attaches
/// its outbox to the streams it publishes to, and whatever is sent to a stream goes to every socket
/// attached to it. Sending never waits on a device. Thread-safe.
public final class FieldHub: Sendable {
    private struct Attached {
        var outbox: DeviceOutbox
        var streams: Set<StreamID>
    }

    private let sockets = Mutex<[ObjectIdentifier: Attached]>([:])

    public init() {}

    /// True when `stream` is new for this outbox (the caller then sends it the stream's live marks).
    @discardableResult
    public func attach(_ outbox: DeviceOutbox, to stream: StreamID) -> Bool {
        sockets.withLock { sockets in
            let key = ObjectIdentifier(outbox)
            var entry = sockets[key] ?? Attached(outbox: outbox, streams: [])
            let inserted = entry.streams.insert(stream).inserted
            sockets[key] = entry
            return inserted
        }
    }

    public func detach(_ outbox: DeviceOutbox) {
        _ = sockets.withLock { $0.removeValue(forKey: ObjectIdentifier(outbox)) }
    }

    /// Sends `text` to every device socket attached to `stream`; returns how many it reached.
    @discardableResult
    public func send(_ text: String, to stream: StreamID) -> Int {
        let targets = sockets.withLock { $0.values.filter { $0.streams.contains(stream) }.map(\.outbox) }
        for outbox in targets { outbox.send(text) }
        return targets.count
    }

    /// The streams an outbox is attached to.
    public func streams(of outbox: DeviceOutbox) -> Set<StreamID> {
        sockets.withLock { $0[ObjectIdentifier(outbox)]?.streams ?? [] }
    }
}
