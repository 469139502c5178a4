/// The replay player as a plain value: commands and clock ticks go in, actions come out (send frame i,
/// wait until, nothing to do). The socket code does the I/O; tests drive it with an injected clock.
///
/// Frames are paced by capture time divided by the speed, measured from the last frame sent (its due
/// time, not when it went out, so lateness is seen). When several frames are due at once (a compose that
/// took longer than the interval, a viewer reading slowly) the newest due frame is sent and the others
/// skipped, as live. A pause in capture longer than `maxWait` of wall time is shortened to it.
public struct ReplayStateMachine<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    public enum State: String, Sendable { case playing, paused, ended }

    public enum Action: Sendable, Equatable {
        /// Send the frame at this index; `skipped` frames before it were passed over to keep pace.
        case send(index: Int, skipped: Int)
        /// Nothing due before this instant.
        case wait(until: Instant)
        /// Not playing: wait for a command.
        case idle
    }

    /// Capture times (microseconds) of the session's frames, in capture order.
    public let captured: [Int64]
    public private(set) var state: State = .paused
    public private(set) var speed: Double = 1
    /// The frame last sent (or shown by a seek or step); -1 before any.
    public private(set) var position = -1
    public let maxWait: Duration
    private var anchor: Instant?

    public init(captured: [Int64], maxWait: Duration = .seconds(2)) {
        self.captured = captured
        self.maxWait = maxWait
        if captured.isEmpty { state = .ended }
    }

    public var count: Int { captured.count }

    /// Starts (or changes the speed of) playback; at the end, plays again from the start.
    public mutating func play(speed: Double, now: Instant) {
        guard !captured.isEmpty else { return }
        self.speed = speed
        if position >= captured.count - 1 { position = -1 }
        state = .playing
        anchor = now
    }

    public mutating func pause() {
        if state == .playing { state = .paused }
        anchor = nil
    }

    /// Shows exactly the frame at `index` (clamped), pausing playback's pacing there: a playing replay goes
    /// on from it.
    public mutating func show(_ index: Int, now: Instant) -> Action {
        guard !captured.isEmpty else { return .idle }
        position = min(max(index, 0), captured.count - 1)
        if state == .ended { state = .paused }
        if state == .playing { anchor = now }
        return .send(index: position, skipped: 0)
    }

    /// Moves by `frames` (either way) from the current position and shows that frame; playback pauses.
    public mutating func step(_ frames: Int, now: Instant) -> Action {
        if state == .playing { pause() }
        if state == .ended { state = .paused }
        let from = max(position, 0)
        let (target, overflow) = from.addingReportingOverflow(frames)
        return show(overflow ? (frames > 0 ? captured.count - 1 : 0) : target, now: now)
    }

    /// What the player should do now while playing.
    public mutating func next(now: Instant) -> Action {
        guard state == .playing, let anchor else { return .idle }
        let first = position + 1
        guard first < captured.count else {
            state = .ended
            self.anchor = nil
            return .idle
        }
        var due = anchor
        var last = position
        var i = first
        while i < captured.count {
            let at = due.advanced(by: interval(to: i))
            if at > now { break }
            due = at
            last = i
            i += 1
        }
        if last < first { return .wait(until: anchor.advanced(by: interval(to: first))) }
        position = last
        self.anchor = due
        return .send(index: last, skipped: last - first)
    }

    /// Wall time between frame `i - 1` and frame `i` at the current speed (none before the first).
    private func interval(to i: Int) -> Duration {
        guard i > 0 else { return .zero }
        let micros = Double(max(0, captured[i] - captured[i - 1])) / speed
        return min(.microseconds(micros), maxWait)
    }
}
