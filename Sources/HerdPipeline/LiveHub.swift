import HerdProtocol
import Synchronization

/// Fans frames and events out to the viewers watching each stream. Publishing never waits on a viewer:
/// it offers to each mailbox (newest frame wins) and returns. Thread-safe.
public final class LiveHub: Sendable {
    private struct Subscriber {
        var mailbox: ViewerMailbox
        var streams: Set<StreamID>
    }

    private struct State {
        var subscribers: [ObjectIdentifier: Subscriber] = [:]
        /// Device connections publishing to each stream, and until when an HTTP upload keeps it online.
        var connections: [StreamID: Int] = [:]
        var leases: [StreamID: ContinuousClock.Instant] = [:]
        var online: Set<StreamID> { Set(connections.keys).union(leases.keys) }
        var framesOut = 0
        var framesDropped = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// Adds a viewer for `streams`; it first hears which of them are online.
    public func subscribe(_ mailbox: ViewerMailbox, to streams: Set<StreamID>) {
        let online = state.withLock { state -> Set<StreamID> in
            state.subscribers[ObjectIdentifier(mailbox)] = Subscriber(mailbox: mailbox, streams: streams)
            return state.online.intersection(streams)
        }
        for stream in online.sorted() {
            mailbox.offer(event: WireJSON.encodeString(LiveEvent(event: "stream.online", stream: stream, at: .now())))
        }
    }

    public func unsubscribe(_ mailbox: ViewerMailbox) {
        _ = state.withLock { $0.subscribers.removeValue(forKey: ObjectIdentifier(mailbox)) }
    }

    public func publish(_ frame: LiveFrame) {
        let targets = state.withLock { state in
            state.subscribers.values.filter { $0.streams.contains(frame.stream) }.map(\.mailbox)
        }
        var dropped = 0
        for mailbox in targets where !mailbox.offer(frame) { dropped += 1 }
        state.withLock {
            $0.framesOut += targets.count - dropped
            $0.framesDropped += dropped
        }
    }

    public func publish(event: LiveEvent) {
        let text = WireJSON.encodeString(event)
        let targets = state.withLock { state in
            state.subscribers.values.filter { $0.streams.contains(event.stream) }.map(\.mailbox)
        }
        for mailbox in targets where !mailbox.offer(event: text) {
            mailbox.close()  // fell too far behind on events: it will be disconnected
        }
    }

    /// A device connection started publishing to `stream`: online while at least one such connection
    /// (or an HTTP lease) lasts. Pair with `disconnect`.
    public func connect(_ stream: StreamID) {
        let changed = state.withLock { state in
            let was = state.online.contains(stream)
            state.connections[stream, default: 0] += 1
            return !was
        }
        if changed { announce(stream, online: true) }
    }

    public func disconnect(_ stream: StreamID) {
        let changed = state.withLock { state in
            guard let n = state.connections[stream] else { return false }
            state.connections[stream] = n > 1 ? n - 1 : nil
            return !state.online.contains(stream)
        }
        if changed { announce(stream, online: false) }
    }

    /// An HTTP upload: the stream stays online for `lease` after it (`expireLeases` ends it).
    public func touch(_ stream: StreamID, lease: Duration) {
        let changed = state.withLock { state in
            let was = state.online.contains(stream)
            state.leases[stream] = .now + lease
            return !was
        }
        if changed { announce(stream, online: true) }
    }

    /// Ends HTTP leases that ran out; called periodically.
    public func expireLeases(now: ContinuousClock.Instant = .now) {
        let gone = state.withLock { state -> [StreamID] in
            let expired = state.leases.filter { $0.value <= now }.map(\.key)
            for s in expired { state.leases[s] = nil }
            return expired.filter { !state.online.contains($0) }
        }
        for stream in gone { announce(stream, online: false) }
    }

    private func announce(_ stream: StreamID, online: Bool) {
        publish(event: LiveEvent(event: online ? "stream.online" : "stream.offline", stream: stream, at: .now()))
    }

    /// Closes every viewer's mailbox (server shutdown); their sessions then close their sockets.
    public func closeAll() {
        let all = state.withLock { Array($0.subscribers.values.map(\.mailbox)) }
        for mailbox in all { mailbox.close() }
    }

    public var viewerCount: Int { state.withLock { $0.subscribers.count } }
    public var onlineStreams: Set<StreamID> { state.withLock { $0.online } }
    /// Frames handed to viewers, and frames replaced unsent in a slow viewer's slot.
    public var counters: (framesOut: Int, framesDropped: Int) { state.withLock { ($0.framesOut, $0.framesDropped) } }
}
