import Foundation
import HerdCodecs
import HerdImaging
import HerdProtocol
import HerdServer
import HerdTesting
import Hummingbird
import HummingbirdTesting
import HummingbirdWSTesting
import NIOCore
import Testing
import WSClient

/// Each stream has its own pipeline: one busy with a slow frame and broken ones does not disturb another.
/// (That one never waits for the other is shown deterministically in `StreamPipelineTests.isolation`;
/// here both run side by side over real sockets.)
@Suite("Stream isolation", .timeLimit(.minutes(3)))
struct StreamIsolationTests {
    @Test("while one stream decodes a 36 MP frame and refuses broken ones, another is acknowledged and delivered in full")
    func slowAndBrokenStreamDoesNotDelayAnother() async throws {
        // The slow frame must be composed, not refused for overrunning the codec worker's deadline on a
        // loaded machine.
        var configured = try ServerFixture.unthrottled { $0.codecWorkerDeadlineSeconds = 120 }
        let worker = try CodecWorkerFaultTests.privateWorker(in: configured)
        configured.configuration.codecWorkerExecutable = worker
        let fixture = configured
        defer { fixture.cleanUp() }
        let app = try buildApplication(configuration: fixture.configuration, logger: fixture.logger)
        // A valid frame that is slow on purpose: 6000x6000 (36 MP, under the 40 MP limit) as PNG, which
        // takes the full decode-draw-encode path, with 8 large filled, labelled detections.
        let slow = try PNGEncoder().encode(PixelBuffer(width: 6000, height: 6000, format: .rgb, fill: Color(red: 90, green: 110, blue: 70)), fast: true)
        let style = AnnotationStyle(stroke: "#FF3B30", fill: "#FF3B3040", strokeWidth: 12, fontSize: 48)
        let boxes = (0..<8).map { i in
            BoxAnnotation(rect: PixelRect(x: Double(i % 8) * 550, y: Double(i / 8) * 900, width: 1500, height: 1200), label: "pig \(i)", style: style)
        }
        var header = try fixture.header(seq: 1, stream: fixture.otherStream)
        header.detections = boxes
        let slowHeader = header
        let good = try SampleFrames.bytes("variants", "jpeg-420-baseline.jpg")
        let count: UInt64 = 6
        let slowSent = LiveStreamingTests.Signal(), viewerReady = LiveStreamingTests.Signal(), viewerDone = LiveStreamingTests.Signal()
        try await app.test(.live) { client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                // Stream B: the slow frame, then every malformed sample; all answered, in order.
                group.addTask {
                    try await client.ws("/api/v1/ingest", configuration: LiveStreamingTests.wsConfiguration(token: fixture.otherDevice)) { inbound, outbound, _ in
                        var replies = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                        try await outbound.write(.binary(ByteBuffer(bytes: Envelope.encode(header: slowHeader, payload: slow))))
                        for name in SampleFrames.malformedNames {
                            try await outbound.write(.binary(ByteBuffer(bytes: Envelope.encode(
                                header: try fixture.header(seq: 2, stream: fixture.otherStream), payload: try SampleFrames.bytes("malformed", name)))))
                        }
                        slowSent.fire()
                        guard case .text(let first)? = try await replies.next() else { Issue.record("no reply to the slow frame"); return }
                        #expect(first.contains(#""type":"ack""#), "\(first)")
                        for name in SampleFrames.malformedNames {
                            guard case .text(let text)? = try await replies.next() else { Issue.record("no reply to \(name)"); return }
                            #expect(text.contains(#""type":"error""#), "\(name): \(text)")
                        }
                    }
                }
                // Stream A's viewer: frames in order, up to the last of the six.
                group.addTask {
                    try await client.ws("/api/v1/live?stream=\(fixture.stream)", configuration: LiveStreamingTests.wsConfiguration(token: fixture.inspector)) { inbound, outbound, _ in
                        defer { viewerDone.fire() }
                        viewerReady.fire()
                        var seqs: [UInt64] = []
                        for try await message in inbound.messages(maxSize: 16 << 20) {
                            guard case .binary(var buffer) = message else { continue }
                            let (json, _) = try Envelope.split(buffer.readBytes(length: buffer.readableBytes)!)
                            seqs.append(try WireJSON.decode(LiveFrameHeader.self, from: json).seq)
                            if seqs.last! >= count { break }
                        }
                        #expect(seqs.last.map { $0 >= count } == true && seqs == seqs.sorted() && Set(seqs).count == seqs.count, "\(seqs)")
                        try await outbound.close(.normalClosure, reason: nil)
                    }
                }
                // Stream A's device starts once B's slow frame is on its way, waiting for each ack.
                try await slowSent.wait()
                try await viewerReady.wait()
                _ = try await CodecWorkerFaultTests.workerInsideSlowFrame(worker)
                try await client.ws("/api/v1/ingest", configuration: LiveStreamingTests.wsConfiguration(token: fixture.device)) { inbound, outbound, _ in
                    var replies = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
                    for seq in 1...count {
                        try await outbound.write(.binary(ByteBuffer(bytes: Envelope.encode(header: try fixture.header(seq: seq), payload: good))))
                        guard case .text(let text)? = try await replies.next() else { Issue.record("A: no ack"); return }
                        #expect(text.contains(#""type":"ack""#))
                    }
                    // The viewer's client may hear of its upgrade a moment before the server subscribes it:
                    // frames go on until it has seen the last (bounded for a broken server).
                    for seq in (count + 1)...(count + 300) where !viewerDone.isFired {
                        try await Task.sleep(for: .milliseconds(20))
                        try await outbound.write(.binary(ByteBuffer(bytes: Envelope.encode(header: try fixture.header(seq: seq), payload: good))))
                        _ = try await replies.next()
                    }
                }
                try await group.waitForAll()
            }
        }
    }
}
