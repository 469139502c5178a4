/// Anything a device sends, decoded by its `type`: a frame header (binary message), telemetry or a
/// session start/end (text messages).
public enum DeviceMessage: Sendable, Hashable {
    case frame(DeviceFrameHeader)
    case telemetry(TelemetryMessage)
    case session(SessionMessage)

    /// Decodes and validates one JSON header: a strict pass (well-formed, no duplicate key, bounded
    /// nesting) that also finds `type`, then one decode.
    public static func decode(_ json: some Collection<UInt8>) throws(ProtocolError) -> DeviceMessage {
        guard let type = try StrictJSON.check(json) else {
            throw .badJSON("a device message is a JSON object with a string 'type'")
        }
        switch type {
        case "frame":
            let header = try WireJSON.decode(DeviceFrameHeader.self, from: json)
            try header.validate()
            return .frame(header)
        case "telemetry":
            let message = try WireJSON.decode(TelemetryMessage.self, from: json)
            try message.sensors.validate()
            return .telemetry(message)
        case "session":
            let message = try WireJSON.decode(SessionMessage.self, from: json)
            try message.consignment?.validate()
            return .session(message)
        case let other:
            throw .unknownType("'\(other)' is not a device message (frame, telemetry, session)")
        }
    }

    public var stream: StreamID {
        switch self {
        case .frame(let h): h.stream
        case .telemetry(let t): t.stream
        case .session(let s): s.stream
        }
    }
}
