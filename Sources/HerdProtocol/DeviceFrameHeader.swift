/// The JSON header of a frame a field device uploads (WebSocket envelope or HTTP `metadata` part).
/// `detections` are device-side boxes in the annotation model.
public struct DeviceFrameHeader: Sendable, Hashable, Codable {
    public var type = "frame"
    public var stream: StreamID
    /// Increases per stream; a re-sent seq is acknowledged as a duplicate and not processed twice.
    public var seq: UInt64
    public var capturedAt: Timestamp
    public var sensors: Sensors?
    public var detections: [BoxAnnotation]?

    public init(stream: StreamID, seq: UInt64, capturedAt: Timestamp, sensors: Sensors? = nil, detections: [BoxAnnotation]? = nil) {
        self.stream = stream
        self.seq = seq
        self.capturedAt = capturedAt
        self.sensors = sensors
        self.detections = detections
    }

    enum CodingKeys: String, CodingKey {
        case type, stream, seq, capturedAt, sensors, detections
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        type = try c.decode(String.self, forKey: .type)
        stream = try c.decode(StreamID.self, forKey: .stream)
        // Foundation reports a negative or oversized integer as unparseable JSON; name the field instead.
        guard c.contains(.seq) else {
            throw DecodingError.keyNotFound(CodingKeys.seq, .init(codingPath: c.codingPath, debugDescription: "missing seq"))
        }
        guard let seq = try? c.decode(UInt64.self, forKey: .seq) else {
            throw DecodingError.dataCorruptedError(forKey: .seq, in: c, debugDescription: "seq must be an integer in 0...18446744073709551615")
        }
        self.seq = seq
        capturedAt = try c.decode(Timestamp.self, forKey: .capturedAt)
        sensors = try c.decodeIfPresent(Sensors.self, forKey: .sensors)
        detections = try c.decodeIfPresent([BoxAnnotation].self, forKey: .detections)
    }

    /// Most detections accepted with one frame.
    public static let maxDetections = 500

    public func validate() throws(ProtocolError) {
        try sensors?.validate()
        if let detections {
            guard detections.count <= Self.maxDetections else {
                throw .invalidMessage("\(detections.count) detections, more than \(Self.maxDetections)")
            }
            let validator = AnnotationValidator(limits: AnnotationSet.Limits(), path: "detections")
            for box in detections {
                do {
                    try validator.validate(.box(box))
                } catch {
                    throw .invalidMessage(error.message)
                }
            }
        }
    }
}
