import Foundation
import HerdProtocol
import HerdRecording

/// A recorded session made up for benchmarks: `count` 720p frames cycling through `images`, captured
/// `1 / fps` apart and ending now, admitted like the accept stage admits them (256 unacknowledged at a
/// time). Returns the session id.
enum SyntheticSession {
    static func record(
        _ recorder: Recorder, stream: StreamID, count: Int, fps: Double, images: [[UInt8]], annotations: AnnotationSet, format: String? = nil
    ) async throws -> String {
        let base = Date().addingTimeInterval(-Double(count) / fps)
        var session = ""
        var pending: [Durability] = []
        for i in 0..<count {
            let captured = Timestamp(date: base.addingTimeInterval(Double(i) / fps))
            let header = WireJSON.encode(DeviceFrameHeader(stream: stream, seq: UInt64(i + 1), capturedAt: captured))
            let admission = await recorder.admit(FrameSubmission(
                stream: stream, seq: UInt64(i + 1), capturedAt: captured, receivedAt: captured, header: header, image: images[i % images.count],
                format: format, width: format == nil ? nil : 1280, height: format == nil ? nil : 720, annotations: annotations))
            guard case .recorded(let id, _, let durability) = admission else { throw SyntheticSessionError(frame: i) }
            session = id
            pending.append(durability)
            if pending.count >= 256 {
                for d in pending { try await d.wait() }
                pending.removeAll()
            }
        }
        for d in pending { try await d.wait() }
        return session
    }
}

struct SyntheticSessionError: Error, CustomStringConvertible {
    var frame: Int
    var description: String { "synthetic frame \(frame) was not recorded" }
}
