import Foundation
import HTTPTypes
import HerdCodecs
import HerdImaging
import HerdProtocol
import HerdServer
import HerdTesting
import HerdWorker
import Hummingbird
import HummingbirdTesting
import HummingbirdWSTesting
import HummingbirdWebSocket
import NIOCore
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Codec faults cost one frame, never the server (issue 7), checked the way devices and inspectors
/// meet them: real sockets, real worker processes, a worker killed with SIGKILL in the middle of a
/// frame, a frame that overruns the deadline, and the crafted JPEG that once killed the server.
@Suite("Codec worker faults over real sockets", .serialized, .timeLimit(.minutes(3)))
struct CodecWorkerFaultTests {
    /// A link to the worker executable under a name of the test's own: the kernel names the process
    /// after it (`comm`), so the test finds its server's workers and no other test's.
    static func privateWorker(in fixture: ServerFixture) throws -> String {
        let name = "hlw-\(UInt32.random(in: 0...UInt32.max))"
        let link = fixture.directory.appendingPathComponent(name).path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: CodecWorkerPool.Configuration.defaultExecutable())
        return link
    }

    /// The running workers started from `executable` (`comm` is its name cut to 15 characters).
    static func workerPIDs(_ executable: String) -> [pid_t] {
        let name = String(URL(fileURLWithPath: executable).lastPathComponent.prefix(15))
        let me = getpid()
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")") else { return false }
            let comm = stat[stat.index(after: open)..<close]
            let rest = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
            return comm == name && rest.count > 1 && Int32(rest[1]) == me
        }
    }

    /// Resident bytes of a process.
    static func residentBytes(_ pid: pid_t) -> Int {
        guard let statm = try? String(contentsOfFile: "/proc/\(pid)/statm", encoding: .utf8) else { return 0 }
        let fields = statm.split(separator: " ")
        return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
    }

    /// Waits (bounded) until a worker holds more than `bytes` resident: it is inside the slow frame.
    static func workerInsideSlowFrame(_ executable: String, above bytes: Int = 150 << 20) async throws -> pid_t {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let pid = workerPIDs(executable).first(where: { residentBytes($0) > bytes }) { return pid }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw CancellationError()
    }

    /// A fixture with one codec worker of its own (a symlinked executable, so its processes can be found
    /// and stopped without touching other tests' workers).
    static func oneWorker(deadline: Double, _ adjust: (inout ServerConfiguration) -> Void = { _ in }) throws -> (ServerFixture, worker: String) {
        var configured = try ServerFixture.unthrottled {
            $0.codecWorkers = 1
            $0.codecWorkerDeadlineSeconds = deadline
            adjust(&$0)
        }
        let worker = try privateWorker(in: configured)
        configured.configuration.codecWorkerExecutable = worker
        return (configured, worker)
    }

    /// The worker deadline of the tests that stop a worker to make a frame overrun it: long enough for
    /// any real frame here (an ASan worker's first render of a small frame once took over 0.3 s).
    static let overrunDeadline = 2.0

    /// Stops (SIGSTOP) the running worker started from `executable`, so the next request on it hangs in
    /// the accept stage, deterministically; returns its pid (waits for it to have started).
    static func stopWorker(_ executable: String) async throws -> pid_t {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let pid = workerPIDs(executable).first {
                kill(pid, SIGSTOP)
                return pid
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw CancellationError()
    }

    /// 6000x6000 PNG: valid, under the 40 MP limit, and seconds of decode and encode in a worker.
    static let slowFrame: [UInt8] = try! PNGEncoder().encode(
        PixelBuffer(width: 6000, height: 6000, format: .rgb, fill: Color(red: 90, green: 110, blue: 70)), fast: true)

    func frame(_ fixture: ServerFixture, seq: UInt64, _ image: [UInt8], stream: StreamID? = nil) throws -> WebSocketOutboundWriter.OutboundFrame {
        .binary(ByteBuffer(bytes: Envelope.encode(header: try fixture.header(seq: seq, stream: stream), payload: image)))
    }

    func errorReply(_ text: String) throws -> ErrorReply { try WireJSON.decode(ErrorReply.self, from: Array(text.utf8)) }

    @Test("the JPEG that killed the server, and every hostile sample, are acknowledged while another stream keeps delivering")
    func crashInputOverSocket() async throws {
        let fixture = try ServerFixture.unthrottled()
        defer { fixture.cleanUp() }
        let app = try buildApplication(configuration: fixture.configuration, logger: fixture.logger)
        let good = try SampleFrames.bytes("frames", "pen-day-720p.jpg")
        let viewerReady = LiveStreamingTests.Signal(), viewerDone = LiveStreamingTests.Signal()
        try await app.test(.live) { client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await client.ws("/api/v1/live?stream=\(fixture.stream)", configuration: LiveStreamingTests.wsConfiguration(token: fixture.inspector)) { inbound, outbound, _ in
                        defer { viewerDone.fire() }
                        viewerReady.fire()
                        var frames = 0
                        for try await message in inbound.messages(maxSize: 16 << 20) {
                            guard case .binary = message else { continue }
                            frames += 1
                            if frames >= 3 { break }
                        }
                        #expect(frames >= 3)
                        try await outbound.close(.normalClosure, reason: nil)
                    }
                }
                try await viewerReady.wait()
                // Stream B: the crash input first, then every hostile sample; each one acknowledged.
                try await client.ws("/api/v1/ingest", configuration: LiveStreamingTests.wsConfiguration(token: fixture.otherDevice)) { inbound, outbound, _ in
                    var replies = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                    let names = ["jpeg-component-never-scanned.jpg"] + SampleFrames.hostileNames.filter { $0 != "jpeg-component-never-scanned.jpg" }
                    for (i, name) in names.enumerated() {
                        try await outbound.write(try frame(fixture, seq: UInt64(i + 1), try SampleFrames.bytes("hostile", name), stream: fixture.otherStream))
                        guard case .text(let text)? = try await replies.next() else { Issue.record("no reply to \(name)"); return }
                        #expect(text.contains(#""type":"ack""#) && text.contains(#""seq":\#(i + 1)"#), "\(name): \(text)")
                    }
                }
                // Stream A still delivers to its viewer (frames go on until it has seen three, bounded).
                try await client.ws("/api/v1/ingest", configuration: LiveStreamingTests.wsConfiguration(token: fixture.device)) { inbound, outbound, _ in
                    var replies = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                    for seq in UInt64(1)...300 where !viewerDone.isFired {
                        try await outbound.write(try frame(fixture, seq: seq, good))
                        guard case .text(let text)? = try await replies.next() else { Issue.record("A: no ack"); return }
                        #expect(text.contains(#""type":"ack""#), "\(text)")
                        if seq > 3 { try await Task.sleep(for: .milliseconds(20)) }
                    }
                }
                try await group.waitForAll()
            }
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
        }
    }

    @Test("every refused sample over a real socket: an error naming its seq and code; the next good frame is acknowledged")
    func refusedInputsOverSocket() async throws {
        let fixture = try ServerFixture.unthrottled()
        defer { fixture.cleanUp() }
        let app = try buildApplication(configuration: fixture.configuration, logger: fixture.logger)
        let good = try SampleFrames.bytes("variants", "jpeg-420-baseline.jpg")
        try await app.test(.live) { client in
            try await client.ws("/api/v1/ingest", configuration: LiveStreamingTests.wsConfiguration(token: fixture.device)) { inbound, outbound, _ in
                var replies = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                var seq: UInt64 = 0
                for name in SampleFrames.malformedNames {
                    seq += 1
                    try await outbound.write(try frame(fixture, seq: seq, try SampleFrames.bytes("malformed", name)))
                    guard case .text(let text)? = try await replies.next() else { Issue.record("no reply to \(name)"); return }
                    let reply = try errorReply(text)
                    #expect(reply.code == String(name.split(separator: "-", maxSplits: 1)[0]) && reply.seq == seq, "\(name): \(text)")
                    seq += 1
                    try await outbound.write(try frame(fixture, seq: seq, good))
                    guard case .text(let ack)? = try await replies.next() else { Issue.record("no ack after \(name)"); return }
                    #expect(ack.contains(#""type":"ack""#) && ack.contains(#""seq":\#(seq)"#), "after \(name): \(ack)")
                }
            }
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
        }
    }

    @Test("a worker killed mid-frame: that frame is refused naming its seq, the next is acknowledged, the input is kept")
    func workerKilledMidFrame() async throws {
        let (fixture, worker) = try Self.oneWorker(deadline: 60)
        defer { fixture.cleanUp() }
        let app = try buildApplication(configuration: fixture.configuration, logger: fixture.logger)
        let image = try SampleFrames.bytes("variants", "jpeg-420-baseline.jpg")
        try await app.test(.live) { client in
            try await client.ws("/api/v1/ingest", configuration: LiveStreamingTests.wsConfiguration(token: fixture.device)) { inbound, outbound, _ in
                var replies = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                // Workers start on first use: one frame first.
                try await outbound.write(try frame(fixture, seq: 1, try SampleFrames.bytes("frames", "pen-night-720p.jpg")))
                guard case .text(let first)? = try await replies.next(), first.contains(#""type":"ack""#) else { Issue.record("no first ack"); return }
                // Its live rendering (after the ack) done, the worker is idle.
                try await Self.waitUntilBusy(fixture, client: client, workers: 0)
                // The frame hangs inside the (stopped) worker's open; the worker is then killed under it.
                let pid = try await Self.stopWorker(worker)
                try await outbound.write(try frame(fixture, seq: 2, image))
                try await Self.waitUntilBusy(fixture, client: client)
                #expect(kill(pid, SIGKILL) == 0)
                guard case .text(let text)? = try await replies.next() else { Issue.record("no reply to the killed frame"); return }
                let reply = try errorReply(text)
                #expect(reply.code == "workerCrashed" && reply.seq == 2 && reply.stream == fixture.stream.rawValue && !reply.retryable, "\(text)")
                try await outbound.write(try frame(fixture, seq: 3, try SampleFrames.bytes("frames", "pen-night-720p.jpg")))
                guard case .text(let next)? = try await replies.next() else { Issue.record("no reply to the next frame"); return }
                #expect(next.contains(#""type":"ack""#) && next.contains(#""seq":3"#), "\(next)")
                #expect(!Self.workerPIDs(worker).contains(pid))
            }
            let metrics = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            #expect(metrics.contains(#"herd_codec_worker_faults_total{kind="crash"} 1"#), "\(metrics)")
            #expect(metrics.contains(#"herd_frames_dropped_total{reason="worker_fault"} 1"#))
        }
        // The bytes that cost a worker are kept for forensics (written off the request path).
        let forensics = fixture.directory.appendingPathComponent("forensics")
        let deadline = ContinuousClock.now + .seconds(30)
        var kept: [String] = []
        while ContinuousClock.now < deadline {
            kept = ((try? FileManager.default.contentsOfDirectory(atPath: forensics.path)) ?? []).filter { $0.hasSuffix(".bin") }
            if !kept.isEmpty { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let file = try #require(kept.first)
        #expect(try [UInt8](Data(contentsOf: forensics.appendingPathComponent(file))) == image)
    }

    /// Until the server's codec workers report a request in progress (the frame reached the worker).
    static func waitUntilBusy(_ fixture: ServerFixture, client: some TestClientProtocol, workers: Int = 1) async throws {
        _ = fixture
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let metrics = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            let busy = metrics.split(separator: "\n").first { $0.hasPrefix("herd_codec_workers_busy ") }.flatMap { Double($0.split(separator: " ")[1]) }
            if busy == Double(workers) { return }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw CancellationError()
    }

    @Test("a frame that overruns the worker deadline is refused with workerTimeout; the stream carries on")
    func frameHangsWorker() async throws {
        let (fixture, worker) = try Self.oneWorker(deadline: Self.overrunDeadline)
        defer { fixture.cleanUp() }
        let app = try buildApplication(configuration: fixture.configuration, logger: fixture.logger)
        _ = try await app.test(.live) { client in
            try await client.ws("/api/v1/ingest", configuration: LiveStreamingTests.wsConfiguration(token: fixture.device)) { inbound, outbound, _ in
                var replies = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                let image = try SampleFrames.bytes("variants", "jpeg-420-baseline.jpg")
                try await outbound.write(try frame(fixture, seq: 1, image))
                guard case .text(let first)? = try await replies.next(), first.contains(#""type":"ack""#) else { Issue.record("no first ack"); return }
                try await Self.waitUntilBusy(fixture, client: client, workers: 0)
                _ = try await Self.stopWorker(worker)
                try await outbound.write(try frame(fixture, seq: 2, image))
                guard case .text(let text)? = try await replies.next() else { Issue.record("no reply to the slow frame"); return }
                let reply = try errorReply(text)
                #expect(reply.code == "workerTimeout" && reply.seq == 2, "\(text)")
                try await outbound.write(try frame(fixture, seq: 3, image))
                guard case .text(let next)? = try await replies.next() else { Issue.record("no reply to the next frame"); return }
                #expect(next.contains(#""type":"ack""#) && next.contains(#""seq":3"#), "\(next)")
            }
        }
    }

    @Test("a worker fault after the ack: the frame stays acknowledged and recorded, the fault is noted")
    func faultAfterTheAck() async throws {
        let (fixture, worker) = try Self.oneWorker(deadline: 5)
        defer { fixture.cleanUp() }
        let app = try buildApplication(configuration: fixture.configuration, logger: fixture.logger)
        try await app.test(.live) { client in
            try await client.ws("/api/v1/ingest", configuration: LiveStreamingTests.wsConfiguration(token: fixture.device)) { inbound, outbound, _ in
                var replies = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                try await outbound.write(try frame(fixture, seq: 1, Self.slowFrame))
                guard case .text(let text)? = try await replies.next() else { Issue.record("no ack"); return }
                #expect(text.contains(#""type":"ack""#) && text.contains(#""seq":1"#), "\(text)")
                // Drawing and encoding 36 MP takes the worker seconds: stop it there; the render overruns.
                _ = try await Self.stopWorker(worker)
            }
            let deadline = ContinuousClock.now + .seconds(30)
            var metrics = ""
            while ContinuousClock.now < deadline, !metrics.contains(#"reason="render_fault""#) {
                metrics = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(metrics.contains(#"herd_frames_dropped_total{reason="render_fault"} 1"#), "\(metrics)")
            var headers = HTTPFields()
            headers[.authorization] = "Bearer \(fixture.admin)"
            let listing = try await client.execute(uri: "/api/v1/sessions?stream=\(fixture.stream)", method: .get, headers: headers) { String(buffer: $0.body) }
            #expect(listing.contains(#""frames":1"#), "\(listing)")
        }
    }

    @Test("a token whose frames keep costing workers is refused for a while (WebSocket and HTTP); others are not")
    func quarantine() async throws {
        let (fixture, worker) = try Self.oneWorker(deadline: Self.overrunDeadline) { $0.quarantineAfterFaults = 2 }
        defer { fixture.cleanUp() }
        let app = try buildApplication(configuration: fixture.configuration, logger: fixture.logger)
        let good = try SampleFrames.bytes("variants", "jpeg-420-baseline.jpg")
        try await app.test(.live) { client in
            try await client.ws("/api/v1/ingest", configuration: LiveStreamingTests.wsConfiguration(token: fixture.device)) { inbound, outbound, _ in
                var replies = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                for seq in [UInt64(1), 3] {
                    // A good frame starts a worker; stopped, it makes the next frame overrun.
                    try await outbound.write(try frame(fixture, seq: seq, good))
                    guard case .text(let ack)? = try await replies.next(), ack.contains(#""type":"ack""#) else { Issue.record("no ack"); return }
                    try await Self.waitUntilBusy(fixture, client: client, workers: 0)
                    _ = try await Self.stopWorker(worker)
                    try await outbound.write(try frame(fixture, seq: seq + 1, good))
                    guard case .text(let text)? = try await replies.next() else { Issue.record("no reply"); return }
                    #expect(try errorReply(text).code == "workerTimeout", "\(text)")
                }
                try await outbound.write(try frame(fixture, seq: 5, good))
                guard case .text(let text)? = try await replies.next() else { Issue.record("no reply"); return }
                let reply = try errorReply(text)
                #expect(reply.code == "quarantined" && reply.seq == 5 && reply.retryable, "\(text)")
            }
            var headers = HTTPFields()
            headers[.authorization] = "Bearer \(fixture.device)"
            headers[.contentType] = "multipart/form-data; boundary=herdlens-test-boundary"
            let metadata = WireJSON.encode(try fixture.header(seq: 6))
            let (status, body, retryAfter) = try await client.execute(
                uri: "/api/v1/streams/\(fixture.stream)/frames", method: .post, headers: headers,
                body: ByteBuffer(bytes: ServerFixture.multipart(metadata: metadata, image: good))
            ) { ($0.status, String(buffer: $0.body), $0.headers[.retryAfter].flatMap { Int($0) }) }
            #expect(status == .tooManyRequests && body.contains(#""code":"quarantined""#), "\(status) \(body)")
            #expect(retryAfter.map { (1...300).contains($0) } == true, "Retry-After: \(String(describing: retryAfter))")
            // Another device is not affected.
            try await client.ws("/api/v1/ingest", configuration: LiveStreamingTests.wsConfiguration(token: fixture.otherDevice)) { inbound, outbound, _ in
                var replies = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                try await outbound.write(try frame(fixture, seq: 1, good, stream: fixture.otherStream))
                guard case .text(let text)? = try await replies.next() else { Issue.record("no reply"); return }
                #expect(text.contains(#""type":"ack""#), "\(text)")
            }
        }
    }
}
