/// How the recorder keeps sessions. Every interval is checked at start (`validate`): none may be zero
/// or negative.
public struct RecorderConfiguration: Sendable, Hashable {
    /// Root of the recordings: `<directory>/<stream>/<session>/segment-N.hlr` and `index.sqlite`.
    public var directory: String
    /// The Ed25519 signing key (created on first start when absent).
    public var keyPath: String
    /// Trusted public keys besides the current one (`<keysDirectory>/trusted/*.pub`).
    public var dataDirectory: String
    /// One fsync covers every frame that arrived in this window; the ack waits for it.
    /// The overlay renderer's version, recorded with each session (replay composes with it).
    public var renderer: String? = nil
    public var commitWindowSeconds: Double = 0.1
    public var segmentMaxBytes: Int64 = 256 * 1024 * 1024
    public var segmentMaxSeconds: Double = 3600
    /// A signed checkpoint at least this often while a session takes records.
    public var checkpointSeconds: Double = 60
    /// A session opened by a first frame closes after this long without records (one opened by a session
    /// message after a day).
    public var sessionIdleSeconds: Double = 600
    /// A frame captured this long before it arrived is marked late (store-and-forward).
    public var lateAfterSeconds: Double = 30
    /// Late frames join the closed session they belong to for this long after it closed; later ones
    /// go to the open (or a new) session, still marked late.
    public var addendumLimitSeconds: Double = 7 * 86_400
    /// Closed sessions older than this are purged (unless held); per-stream values override it.
    public var retentionDays: Double = 90
    public var streamRetentionDays: [String: Double] = [:]
    /// Sum of all recordings past which the oldest closed, unheld sessions are purged; 0: no limit.
    public var maxBytes: Int64 = 0
    /// Free space on the recordings' file system below which recording of unheld streams stops.
    public var minFreeBytes: Int64 = 256 * 1024 * 1024
    /// How often retention and the storage check run.
    public var housekeepingSeconds: Double = 10

    public init(dataDirectory: String) {
        self.dataDirectory = dataDirectory
        directory = dataDirectory + "/recordings"
        keyPath = dataDirectory + "/keys/recording.key"
    }

    public func validate() throws(RecordingError) {
        let intervals: [(String, Double)] = [
            ("commitWindowSeconds", commitWindowSeconds), ("segmentMaxSeconds", segmentMaxSeconds), ("checkpointSeconds", checkpointSeconds),
            ("sessionIdleSeconds", sessionIdleSeconds), ("lateAfterSeconds", lateAfterSeconds), ("addendumLimitSeconds", addendumLimitSeconds),
            ("retentionDays", retentionDays), ("housekeepingSeconds", housekeepingSeconds),
        ] + streamRetentionDays.map { ("streamRetentionDays.\($0.key)", $0.value) }
        for (name, value) in intervals where !(value > 0) || !value.isFinite {
            throw .invalidArgument("recording.\(name) must be a positive number of seconds or days, not \(value)")
        }
        guard commitWindowSeconds <= 5 else { throw .invalidArgument("recording.commitWindowSeconds must be at most 5") }
        guard segmentMaxBytes >= 1024 * 1024 else { throw .invalidArgument("recording.segmentMaxBytes must be at least 1 MiB") }
        guard maxBytes >= 0, minFreeBytes >= 0 else { throw .invalidArgument("recording.maxBytes and minFreeBytes must not be negative") }
    }
}
