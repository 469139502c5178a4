import HerdRecording

/// The `recording` object of a server configuration file; every field optional (see docs/recording.md).
public struct RecordingSettings: Sendable, Codable, Hashable {
    public var keyPath: String?
    public var commitWindowSeconds: Double?
    public var segmentMaxBytes: Int64?
    public var segmentMaxSeconds: Double?
    public var checkpointSeconds: Double?
    public var sessionIdleSeconds: Double?
    public var lateAfterSeconds: Double?
    public var addendumLimitSeconds: Double?
    public var retentionDays: Double?
    public var streamRetentionDays: [String: Double]?
    public var maxBytes: Int64?
    public var minFreeBytes: Int64?
    public var housekeepingSeconds: Double?

    public init() {}

    func apply(to c: inout RecorderConfiguration) {
        if let keyPath { c.keyPath = keyPath }
        if let commitWindowSeconds { c.commitWindowSeconds = commitWindowSeconds }
        if let segmentMaxBytes { c.segmentMaxBytes = segmentMaxBytes }
        if let segmentMaxSeconds { c.segmentMaxSeconds = segmentMaxSeconds }
        if let checkpointSeconds { c.checkpointSeconds = checkpointSeconds }
        if let sessionIdleSeconds { c.sessionIdleSeconds = sessionIdleSeconds }
        if let lateAfterSeconds { c.lateAfterSeconds = lateAfterSeconds }
        if let addendumLimitSeconds { c.addendumLimitSeconds = addendumLimitSeconds }
        if let retentionDays { c.retentionDays = retentionDays }
        if let streamRetentionDays { c.streamRetentionDays = streamRetentionDays }
        if let maxBytes { c.maxBytes = maxBytes }
        if let minFreeBytes { c.minFreeBytes = minFreeBytes }
        if let housekeepingSeconds { c.housekeepingSeconds = housekeepingSeconds }
    }
}

/// A configuration value refused at start.
public struct ConfigurationError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { "invalid configuration: \(message)" }
}
