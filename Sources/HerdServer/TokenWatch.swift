import HerdIdentity
import Logging
import ServiceLifecycle
import Synchronization

/// Ends what a revoked or expired token still holds open: its WebSockets are closed (1008, "token
/// revoked or expired"). Tokens are revoked by `herdlens token revoke`, another process writing the same
/// SQLite file, so the server looks: every `interval` it asks the store about the tokens with sockets
/// open. New requests, browser sessions included, are refused at once by authentication (a session is
/// checked against its token on every use); open sockets end within `interval`.
final class TokenWatch: Service, Sendable {
    /// How one open connection is ended; called at most once, off the connection's own task.
    typealias Closer = @Sendable (_ reason: String) -> Void

    private struct State {
        var nextID = 0
        var open: [String: [Int: Closer]] = [:]
    }

    let tokens: TokenStore
    let interval: Duration
    let logger: Logger
    private let state = Mutex(State())

    init(tokens: TokenStore, interval: Duration, logger: Logger) {
        self.tokens = tokens
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
                await self.check()
            }
        }
    }

    /// One look: closes the connections of tokens that no longer authenticate.
    func check() async {
        let connected = state.withLock { Set($0.open.keys) }
        let invalid: Set<String>
        do throws(IdentityError) {
            let tokens = self.tokens
            invalid = try await BlockingIO.run { () throws(IdentityError) in try tokens.invalidIDs(among: connected) }
        } catch {
            logger.error("cannot check tokens in use", metadata: ["herd.error": "\(error.message)"])
            return
        }
        for token in invalid.sorted() {
            let closers = state.withLock { $0.open.removeValue(forKey: token).map { Array($0.values) } ?? [] }
            if !closers.isEmpty {
                logger.notice("token no longer valid; closing its sockets", metadata: ["herd.token": "\(token)", "herd.sockets": "\(closers.count)"])
            }
            for close in closers { close("token revoked or expired") }
        }
    }
}
