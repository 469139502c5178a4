import Foundation
import HerdIdentity
import HerdProtocol
import Testing

@Suite("Token store", .timeLimit(.minutes(3)))
struct TokenStoreTests {
    func temporaryStore() throws -> (TokenStore, URL) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("herd-identity-\(UUID().uuidString)")
        return (try TokenStore(dataDirectory: dir.path), dir)
    }

    @Test("issued tokens authenticate with their role and streams; only hashes are stored")
    func issueAndAuthenticate() throws {
        let (store, dir) = try temporaryStore()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cam = StreamID("farm-1.cam-1")!
        let (secret, issued) = try store.issue(role: .device, streams: try StreamGrant(["farm-1.cam-1"]), name: "pen camera")
        #expect(secret.hasPrefix("hl_") && secret.count >= 43)
        let identity = try store.authenticate(secret)
        #expect(identity.id == issued.id && identity.role == .device && identity.name == "pen camera")
        #expect(identity.streams == issued.streams && abs(identity.createdAt.timeIntervalSince(issued.createdAt)) < 0.001)
        #expect(identity.canPublish(to: cam) && !identity.canPublish(to: StreamID("farm-2.cam-1")!) && !identity.canWatch(cam))
        let file = try Data(contentsOf: URL(fileURLWithPath: store.path))
        #expect(file.range(of: Data(secret.utf8)) == nil, "the secret must not be stored")
        // Reopening the same data directory finds the token.
        #expect(try TokenStore(dataDirectory: dir.path).authenticate(secret).id == issued.id)
    }

    @Test("unknown, malformed, revoked and expired tokens are refused")
    func refusals() throws {
        let (store, dir) = try temporaryStore()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(throws: IdentityError.unauthenticated()) { try store.authenticate("hl_nope") }
        #expect(throws: IdentityError.unauthenticated()) { try store.authenticate("Bearer something") }
        let (secret, identity) = try store.issue(role: .inspector, streams: .all, name: "Inspector Chan")
        try store.revoke(id: identity.id)
        #expect(throws: IdentityError.unauthenticated()) { try store.authenticate(secret) }
        #expect(throws: IdentityError.notFound("")) { try store.revoke(id: identity.id) }
        let now = Date()
        let (short, _) = try store.issue(role: .admin, streams: .all, name: "ops", expiresIn: 60, now: now)
        #expect(try store.authenticate(short, now: now.addingTimeInterval(59)).role == .admin)
        #expect(throws: IdentityError.unauthenticated()) { try store.authenticate(short, now: now.addingTimeInterval(61)) }
    }

    @Test("roles: inspectors watch their streams, admins everything, auditors neither")
    func roles() throws {
        let (store, dir) = try temporaryStore()
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = StreamID("a")!, b = StreamID("b")!
        let inspector = try store.issue(role: .inspector, streams: try StreamGrant(["a"]), name: "i").identity
        #expect(inspector.canWatch(a) && !inspector.canWatch(b) && !inspector.canPublish(to: a))
        #expect(throws: IdentityError.forbidden()) { try inspector.requireWatch(b) }
        let admin = try store.issue(role: .admin, streams: .only([]), name: "root").identity
        #expect(admin.canWatch(b) && admin.canPublish(to: b))
        let auditor = try store.issue(role: .auditor, streams: .all, name: "audit").identity
        #expect(!auditor.canWatch(a) && !auditor.canPublish(to: a))
        #expect(try store.list().count == 3)
    }

    @Test("the server's check of tokens in use finds the revoked, expired and unknown ones")
    func invalidIDs() throws {
        let (store, dir) = try temporaryStore()
        defer { try? FileManager.default.removeItem(at: dir) }
        let now = Date()
        let live = try store.issue(role: .inspector, streams: .all, name: "live", now: now).identity.id
        let lasting = try store.issue(role: .device, streams: .all, name: "lasting", expiresIn: 3600, now: now).identity.id
        let expiring = try store.issue(role: .device, streams: .all, name: "expiring", expiresIn: 60, now: now).identity.id
        let revoked = try store.issue(role: .inspector, streams: .all, name: "revoked", now: now).identity.id
        try store.revoke(id: revoked, now: now)
        let all: Set = [live, lasting, expiring, revoked, "tok_unknown"]
        #expect(try store.invalidIDs(among: all, now: now) == [revoked, "tok_unknown"])
        #expect(try store.invalidIDs(among: all, now: now.addingTimeInterval(61)) == [revoked, expiring, "tok_unknown"])
        #expect(try store.invalidIDs(among: [], now: now).isEmpty)
    }

    @Test("browser sessions: bound to their token, stored hashed, ended by sign-out, expiry, revocation and capacity")
    func sessions() throws {
        let (store, dir) = try temporaryStore()
        defer { try? FileManager.default.removeItem(at: dir) }
        let now = Date()
        let inspector = try store.issue(role: .inspector, streams: .all, name: "inspector", now: now).identity
        let shortLived = try store.issue(role: .inspector, streams: .all, name: "short", expiresIn: 600, now: now).identity
        let session = try store.createSession(for: inspector, lifetime: 3600, now: now)
        #expect(session.hasPrefix("hs_") && session.count >= 43)
        #expect(try store.identity(forSession: session, now: now).id == inspector.id)
        // The secret is not in the database file.
        let file = try Data(contentsOf: URL(fileURLWithPath: store.path))
        #expect(file.range(of: Data(session.utf8)) == nil)
        // Expiry: the session's own, and never past its token's.
        #expect(throws: IdentityError.unauthenticated("")) { try store.identity(forSession: session, now: now.addingTimeInterval(3601)) }
        let capped = try store.createSession(for: shortLived, lifetime: 3600, now: now)
        #expect(throws: IdentityError.unauthenticated("")) { try store.identity(forSession: capped, now: now.addingTimeInterval(601)) }
        // Sign-out, and revocation of the token, end sessions at once.
        try store.endSession(session)
        #expect(throws: IdentityError.unauthenticated("")) { try store.identity(forSession: session, now: now) }
        let another = try store.createSession(for: inspector, lifetime: 3600, now: now)
        try store.revoke(id: inspector.id, now: now)
        #expect(throws: IdentityError.unauthenticated("")) { try store.identity(forSession: another, now: now) }
        #expect(throws: IdentityError.unauthenticated("")) { try store.identity(forSession: "hs_unknown", now: now) }
        #expect(throws: IdentityError.unauthenticated("")) { try store.identity(forSession: "not-a-session", now: now) }
        // Bounded: past capacity the session nearest its end goes.
        try store.endSession(capped)
        let first = try store.createSession(for: shortLived, lifetime: 60, capacity: 2, now: now)
        let second = try store.createSession(for: shortLived, lifetime: 120, capacity: 2, now: now)
        let third = try store.createSession(for: shortLived, lifetime: 180, capacity: 2, now: now)
        #expect(throws: IdentityError.unauthenticated("")) { try store.identity(forSession: first, now: now) }
        #expect(try store.identity(forSession: second, now: now).id == shortLived.id)
        #expect(try store.identity(forSession: third, now: now).id == shortLived.id)
    }

    @Test("stream grants and expiries parse strictly")
    func parsing() throws {
        #expect(try StreamGrant(["*"]) == .all)
        #expect(throws: IdentityError.invalidStream("")) { try StreamGrant(["a/b"]) }
        #expect(try TokenStore.parseExpiry("30d") == 30 * 86_400)
        #expect(try TokenStore.parseExpiry("never") == nil)
        for bad in ["", "30", "d", "-1d", "5w"] {
            #expect(throws: IdentityError.invalidExpiry("")) { try TokenStore.parseExpiry(bad) }
        }
    }
}
