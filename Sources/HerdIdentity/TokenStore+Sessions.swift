import Foundation
import GRDB

/// Browser sessions: a sign-in exchanges a token for a session secret held in an HttpOnly cookie, so the
/// token never sits in a URL or in page-readable storage. Kept beside the tokens (a server restart keeps
/// inspectors signed in), stored only as SHA-256, bounded, expiring; every use checks the token behind
/// it, so revoking or expiring the token ends its sessions at once.
extension TokenStore {
    /// A new session for `identity`, valid for `lifetime` (and never longer than the token itself). Past
    /// `capacity` live sessions the one nearest its end is dropped.
    public func createSession(for identity: Identity, lifetime: TimeInterval, capacity: Int = 10_000, now: Date = Date())
        throws(IdentityError) -> String
    {
        let secret = "hs_" + Self.base64URL(Self.randomBytes(32))
        var expires = now.addingTimeInterval(lifetime)
        if let tokenExpiry = identity.expiresAt { expires = min(expires, tokenExpiry) }
        do {
            try database.write { db in
                try db.execute(sql: "DELETE FROM session WHERE expiresAt <= ?", arguments: [now.timeIntervalSince1970])
                let live = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM session") ?? 0
                if live >= capacity {
                    try db.execute(
                        sql: "DELETE FROM session WHERE secretHash IN (SELECT secretHash FROM session ORDER BY expiresAt LIMIT ?)",
                        arguments: [live - capacity + 1])
                }
                try db.execute(
                    sql: "INSERT INTO session (secretHash, tokenId, createdAt, expiresAt) VALUES (?, ?, ?, ?)",
                    arguments: [Self.hash(secret), identity.id, now.timeIntervalSince1970, expires.timeIntervalSince1970])
            }
        } catch {
            throw .storage("cannot store session: \(error)")
        }
        return secret
    }

    /// The identity behind a session secret; `unauthenticated` when the session is unknown, ended or
    /// expired, or its token was revoked or expired.
    public func identity(forSession secret: String, now: Date = Date()) throws(IdentityError) -> Identity {
        guard secret.hasPrefix("hs_"), secret.utf8.count < 256 else { throw .unauthenticated("malformed session") }
        let found: (identity: Identity, expiresAt: Double)?
        do {
            found = try database.read { db in
                try Row.fetchOne(
                    db, sql: "SELECT token.*, session.expiresAt AS sessionExpiresAt FROM session JOIN token ON token.id = session.tokenId WHERE session.secretHash = ?",
                    arguments: [Self.hash(secret)]
                ).map { (Self.identity($0), $0["sessionExpiresAt"]) }
            }
        } catch {
            throw .storage("cannot read sessions: \(error)")
        }
        guard let found, found.expiresAt > now.timeIntervalSince1970 else { throw .unauthenticated("no such session, or it ended") }
        try Self.requireActive(found.identity, now: now)
        return found.identity
    }

    /// Ends a session (sign-out). Unknown secrets are ignored.
    public func endSession(_ secret: String) throws(IdentityError) {
        do {
            try database.write { db in
                try db.execute(sql: "DELETE FROM session WHERE secretHash = ?", arguments: [Self.hash(secret)])
            }
        } catch {
            throw .storage("cannot write sessions: \(error)")
        }
    }
}
