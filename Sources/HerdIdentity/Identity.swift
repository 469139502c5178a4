import Foundation
import HerdProtocol

/// Who presented a token: its id (not the secret), name, role and streams.
public struct Identity: Sendable, Hashable {
    /// Public identifier of the token (`tok_…`), safe to log and to revoke by.
    public var id: String
    public var name: String
    public var role: Role
    public var streams: StreamGrant
    public var createdAt: Date
    public var expiresAt: Date?
    public var revokedAt: Date?

    /// May publish frames to `stream`.
    public func canPublish(to stream: StreamID) -> Bool {
        role == .admin || (role == .device && streams.allows(stream))
    }

    /// May watch `stream` live.
    public func canWatch(_ stream: StreamID) -> Bool {
        role == .admin || (role == .inspector && streams.allows(stream))
    }

    /// May read the recorded sessions of `stream`: auditors and admins every stream, inspectors theirs.
    public func canReadRecordings(of stream: StreamID) -> Bool {
        role == .admin || role == .auditor || (role == .inspector && streams.allows(stream))
    }

    /// Throws `forbidden` unless the identity may publish to `stream`.
    public func requirePublish(to stream: StreamID) throws(IdentityError) {
        guard canPublish(to: stream) else {
            throw role == .device
                ? .forbidden("token \(id) may not publish to stream \(stream)")
                : .forbidden("a \(role.rawValue) token may not publish frames")
        }
    }

    /// Throws `forbidden` unless the identity may watch `stream`.
    public func requireWatch(_ stream: StreamID) throws(IdentityError) {
        guard canWatch(stream) else {
            throw role == .inspector
                ? .forbidden("token \(id) may not watch stream \(stream)")
                : .forbidden("a \(role.rawValue) token may not watch live streams")
        }
    }
}
