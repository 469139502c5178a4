/// What the recorder reports as it works, for metrics (the server maps these to Prometheus).
public struct RecorderEvents: Sendable {
    /// Frames and bytes made durable by one group commit, and how long its fsyncs took.
    public var committed: @Sendable (_ frames: Int, _ bytes: Int64, _ fsync: Duration) -> Void = { _, _, _ in }
    public var refused: @Sendable (_ reason: String) -> Void = { _ in }
    public var sessionsOpen: @Sendable (_ count: Int) -> Void = { _ in }
    public var purged: @Sendable (_ session: String, _ bytes: Int64) -> Void = { _, _ in }

    public init() {}
}
