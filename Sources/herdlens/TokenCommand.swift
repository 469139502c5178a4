import ArgumentParser
import Foundation
import HerdIdentity

/// `herdlens token`: issue, list and revoke bearer tokens in a data directory.
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Manage device, inspector, auditor and admin tokens.",
        subcommands: [Issue.self, List.self, Revoke.self]
    )

    struct Issue: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Issue a token and print it (one line, shown once).")

        @Option(help: "Data directory holding identity.sqlite.") var data: String = "data"
        @Option(help: "device, inspector, auditor or admin.") var role: String
        @Option(help: "A stream the token may use (repeat; '*' for all).") var stream: [String] = []
        @Option(help: "A name for people and logs.") var name: String?
        @Option(help: "Lifetime like 30d, 12h, 90m, or never.") var expires: String = "never"

        func run() throws {
            guard let role = Role(rawValue: role) else { throw ValidationError("--role must be device, inspector, auditor or admin") }
            if role == .device || role == .inspector, stream.isEmpty {
                throw ValidationError("\(role.rawValue) tokens need at least one --stream (or '*')")
            }
            do {
                let store = try TokenStore(dataDirectory: data)
                let grant = try StreamGrant(stream)
                let (secret, issued) = try store.issue(
                    role: role, streams: grant, name: name ?? role.rawValue,
                    expiresIn: try TokenStore.parseExpiry(expires))
                LocalAudit.note(data: data, action: "token.issue", detail: "\(issued.id) (\(issued.name), \(role.rawValue), streams \(grant.storedValue), expires \(expires))")
                print(secret)
            } catch {
                throw ValidationError("\(error.code): \(error.message)")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (ids, never secrets).")

        @Option(help: "Data directory holding identity.sqlite.") var data: String = "data"

        func run() throws {
            let store = try TokenStore(dataDirectory: data)
            let formatter = ISO8601DateFormatter()
            print("id\trole\tstreams\tname\tcreated\texpires\tstate")
            for t in try store.list() {
                let state = t.revokedAt != nil ? "revoked" : (t.expiresAt.map { $0 <= Date() } == true ? "expired" : "active")
                print([t.id, t.role.rawValue, t.streams.storedValue, t.name, formatter.string(from: t.createdAt),
                       t.expiresAt.map(formatter.string(from:)) ?? "never", state].joined(separator: "\t"))
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by id; it stops working at once.")

        @Option(help: "Data directory holding identity.sqlite.") var data: String = "data"
        @Argument(help: "Token id (tok_…) from `token list`.") var id: String

        func run() throws {
            do {
                try TokenStore(dataDirectory: data).revoke(id: id)
                LocalAudit.note(data: data, action: "token.revoke", detail: id)
            } catch {
                throw ValidationError("\(error.code): \(error.message)")
            }
            print("revoked \(id)")
        }
    }
}
