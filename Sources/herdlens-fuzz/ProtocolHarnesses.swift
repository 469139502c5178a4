import Foundation
import HerdProtocol

/// The JSON and envelope decoders of every message a device, viewer or auditor sends.
enum ProtocolHarnesses {
    /// `StrictJSON.check`, the strict pass over every device header. Checks: never crashes or overflows
    /// its stack (nesting is bounded); whatever it accepts, Foundation's JSONSerialization accepts too.
    static let strictJSON = Harness(name: "strict_json") { input in
        let bytes = Array(input)
        guard (try? StrictJSON.check(bytes)) != nil else { return }
        // Numbers are left out of the comparison: Foundation refuses some that RFC 8259 allows (1e400).
        if !bytes.contains(where: { (48...57).contains($0) }),
            (try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])) == nil
        {
            finding("StrictJSON accepted what JSONSerialization refuses: \(String(decoding: bytes, as: UTF8.self))")
        }
    }

    /// The first byte picks the entry point, the rest is the message:
    ///   0 Envelope.split then DeviceMessage.decode of its header (a device's binary frame message)
    ///   1 DeviceMessage.decode (a device's text message)   2 MarkAck.decode (device)
    ///   3 MarkRequest.decode   4 MarkClear.decode   5 AlertAckMessage   6 ViewerOptions (viewer socket)
    ///   7 ReplayCommand.decode (replay socket)   8 AnnotationSet.decode (annotations in a header)
    /// Checks: a refusal is a ProtocolError (or AnnotationError) with a message; an accepted device frame
    /// header re-encodes and decodes again.
    static let protocolMessages = Harness(name: "protocol_messages") { input in
        guard let selector = input.first else { return }
        let bytes = Array(input.dropFirst())
        do {
            switch selector % 9 {
            case 0:
                let (header, _) = try Envelope.split(bytes)
                if case .frame(let frame) = try DeviceMessage.decode(header) {
                    let again = try DeviceMessage.decode(WireJSON.encode(frame))
                    guard case .frame = again else { finding("a frame header re-decoded as \(again)") }
                }
            case 1: _ = try DeviceMessage.decode(bytes)
            case 2: _ = try MarkAck.decode(bytes)
            case 3: _ = try MarkRequest.decode(bytes)
            case 4: _ = try MarkClear.decode(bytes)
            case 5: _ = try WireJSON.decode(AlertAckMessage.self, from: bytes)
            case 6: _ = try WireJSON.decode(ViewerOptions.self, from: bytes)
            case 7: _ = try ReplayCommand.decode(bytes)
            default: _ = try AnnotationSet.decode(json: Data(bytes))
            }
        } catch let error as ProtocolError {
            if error.message.isEmpty { finding("a refusal without a message: \(error)") }
        } catch let error as AnnotationError {
            _ = "\(error)"
        } catch {
            finding("unexpected error type \(type(of: error)): \(error)")
        }
    }
}
