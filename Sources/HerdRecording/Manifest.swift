import HerdProtocol

/// What a checkpoint signs: the chain head and what the session holds up to it. Auditors compare these
/// figures with what they replay; `verify` recomputes every one.
public struct Manifest: Codable, Sendable, Hashable {
    public var format = "herdlens-manifest/1"
    public var session: String
    public var stream: String
    /// Records before this checkpoint, and the hash of the last of them (hex).
    public var records: UInt64
    public var head: String
    public var frames: Int
    public var firstCapturedAt: String?
    public var lastCapturedAt: String?
    public var startedAt: String
    public var endedAt: String?
    public var consignment: Consignment?
    public var keyId: String
    public var signedAt: String
    /// The session's last checkpoint (written at close); a later one is an addendum.
    public var final: Bool
    /// Numbered from 1 for checkpoints after the session closed (late frames).
    public var addendum: Int?
}
