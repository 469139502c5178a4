import HerdProtocol

/// A session as the index knows it: enough to list, summarise and resume it without reading segments.
public struct SessionRow: Sendable, Hashable, Codable {
    public var id: String
    public var stream: String
    public var startedAtMicros: Int64
    public var endedAtMicros: Int64?
    public var endReason: String?
    public var consignment: Consignment?
    public var frames: Int
    public var late: Int
    public var refused: Int
    public var alerts: Int
    public var bytes: Int64
    /// Records in the chain up to the recovery point, and the hash of the last (hex).
    public var records: UInt64
    public var head: String
    public var minSeq: UInt64?
    public var maxSeq: UInt64?
    public var firstCapturedMicros: Int64?
    public var lastCapturedMicros: Int64?
    public var hold: Bool
    public var addenda: Int
    /// The last signed manifest (JSON), if any.
    public var manifest: String?
    /// Segment being written and its committed length: where recovery starts reading.
    public var segment: Int
    public var segmentOffset: Int64

    public var isOpen: Bool { endedAtMicros == nil }
}

/// Where a frame lives and what it was.
public struct FrameRow: Sendable, Hashable {
    public var stream: String
    public var seq: UInt64
    public var session: String
    public var capturedAtMicros: Int64
    public var receivedAtMicros: Int64
    public var segment: Int
    public var offset: Int64
    public var length: Int
    /// SHA-256 of the image bytes.
    public var digest: [UInt8]
    public var late: Bool
    /// Alerts raised on this frame (for the replay timeline's marks).
    public var alerts: Int = 0
}

/// A filter for listing sessions, newest first.
public struct SessionQuery: Sendable, Hashable {
    public var streams: Set<String>?
    public var fromMicros: Int64?
    public var toMicros: Int64?
    public var consignment: String?
    public var plate: String?
    public var limit: Int = 50
    /// Sessions that started before this (the `startedAt` of the last one on the previous page).
    public var beforeMicros: Int64?
    public var beforeID: String?

    public init() {}
}

/// The narrow interface recordings are found by: SQLite today, PostgreSQL for several nodes later.
/// Every call may block on I/O; callers keep it off the cooperative pool.
public protocol RecordingIndex: Sendable {
    func insertSession(_ row: SessionRow) throws(RecordingError)
    /// One group commit: the new frames and every touched session's progress, atomically.
    func commit(frames: [FrameRow], sessions: [SessionRow]) throws(RecordingError)
    func frame(stream: String, seq: UInt64) throws(RecordingError) -> FrameRow?
    func frames(session: String) throws(RecordingError) -> [FrameRow]
    func session(_ id: String) throws(RecordingError) -> SessionRow?
    func sessions(_ query: SessionQuery) throws(RecordingError) -> [SessionRow]
    func openSessions() throws(RecordingError) -> [SessionRow]
    /// Every session, for start-up recovery (which stats each one's last segment).
    func allSessions() throws(RecordingError) -> [SessionRow]
    /// The closed session of `stream` whose time range holds `capturedMicros`, if one ended after `endedAfter`.
    func closedSession(stream: String, covering capturedMicros: Int64, endedAfter: Int64) throws(RecordingError) -> SessionRow?
    func maxSeq(stream: String) throws(RecordingError) -> UInt64?
    /// Seq gaps in a session: ranges `[from, to]` never received between its first and last seq.
    func gaps(session: String, limit: Int) throws(RecordingError) -> [ClosedRange<UInt64>]
    func setHold(_ id: String, _ hold: Bool) throws(RecordingError)
    func deleteSession(_ id: String) throws(RecordingError)
    /// Closed sessions that are not held, oldest end first.
    func purgeCandidates(limit: Int) throws(RecordingError) -> [SessionRow]
    func totalBytes() throws(RecordingError) -> Int64
    /// Whether the index can be written (for `/readyz`).
    func check() throws(RecordingError)
}
