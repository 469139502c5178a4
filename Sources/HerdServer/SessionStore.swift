import Foundation
import HerdIdentity
import Synchronization

/// Browser sessions: a sign-in exchanges a token for a random session id held in an HttpOnly cookie, so
/// the token never sits in a URL or in page-readable storage. In memory, bounded, expiring.
final class SessionStore: Sendable {
    static let cookieName = "herd_session"
    let lifetime: TimeInterval
    let capacity: Int
    private let sessions = Mutex<[String: (identity: Identity, expires: Date)]>([:])

    init(lifetime: TimeInterval = 12 * 3600, capacity: Int = 10_000) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    func create(for identity: Identity, now: Date = Date()) -> String {
        var generator = SystemRandomNumberGenerator()
        let id = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        sessions.withLock { sessions in
            if sessions.count >= capacity {
                sessions = sessions.filter { $0.value.expires > now }
                if sessions.count >= capacity, let oldest = sessions.min(by: { $0.value.expires < $1.value.expires })?.key {
                    sessions.removeValue(forKey: oldest)
                }
            }
            sessions[id] = (identity, now.addingTimeInterval(lifetime))
        }
        return id
    }

    func identity(for id: String, now: Date = Date()) -> Identity? {
        sessions.withLock { sessions in
            guard let entry = sessions[id] else { return nil }
            guard entry.expires > now else {
                sessions.removeValue(forKey: id)
                return nil
            }
            return entry.identity
        }
    }

    /// Ids of the tokens that live sessions were made with.
    var tokenIDs: Set<String> {
        sessions.withLock { Set($0.values.map(\.identity.id)) }
    }

    /// Signs out every session made with `token` (revoked or expired); returns how many.
    @discardableResult
    func removeAll(token: String) -> Int {
        sessions.withLock { sessions in
            let before = sessions.count
            sessions = sessions.filter { $0.value.identity.id != token }
            return before - sessions.count
        }
    }

    func remove(_ id: String) {
        _ = sessions.withLock { $0.removeValue(forKey: id) }
    }

    /// The session id in a `Cookie` header, if any.
    static func sessionID(fromCookieHeader header: String) -> String? {
        for pair in header.split(separator: ";") {
            let parts = pair.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if parts.count == 2, parts[0] == cookieName { return String(parts[1]) }
        }
        return nil
    }
}
