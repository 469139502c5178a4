import Foundation
import HerdTesting
import Testing

@Suite("herdlens token", .timeLimit(.minutes(3)))
struct TokenCommandTests {
    let cli = ComposeCommandTests()

    @Test("issue prints exactly one line; list shows ids not secrets; revoke ends it")
    func lifecycle() async throws {
        let dir = try cli.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let issued = try await cli.herdlens(["token", "issue", "--data", dir.path, "--role", "device", "--stream", "farm-1.cam-1", "--name", "pen"])
        #expect(issued.status == 0)
        let lines = issued.stdout.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("hl_"))
        let list = try await cli.herdlens(["token", "list", "--data", dir.path])
        #expect(list.status == 0 && list.stdout.contains("farm-1.cam-1") && !list.stdout.contains(String(lines[0])))
        let id = list.stdout.split(separator: "\n")[1].split(separator: "\t")[0]
        #expect(try await cli.herdlens(["token", "revoke", "--data", dir.path, String(id)]).status == 0)
        #expect(try await cli.herdlens(["token", "list", "--data", dir.path]).stdout.contains("revoked"))
        #expect(try await cli.herdlens(["token", "revoke", "--data", dir.path, String(id)]).status != 0)
    }

    @Test("bad roles, streams and expiries are usage errors")
    func usage() async throws {
        let dir = try cli.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try await cli.herdlens(["token", "issue", "--data", dir.path, "--role", "farmer", "--stream", "a"]).status == 64)
        #expect(try await cli.herdlens(["token", "issue", "--data", dir.path, "--role", "inspector"]).status == 64)
        #expect(try await cli.herdlens(["token", "issue", "--data", dir.path, "--role", "device", "--stream", "a/b"]).status == 64)
        #expect(try await cli.herdlens(["token", "issue", "--data", dir.path, "--role", "admin", "--expires", "5w"]).status == 64)
    }
}
