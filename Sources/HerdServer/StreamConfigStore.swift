import Foundation
import GRDB
import HerdAnalysis
import HerdProtocol
import Synchronization

/// Each stream's analysis configuration, kept in SQLite (`config.sqlite` in the data directory) and
/// cached in memory, so pipelines read it without touching the disk. Only this type knows the
/// storage; a shared store for several nodes would replace it behind the same calls.
public final class StreamConfigStore: Sendable {
    public struct Stored: Sendable {
        public var config: AnalysisConfig
        public var updatedAt: String
        public var updatedBy: String
        /// Bumped on every change (1 for the first).
        public var revision: Int
    }

    private let database: DatabaseQueue
    private let cache: Mutex<[String: Stored]>

    public init(dataDirectory: String) throws {
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        database = try DatabaseQueue(path: (dataDirectory as NSString).appendingPathComponent("config.sqlite"), configuration: configuration)
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-stream-config") { db in
            try db.create(table: "streamConfig") { t in
                t.column("stream", .text).primaryKey()
                t.column("json", .blob).notNull()
                t.column("updatedAt", .text).notNull()
                t.column("updatedBy", .text).notNull()
                t.column("revision", .integer).notNull()
            }
        }
        try migrator.migrate(database)
        var loaded: [String: Stored] = [:]
        try database.read { db in
            for row in try Row.fetchAll(db, sql: "SELECT stream, json, updatedAt, updatedBy, revision FROM streamConfig") {
                let data: Data = row["json"]
                // Merged over the defaults: a setting added since the row was written takes its default.
                // A row this build cannot read keeps the defaults (and is overwritten by the next PUT).
                guard let config = try? AnalysisConfig.decode(merging: data) else { continue }
                loaded[row["stream"]] = Stored(config: config, updatedAt: row["updatedAt"], updatedBy: row["updatedBy"], revision: row["revision"])
            }
        }
        cache = Mutex(loaded)
    }

    /// The stream's configuration, or nil when it has none of its own (the defaults apply).
    public func stored(_ stream: StreamID) -> Stored? { cache.withLock { $0[stream.rawValue] } }

    public func config(_ stream: StreamID) -> AnalysisConfig { stored(stream)?.config ?? AnalysisConfig() }

    /// Stores a validated configuration (blocking: call through `BlockingIO`).
    public func save(_ stream: StreamID, _ config: AnalysisConfig, by actor: String) throws -> Stored {
        let json = Data(config.canonicalJSON)
        let now = Timestamp.now().text
        let revision = try database.write { db -> Int in
            let previous = try Int.fetchOne(db, sql: "SELECT revision FROM streamConfig WHERE stream = ?", arguments: [stream.rawValue]) ?? 0
            try db.execute(
                sql: "INSERT OR REPLACE INTO streamConfig (stream, json, updatedAt, updatedBy, revision) VALUES (?, ?, ?, ?, ?)",
                arguments: [stream.rawValue, json, now, actor, previous + 1])
            return previous + 1
        }
        let stored = Stored(config: config, updatedAt: now, updatedBy: actor, revision: revision)
        cache.withLock { $0[stream.rawValue] = stored }
        return stored
    }
}
