import Crypto
import Foundation
import GRDB
import HerdProtocol

/// Issues, lists, revokes and checks bearer tokens, kept in SQLite (`identity.sqlite` in the data
/// directory). A token is 256 random bits; only its SHA-256 is stored, so the database alone cannot
/// be used to impersonate anyone. Thread-safe (GRDB serialises access).
public final class TokenStore: Sendable {
    let database: DatabaseQueue
    /// The database file.
    public let path: String

    /// Opens (creating and migrating when needed) the store at `path`.
    public init(path: String) throws(IdentityError) {
        self.path = path
        do {
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            var configuration = Configuration()
            configuration.busyMode = .timeout(5)
            database = try DatabaseQueue(path: path, configuration: configuration)
            var migrator = DatabaseMigrator()
            migrator.registerMigration("v1-tokens") { db in
                try db.create(table: "token") { t in
                    t.column("id", .text).primaryKey()
                    t.column("secretHash", .text).notNull().unique()
                    t.column("name", .text).notNull()
                    t.column("role", .text).notNull()
                    t.column("streams", .text).notNull()
                    t.column("createdAt", .double).notNull()
                    t.column("expiresAt", .double)
                    t.column("revokedAt", .double)
                }
            }
            migrator.registerMigration("v2-sessions") { db in
                try db.create(table: "session") { t in
                    t.column("secretHash", .text).primaryKey()
                    t.column("tokenId", .text).notNull().indexed().references("token", column: "id", onDelete: .cascade)
                    t.column("createdAt", .double).notNull()
                    t.column("expiresAt", .double).notNull()
                }
            }
            try migrator.migrate(database)
        } catch {
            throw .storage("cannot open token store at \(path): \(error)")
        }
    }

    /// The store in a HerdLens data directory.
    public convenience init(dataDirectory: String) throws(IdentityError) {
        try self.init(path: (dataDirectory as NSString).appendingPathComponent("identity.sqlite"))
    }

    /// A new token. The secret is returned once and never stored.
    public func issue(role: Role, streams: StreamGrant, name: String, expiresIn: TimeInterval? = nil, now: Date = Date())
        throws(IdentityError) -> (token: String, identity: Identity)
    {
        let secret = "hl_" + Self.base64URL(Self.randomBytes(32))
        let identity = Identity(
            id: "tok_" + Self.randomBytes(8).map { String(format: "%02x", $0) }.joined(), name: name, role: role,
            streams: streams, createdAt: now, expiresAt: expiresIn.map { now.addingTimeInterval($0) }, revokedAt: nil)
        do {
            try database.write { db in
                try db.execute(
                    sql: "INSERT INTO token (id, secretHash, name, role, streams, createdAt, expiresAt) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    arguments: [
                        identity.id, Self.hash(secret), name, role.rawValue, streams.storedValue,
                        now.timeIntervalSince1970, identity.expiresAt?.timeIntervalSince1970,
                    ])
            }
        } catch {
            throw .storage("cannot store token: \(error)")
        }
        return (secret, identity)
    }

    /// The identity behind a presented secret; `unauthenticated` when unknown, revoked or expired.
    public func authenticate(_ secret: String, now: Date = Date()) throws(IdentityError) -> Identity {
        guard secret.hasPrefix("hl_"), secret.utf8.count < 256 else { throw .unauthenticated("malformed token") }
        let found: Identity?
        do {
            found = try database.read { db in
                try Row.fetchOne(db, sql: "SELECT * FROM token WHERE secretHash = ?", arguments: [Self.hash(secret)]).map(Self.identity)
            }
        } catch {
            throw .storage("cannot read token store: \(error)")
        }
        guard let identity = found else { throw .unauthenticated("unknown token") }
        try Self.requireActive(identity, now: now)
        return identity
    }

    /// `unauthenticated` unless the token is neither revoked nor expired.
    static func requireActive(_ identity: Identity, now: Date) throws(IdentityError) {
        if identity.revokedAt != nil { throw .unauthenticated("token \(identity.id) was revoked") }
        if let expiry = identity.expiresAt, expiry <= now { throw .unauthenticated("token \(identity.id) expired") }
    }

    /// Every token, newest first (secrets are not stored, so not listed).
    public func list() throws(IdentityError) -> [Identity] {
        do {
            return try database.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM token ORDER BY createdAt DESC, id").map(Self.identity)
            }
        } catch {
            throw .storage("cannot read token store: \(error)")
        }
    }

    /// Revokes a token by its id; it stops working at once, and browser sessions made with it end.
    public func revoke(id: String, now: Date = Date()) throws(IdentityError) {
        let changed: Int
        do {
            changed = try database.write { db in
                try db.execute(sql: "UPDATE token SET revokedAt = ? WHERE id = ? AND revokedAt IS NULL", arguments: [now.timeIntervalSince1970, id])
                let changed = db.changesCount
                try db.execute(sql: "DELETE FROM session WHERE tokenId = ?", arguments: [id])
                return changed
            }
        } catch {
            throw .storage("cannot write token store: \(error)")
        }
        guard changed == 1 else { throw .notFound("no active token with id \(id)") }
    }

    /// Which of `ids` no longer authenticate (revoked, expired or unknown): the server asks this about
    /// the tokens that hold sockets open, to close them.
    public func invalidIDs(among ids: Set<String>, now: Date = Date()) throws(IdentityError) -> Set<String> {
        guard !ids.isEmpty else { return [] }
        let valid: Set<String>
        do {
            valid = try database.read { db in
                let list = Array(ids)
                let marks = Array(repeating: "?", count: list.count).joined(separator: ",")
                var arguments = StatementArguments(list)
                arguments += [now.timeIntervalSince1970]
                return Set(try String.fetchAll(
                    db, sql: "SELECT id FROM token WHERE id IN (\(marks)) AND revokedAt IS NULL AND (expiresAt IS NULL OR expiresAt > ?)",
                    arguments: arguments))
            }
        } catch {
            throw .storage("cannot read token store: \(error)")
        }
        return ids.subtracting(valid)
    }

    /// Parses `30d`, `12h`, `90m`, `45s` or `never` (nil).
    public static func parseExpiry(_ text: String) throws(IdentityError) -> TimeInterval? {
        if text == "never" { return nil }
        guard let unit = text.last, let value = Double(text.dropLast()), value > 0, value.isFinite else {
            throw .invalidExpiry("'\(text)' is not like 30d, 12h, 90m, 45s or never")
        }
        switch unit {
        case "d": return value * 86_400
        case "h": return value * 3600
        case "m": return value * 60
        case "s": return value
        default: throw .invalidExpiry("'\(text)' is not like 30d, 12h, 90m, 45s or never")
        }
    }

    static func identity(_ row: Row) -> Identity {
        Identity(
            id: row["id"], name: row["name"], role: Role(rawValue: row["role"]) ?? .device,
            streams: StreamGrant(storedValue: row["streams"]),
            createdAt: Date(timeIntervalSince1970: row["createdAt"]),
            expiresAt: (row["expiresAt"] as Double?).map(Date.init(timeIntervalSince1970:)),
            revokedAt: (row["revokedAt"] as Double?).map(Date.init(timeIntervalSince1970:)))
    }

    static func hash(_ secret: String) -> String {
        SHA256.hash(data: Data(secret.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
