/// Sensor readings without a frame (`{"type":"telemetry",…}`), e.g. from a truck between uploads.
public struct TelemetryMessage: Sendable, Hashable, Codable {
    public var type = "telemetry"
    public var stream: StreamID
    public var capturedAt: Timestamp
    public var sensors: Sensors

    public init(stream: StreamID, capturedAt: Timestamp, sensors: Sensors) {
        self.stream = stream
        self.capturedAt = capturedAt
        self.sensors = sensors
    }
}
