// libFuzzer harness for every decoder of client bytes in HerdProtocol, built by
// scripts/fuzz.sh protocol_messages: swiftc -sanitize=fuzzer,address over all of Sources/HerdProtocol.
// The first byte picks the entry point, the rest is the message:
//   0 Envelope.split then DeviceMessage.decode of its header (a device's binary frame message)
//   1 DeviceMessage.decode (a device's text message)   2 MarkAck.decode (device)
//   3 MarkRequest.decode   4 MarkClear.decode   5 AlertAckMessage   6 ViewerOptions (viewer socket)
//   7 ReplayCommand.decode (replay socket)   8 AnnotationSet.decode (annotations in a header)
// Checks: never crashes, traps or overflows its stack, whatever the bytes; a refusal is a ProtocolError
// (or AnnotationError) with a message; an accepted device frame header re-encodes and decodes again.
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 0 else { return 0 }
    let selector = data[0] % 9
    let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    do {
        switch selector {
        case 0:
            let (header, _) = try Envelope.split(bytes)
            if case .frame(let frame) = try DeviceMessage.decode(header) {
                let again = try DeviceMessage.decode(WireJSON.encode(frame))
                guard case .frame = again else { fatalError("a frame header re-decoded as \(again)") }
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
        if error.message.isEmpty { fatalError("a refusal without a message: \(error)") }
    } catch let error as AnnotationError {
        _ = "\(error)"
    } catch {
        fatalError("unexpected error type \(type(of: error)): \(error)")
    }
    return 0
}
