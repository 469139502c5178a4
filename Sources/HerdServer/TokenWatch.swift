import HerdIdentity
import Logging
import ServiceLifecycle
import Synchronization

/// Ends what a revoked or expired token still holds open: its WebSockets are closed (1008, "token
/// revoked") and its browser sessions signed out. Tokens are revoked by `herdlens token revoke`, another
/// process writing the same SQLite file, so the server looks: every `interval` it asks the store about
/// the tokens in use. New requests are refused at once by authentication; open ones end within
/// `interval`.
final class TokenWatch: Service, Sendable {
    /// How one open connection is ended; called at most once, off the connection's own task.
    typealias Closer = @Sendable (_ reason: String) -> Void

    private struct State {
        var nextID = 0
        var open: [String: [Int: Closer]] = [:]
    }

    let tokens: TokenStore
    let sessions: SessionStore
    let interval: Duration
    let logger: Logger
    private let state = Mutex(State())

    init(tokens: TokenStore, sessions: SessionStore, interval: Duration, logger: Logger) {
        self.tokens = tokens
        self.sessions = sessions
        self.interval = interval
        self.logger = logger
    }

    /// Registers an open connection of `token`; keep the returned key to `remove` it when it ends.
    func add(token: String, closer: @escaping Closer) -> Int {
        state.withLock { state in
            state.nextID += 1
            state.open[token, default: [:]][state.nextID] = closer
            return state.nextID
        }
    }

    func remove(token: String, key: Int) {
        state.withLock { state in
            state.open[token]?[key] = nil
            if state.open[token]?.isEmpty == true { state.open[token] = nil }
        }
    }

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while true {
                try await Task.sleep(for: self.interval)
                self.check()
            }
        }
    }

    /// One look: ends the connections and sessions of tokens that no longer authenticate.
    func check() {
        let connected = state.withLock { Set($0.open.keys) }
        let inUse = connected.union(sessions.tokenIDs)
        let invalid: Set<String>
        do throws(IdentityError) {
            invalid = try tokens.invalidIDs(among: inUse)
        } catch {
            logger.error("cannot check tokens in use", metadata: ["herd.error": "\(error.message)"])
            return
        }
        for token in invalid.sorted() {
            let signedOut = sessions.removeAll(token: token)
            let closers = state.withLock { $0.open.removeValue(forKey: token).map { Array($0.values) } ?? [] }
            if signedOut + closers.count > 0 {
                logger.notice(
                    "token no longer valid; ending its connections",
                    metadata: ["herd.token": "\(token)", "herd.sockets": "\(closers.count)", "herd.sessions": "\(signedOut)"])
            }
            for close in closers { close("token revoked or expired") }
        }
    }
}

/// Why a session was ended from outside (set once, read after the session's tasks finish).
final class EndReason: Sendable {
    private let value = Mutex<String?>(nil)

    func set(_ reason: String) { value.withLock { $0 = $0 ?? reason } }
    var reason: String? { value.withLock { $0 } }
}
