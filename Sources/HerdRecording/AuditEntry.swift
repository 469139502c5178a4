import Foundation

/// One line of the chain of custody: who did what to which stream or session, when, over what range.
/// Actions: `live.start`, `live.end`, `replay.start`, `replay.end`, `export`, `verify`, `hold`, `release`,
/// `signin`, `signout`, `token.issue`, `token.revoke`, `audit.verify`.
public struct AuditEntry: Codable, Sendable, Hashable {
    /// Position in the audit chain (set when appended).
    public var index: UInt64?
    public var at: String
    /// The token id (`tok_…`) or, for the command line, `local:<user>`.
    public var actor: String
    public var actorName: String?
    /// The token's role, or `local`.
    public var role: String
    public var action: String
    public var stream: String?
    public var session: String?
    /// The range concerned: capture times and/or seqs (a replay's frames shown, an export's span).
    public var from: String?
    public var to: String?
    public var fromSeq: UInt64?
    public var toSeq: UInt64?
    public var frames: Int?
    /// Free text (the export's format, a verify's outcome, a token's name and streams).
    public var detail: String?
    /// The client's address, for network actions.
    public var remote: String?

    public init(
        actor: String, actorName: String? = nil, role: String, action: String, stream: String? = nil, session: String? = nil,
        detail: String? = nil, remote: String? = nil, at: String = Micros.text(Micros.now())
    ) {
        self.at = at
        self.actor = actor
        self.actorName = actorName
        self.role = role
        self.action = action
        self.stream = stream
        self.session = session
        self.detail = detail
        self.remote = remote
    }

    /// The local user running a command-line action, as the audit log names it.
    public static func localActor() -> (actor: String, name: String) {
        var name = ProcessInfo.processInfo.environment["SUDO_USER"] ?? ""
        if name.isEmpty, let pw = getpwuid(geteuid()), let n = pw.pointee.pw_name { name = String(cString: n) }
        if name.isEmpty { name = "uid\(geteuid())" }
        return ("local:\(name)", name)
    }
}

/// A filter on the audit log, oldest first.
public struct AuditQuery: Sendable, Hashable {
    public var fromMicros: Int64?
    public var toMicros: Int64?
    public var actor: String?
    public var session: String?
    public var action: String?
    public var afterIndex: UInt64?
    public var limit = 500

    public init() {}
}
