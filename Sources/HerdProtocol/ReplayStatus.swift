/// What the server says on a replay socket besides frames (text messages).
///
/// - `replay.session` once, first: the session's timeline (frames, seq and capture range, gaps, the
///   renderer the recording names);
/// - `replay.state` on every change of state, speed, overlay, and after each seek or step: where the
///   player is (`seq`, `capturedAt`, `index` in capture order of `frames`);
/// - `replay.gap` when playback passes over seqs never received;
/// - `error` for a refused command or a frame that could not be shown (with its `seq`).
public struct ReplayState: Sendable, Hashable, Codable {
    public var type = "replay.state"
    /// `playing`, `paused` or `ended`.
    public var state: String
    public var speed: Double
    public var overlay: Bool
    /// Position: index in capture-time order, and that frame's seq and capture time (absent before any).
    public var index: Int?
    public var seq: UInt64?
    public var capturedAt: Timestamp?
    public var frames: Int
    /// Frames skipped since the last state report to keep pace (newest wins, as live).
    public var skipped: Int
    /// For a seek: whether the frame shown is exactly the one asked for (false: the nearest before it).
    public var exact: Bool?

    public init(state: String, speed: Double, overlay: Bool, index: Int?, seq: UInt64?, capturedAt: Timestamp?, frames: Int, skipped: Int, exact: Bool? = nil) {
        self.state = state
        self.speed = speed
        self.overlay = overlay
        self.index = index
        self.seq = seq
        self.capturedAt = capturedAt
        self.frames = frames
        self.skipped = skipped
        self.exact = exact
    }
}

/// The first message on a replay socket: what the session holds, for the player's timeline.
public struct ReplaySessionInfo: Sendable, Hashable, Codable {
    public struct Mark: Sendable, Hashable, Codable {
        public var seq: UInt64
        public var capturedAt: Timestamp
        public init(seq: UInt64, capturedAt: Timestamp) {
            self.seq = seq
            self.capturedAt = capturedAt
        }
    }

    public var type = "replay.session"
    public var session: String
    public var stream: StreamID
    public var frames: Int
    public var firstSeq: UInt64?
    public var lastSeq: UInt64?
    public var firstCapturedAt: Timestamp?
    public var lastCapturedAt: Timestamp?
    public var open: Bool
    public var consignment: Consignment?
    /// The renderer the recording names, and the one composing now (they differ after an upgrade).
    public var renderer: String?
    public var composer: String
    /// Seq ranges `[from, to]` never received (at most 1,000).
    public var gaps: [[UInt64]]
    /// Frames that arrived late (store-and-forward), and frames that carried alerts (at most 5,000 each).
    public var late: [Mark]
    public var alerts: [Mark]

    public init(
        session: String, stream: StreamID, frames: Int, firstSeq: UInt64?, lastSeq: UInt64?, firstCapturedAt: Timestamp?,
        lastCapturedAt: Timestamp?, open: Bool, consignment: Consignment?, renderer: String?, composer: String, gaps: [[UInt64]],
        late: [Mark], alerts: [Mark]
    ) {
        self.session = session
        self.stream = stream
        self.frames = frames
        self.firstSeq = firstSeq
        self.lastSeq = lastSeq
        self.firstCapturedAt = firstCapturedAt
        self.lastCapturedAt = lastCapturedAt
        self.open = open
        self.consignment = consignment
        self.renderer = renderer
        self.composer = composer
        self.gaps = gaps
        self.late = late
        self.alerts = alerts
    }
}

/// Playback passed over seqs never received (`from` to `to`, inclusive).
public struct ReplayGap: Sendable, Hashable, Codable {
    public var type = "replay.gap"
    public var from: UInt64
    public var to: UInt64

    public init(from: UInt64, to: UInt64) {
        self.from = from
        self.to = to
    }
}
