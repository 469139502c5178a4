import Foundation
import HerdAnalysis
import HerdCodecs
import HerdPipeline
import HerdProtocol
import HerdTesting
import HerdWorker
import NIOCore
import Logging
import Testing

@Suite("Stream pipeline", .timeLimit(.minutes(2)))
struct StreamPipelineTests {
    let stream = StreamID("farm-jx-017.cam-1")!
    /// Real codec worker processes (the built herdlens-codec-worker), ended when the test struct goes.
    let codecs = CodecWorkerPool(
        configuration: .init(executable: CodecWorkerPool.Configuration.defaultExecutable(), workers: 2), logger: Logger(label: "test"))

    func header(_ seq: UInt64, seal: Sensors.Seal.State = .locked, stream: StreamID? = nil) throws -> DeviceFrameHeader {
        DeviceFrameHeader(
            stream: stream ?? self.stream, seq: seq, capturedAt: try Timestamp(parsing: "2026-11-20T08:15:0\(seq % 10).250+08:00"),
            sensors: Sensors(truck: .init(temperatureC: 21.4, humidityPct: 66), seal: .init(id: "EL-1", state: seal),
                             consignment: Consignment(id: "HK-1", declaredHeadCount: 100, vehiclePlate: "粤B·12345")),
            detections: [BoxAnnotation(rect: PixelRect(x: 100, y: 100, width: 200, height: 150), objectClass: "pig", confidence: 0.9)])
    }

    /// The accept stage with a record step that keeps every frame.
    func ingest(_ pipeline: StreamPipeline, _ header: DeviceFrameHeader, image: [UInt8]) async throws {
        try await pipeline.accept(header, image: image, receivedAt: .now()) { _ in ((), .render) }
    }

    func drain(_ mailbox: ViewerMailbox, frames: Int) async -> (frames: [LiveFrame], events: [String]) {
        var got: [LiveFrame] = [], events: [String] = []
        while got.count < frames, let item = await mailbox.next() {
            switch item {
            case .frame(let f): got.append(f)
            case .event(let e): events.append(e)
            }
        }
        return (got, events)
    }

    @Test("frames are composed once, in order, with the HUD and the device's boxes; a skipped frame is not shown")
    func ingestAndBroadcast() async throws {
        let hub = LiveHub()
        let mailbox = ViewerMailbox()
        hub.subscribe(mailbox, to: [stream])
        let pipeline = StreamPipeline(stream: stream, hub: hub, codecs: codecs, logger: Logger(label: "test"))
        let image = try SampleFrames.bytes("frames", "pen-day-720p.jpg")
        // The record step sees the decoded image's size and the annotations it will keep.
        let seen: (Int, Int) = try await pipeline.accept(try header(1), image: image, receivedAt: .now()) { prepared in
            ((prepared.opened.displayWidth, prepared.annotations.items.count), .render)
        }
        #expect(seen.0 == 1280 && seen.1 >= 2)
        try await pipeline.accept(try header(2), image: image, receivedAt: .now()) { _ in ((), .skip) }
        await pipeline.renderIdle()
        let (frames, _) = await drain(mailbox, frames: 1)
        let frame = try #require(frames.first)
        #expect(frame.seq == 1 && frame.header.width == 1280 && frame.header.overlay)
        #expect(frame.header.annotations.contains { if case .box = $0 { true } else { false } })
        // v1.3 identity: the device's box (not yet a confirmed track) is the device's; the HUD is a rule's.
        #expect(frame.header.annotations.filter { $0.kind == "box" }.allSatisfy { $0.source == .device })
        #expect(frame.header.annotations.contains { $0.kind == "hud" && $0.id == "hud" && $0.source == .rule })
        let hud = frame.header.annotations.compactMap { if case .hud(let h) = $0 { h } else { nil } }.first
        #expect(hud?.entries.contains { $0.key == "Plate" && $0.value == "粤B·12345" } == true)
        #expect(hud?.entries.contains { $0.key == "Skew" } == true)
        // The shared message is the envelope of the annotated JPEG; the original is kept untouched.
        var message = frame.message
        let bytes = message.readBytes(length: message.readableBytes)!
        let (json, payload) = try Envelope.split(bytes)
        #expect(try WireJSON.decode(LiveFrameHeader.self, from: json).seq == 1)
        #expect(Array(payload) == frame.annotated && frame.original == image && frame.annotated != image)
    }

    @Test("a stream whose codec worker hangs in the middle of a frame does not hold up another stream")
    func isolation() async throws {
        let hub = LiveHub()
        let mailbox = ViewerMailbox()
        let other = StreamID("farm-jx-099.cam-1")!
        hub.subscribe(mailbox, to: [stream, other])
        // The other stream's only worker is stopped (SIGSTOP): its frame hangs inside the worker, holding
        // no thread of this process, as a huge frame or a slow disk must not.
        let stuckCodecs = CodecWorkerPool(
            configuration: .init(executable: CodecWorkerPool.Configuration.defaultExecutable(), workers: 1, deadline: .seconds(90)),
            logger: Logger(label: "test"))
        let stuck = StreamPipeline(stream: other, hub: hub, codecs: stuckCodecs, logger: Logger(label: "test"))
        let image = try SampleFrames.bytes("frames", "pen-night-720p.jpg")
        try await ingest(stuck, try header(1, stream: other), image: image)  // the worker runs
        let pid = try #require(stuckCodecs.workerPIDs.first ?? nil)
        kill(pid, SIGSTOP)
        defer { kill(pid, SIGCONT) }
        let blocked = Task { try await ingest(stuck, try header(2, stream: other), image: image) }
        let pipeline = StreamPipeline(stream: stream, hub: hub, codecs: codecs, logger: Logger(label: "test"))
        // While it hangs, this stream takes five frames and its viewer gets the newest. (Were the
        // streams not isolated this would wait until the deadline: the test then fails.)
        let newest = try await withThrowingTaskGroup(of: UInt64?.self) { group in
            group.addTask {
                for seq in UInt64(1)...5 { try await ingest(pipeline, try header(seq), image: image) }
                while let item = await mailbox.next() {
                    if case .frame(let frame) = item, frame.stream == stream, frame.seq == 5 { return 5 }
                }
                return nil
            }
            group.addTask {
                try await Task.sleep(for: .seconds(60))
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
        #expect(newest == 5, "the free stream was held up by the stuck one")
        kill(pid, SIGCONT)
        try await blocked.value
        stuckCodecs.shutdown()
    }

    @Test("a bad frame fails alone; the stream carries on")
    func badFrame() async throws {
        let hub = LiveHub()
        let pipeline = StreamPipeline(stream: stream, hub: hub, codecs: codecs, logger: Logger(label: "test"))
        let bad = try SampleFrames.bytes("malformed", "truncated--jpeg-half.jpg")
        await #expect(throws: CodecError.truncated()) { try await ingest(pipeline, try header(1), image: bad) }
        // Data that does not decode behind a good header is refused in the accept stage too.
        var cut = try SampleFrames.bytes("frames", "pen-night-720p.jpg")
        cut.replaceSubrange((cut.count / 2)..<(cut.count / 2 + 4000), with: [UInt8](repeating: 0xFF, count: 10))
        await #expect(throws: CodecError.self) { try await ingest(pipeline, try header(1), image: cut) }
        let good = try SampleFrames.bytes("frames", "pen-night-720p.jpg")
        try await ingest(pipeline, try header(1), image: good)
    }

    @Test("a seal opened after sealing raises one alert event (with the structured alert) and a banner on every frame while it lasts; open while loading is not an alert")
    func sealAlert() async throws {
        let hub = LiveHub()
        let mailbox = ViewerMailbox()
        hub.subscribe(mailbox, to: [stream])
        let pipeline = StreamPipeline(stream: stream, hub: hub, codecs: codecs, logger: Logger(label: "test"))
        let image = try SampleFrames.bytes("variants", "jpeg-420-baseline.jpg")
        try await ingest(pipeline, try header(1, seal: .open), image: image)  // loading: open is expected
        try await ingest(pipeline, try header(2, seal: .locked), image: image)  // the seal event
        try await ingest(pipeline, try header(3, seal: .open), image: image)
        try await ingest(pipeline, try header(4, seal: .open), image: image)
        await pipeline.renderIdle()  // the mailbox then holds the newest frame, which shows the banner
        let (frames, events) = await drain(mailbox, frames: 1)
        #expect(events.filter { $0.contains("seal.open") }.count == 1, "\(events)")
        #expect(events.contains { $0.contains(#""detail":{"#) && $0.contains(#""seq":3"#) })
        #expect(frames.last?.header.alerts.first?.code == "seal.open")
    }

    @Test("an acknowledgement made while a frame is being analysed is kept (the frame's copy of the analyser used to undo it)")
    func ackDuringAnalysis() async throws {
        let executor = AnalysisExecutor(threads: 1)
        let pipeline = StreamPipeline(stream: stream, hub: LiveHub(), codecs: codecs, logger: Logger(label: "test"), executor: executor)
        let image = try SampleFrames.bytes("variants", "jpeg-420-baseline.jpg")
        try await ingest(pipeline, try header(1, seal: .locked), image: image)  // the seal event
        try await ingest(pipeline, try header(2, seal: .open), image: image)  // seal.open raised
        let alert = try #require(await pipeline.analysisState.raised.first { $0.rule == "seal.open" })
        // The executor's only thread is held, so the next frame's analysis waits on it, in flight.
        let gate = Gate()
        let held = Task { await executor.run(for: stream) { gate.wait() } }
        let frame = Task { try await ingest(pipeline, try header(3, seal: .open), image: image) }
        let deadline = ContinuousClock.now + .seconds(30)
        while !(await pipeline.analysisInFlight.analysing) {
            guard ContinuousClock.now < deadline else { Issue.record("the frame never reached analysis"); gate.open(); return }
            try await Task.sleep(for: .milliseconds(5))
        }
        // The acknowledgement, while the analysis is held: it either waits for it (as it must) or is
        // applied at once (and then undone); the gate opens only after one or the other.
        let acked = Gate()
        let ack = Task {
            let result = await pipeline.acknowledge(alert: alert.id, by: "inspector:chan")
            acked.open()
            return result
        }
        while !acked.isOpen, await pipeline.analysisInFlight.waitingChanges == 0 {
            guard ContinuousClock.now < deadline else { Issue.record("the acknowledgement neither waited nor ended"); gate.open(); return }
            try await Task.sleep(for: .milliseconds(5))
        }
        gate.open()
        _ = await held.value
        try await frame.value
        #expect(await ack.value?.acknowledged?.by == "inspector:chan")
        #expect(await pipeline.analysisState.raised.first { $0.id == alert.id }?.acknowledged?.by == "inspector:chan")
    }

    @Test("frames wait for the recording to be read back, but not past the bound; a late read back is added to what was counted")
    func restoreBound() async throws {
        var config = AnalysisConfig()
        config.detector = .device
        config.lines = [CountingLine(id: "ramp", from: PixelPoint(x: 640, y: 720), to: PixelPoint(x: 640, y: 0))]
        let pipeline = StreamPipeline(
            stream: stream, hub: LiveHub(), codecs: codecs, logger: Logger(label: "test"), analysis: config, awaitsRestore: true,
            restoreWait: .milliseconds(300))
        let image = try SampleFrames.bytes("frames", "pen-day-720p.jpg")
        // Nobody reads the recording back: the frame goes on after the bound.
        let started = ContinuousClock.now
        try await ingest(pipeline, try header(1), image: image)
        #expect(ContinuousClock.now - started >= .milliseconds(300))
        #expect(await pipeline.analysisState.counts["ramp"] == 0)
        // The read back comes late: its two recorded crossings are added to the count.
        await pipeline.restore(StreamPipeline.Restored(
            session: "s-1", consignment: nil,
            crossings: [Crossing(line: "ramp", trackId: 4, direction: .in, seq: 10), Crossing(line: "ramp", trackId: 5, direction: .in, seq: 20)],
            sealed: false, nextTrackID: 6))
        #expect(await pipeline.analysisState.counts["ramp"] == 2)
    }

    /// A latch a blocking job waits on (on the executor's own thread, never the cooperative pool).
    final class Gate: @unchecked Sendable {
        private let condition = NSCondition()
        private var opened = false
        var isOpen: Bool {
            condition.lock()
            defer { condition.unlock() }
            return opened
        }
        func wait() {
            condition.lock()
            while !opened { condition.wait() }
            condition.unlock()
        }
        func open() {
            condition.lock()
            opened = true
            condition.broadcast()
            condition.unlock()
        }
    }

    @Test("viewer variants: original without overlay, and scaled down once per size")
    func variants() async throws {
        let hub = LiveHub()
        let mailbox = ViewerMailbox()
        hub.subscribe(mailbox, to: [stream])
        let pipeline = StreamPipeline(stream: stream, hub: hub, codecs: codecs, logger: Logger(label: "test"))
        let image = try SampleFrames.bytes("frames", "pen-day-720p.jpg")
        try await ingest(pipeline, try header(1), image: image)
        let frame = try #require(await drain(mailbox, frames: 1).frames.first)
        func decode(_ buffer: ByteBufferView) throws -> (LiveFrameHeader, [UInt8]) {
            let (json, payload) = try Envelope.split(Array(buffer))
            return (try WireJSON.decode(LiveFrameHeader.self, from: json), Array(payload))
        }
        let (plain, original) = try decode(await frame.message(overlay: false, maxWidth: nil).readableBytesView)
        #expect(!plain.overlay && original == image)
        let small = await frame.message(overlay: true, maxWidth: 640)
        let (scaled, jpeg) = try decode(small.readableBytesView)
        #expect(scaled.width == 640 && scaled.height == 360)
        #expect(try JPEGDecoder().readInfo(jpeg).width == 640)
        #expect(await frame.message(overlay: true, maxWidth: 640) == small, "built once, then shared")
        // Asked for once, the variant comes with the next frames from the same worker round trip.
        try await ingest(pipeline, try header(2), image: image)
        let next = try #require(await drain(mailbox, frames: 1).frames.first)
        #expect(next.builtVariants == [VariantSpec(overlay: true, maxWidth: 640)])
        let (nextScaled, _) = try decode(await next.message(overlay: true, maxWidth: 640).readableBytesView)
        #expect(nextScaled.width == 640 && nextScaled.seq == 2)
    }
}
