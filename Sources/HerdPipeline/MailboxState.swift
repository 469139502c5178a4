import HerdProtocol

/// What one viewer has not been sent yet, as a plain value: per stream a single slot holding only the
/// newest frame (a newer frame replaces an unsent older one), and a bounded FIFO of events that are
/// always sent before pixels and never dropped. Operations return what the owner must do.
public struct MailboxState<Frame, Waiter> {
    /// An item to send.
    public enum Item {
        case event(String)
        case frame(Frame)
    }

    public enum OfferResult {
        /// Stored; wake this waiter if there is one.
        case stored(wake: Waiter?)
        /// Stored in place of an unsent older frame, which is dropped.
        case replaced(wake: Waiter?)
        /// The viewer has fallen too far behind on events: close it.
        case overflow(wake: Waiter?)
        /// The mailbox is closed; nothing stored.
        case closed
    }

    public enum NextAction {
        case send(Item)
        /// Nothing pending: park this waiter until an offer wakes it.
        case wait
        case finished
    }

    public let maxPendingEvents: Int
    private var events: [String] = []
    private var eventHead = 0
    private var frames: [StreamID: Frame] = [:]
    /// Streams with a pending frame, in the order their frames became pending (round-robin fairness).
    private var frameOrder: [StreamID] = []
    private var waiter: Waiter?
    private(set) public var isClosed = false
    /// Frames replaced before they were sent.
    private(set) public var droppedFrames = 0

    public init(maxPendingEvents: Int = 256) {
        self.maxPendingEvents = maxPendingEvents
    }

    public var pendingEvents: Int { events.count - eventHead }
    public var pendingFrames: Int { frameOrder.count }

    public mutating func offer(frame: Frame, of stream: StreamID) -> OfferResult {
        guard !isClosed else { return .closed }
        let replaced = frames.updateValue(frame, forKey: stream) != nil
        if replaced {
            droppedFrames += 1
        } else {
            frameOrder.append(stream)
        }
        let wake = takeWaiter()
        return replaced ? .replaced(wake: wake) : .stored(wake: wake)
    }

    public mutating func offer(event: String) -> OfferResult {
        guard !isClosed else { return .closed }
        if pendingEvents >= maxPendingEvents {
            isClosed = true
            return .overflow(wake: takeWaiter())
        }
        events.append(event)
        return .stored(wake: takeWaiter())
    }

    /// The next item (events first), `.wait` after registering `waiter`, or `.finished` once closed and drained.
    public mutating func next(parking waiter: @autoclosure () -> Waiter) -> NextAction {
        if isClosed { return .finished }
        if eventHead < events.count {
            let event = events[eventHead]
            eventHead += 1
            if eventHead > 64 && eventHead * 2 > events.count {
                events.removeFirst(eventHead)
                eventHead = 0
            }
            return .send(.event(event))
        }
        if !frameOrder.isEmpty {
            let stream = frameOrder.removeFirst()
            if let frame = frames.removeValue(forKey: stream) { return .send(.frame(frame)) }
        }
        self.waiter = waiter()
        return .wait
    }

    /// Stops the mailbox; returns a parked waiter to wake.
    public mutating func close() -> Waiter? {
        isClosed = true
        return takeWaiter()
    }

    private mutating func takeWaiter() -> Waiter? {
        defer { waiter = nil }
        return waiter
    }
}
