import HerdOverlay
import Foundation
import HerdCodecs
import HerdRecording
import HerdWorker

/// Everything `herdlens serve` can set; defaults are the documented limits.
public struct ServerConfiguration: Sendable, Codable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// Holds identity.sqlite (and recordings, with the recording issue).
    public var dataDirectory = "data"
    /// Largest image accepted (bytes) and largest decoded size.
    public var maxImageBytes = 8 * 1024 * 1024
    public var maxImagePixels = 40_000_000
    /// Largest JSON header of an envelope or metadata part.
    public var maxHeaderBytes = 64 * 1024
    /// HTTP uploads per second a device token may make on average, and the burst it may save up.
    public var framesPerSecondPerDevice = 30.0
    public var frameBurst = 60.0
    /// Frames one ingest socket may have unacknowledged; past it the server stops reading that socket.
    public var maxFramesInFlight = 32
    /// Bytes per second one ingest socket is read at on average, and the burst (a device catching up
    /// after an outage is paced to this, never refused).
    public var bytesPerSecondPerDevice = 64.0 * 1024 * 1024
    public var byteBurst = 32.0 * 1024 * 1024
    /// A stream fed over HTTP counts as online this long after its last upload.
    public var httpOnlineSeconds = 10.0
    /// A stream's pipeline is released after this long without frames (its state is rebuilt on the next).
    public var pipelineIdleSeconds = 300.0
    /// Evidence recording (docs/recording.md).
    public var recording = RecordingSettings()
    /// Refused messages in a row after which a flooding device is disconnected (close 1008).
    public var floodDisconnectAfter = 200
    /// Open WebSockets per token.
    public var maxSocketsPerToken = 8
    /// Streams live at once (each has its own pipeline).
    public var maxStreams = 256
    /// A viewer whose socket accepts nothing for this long is closed.
    public var viewerWriteTimeoutSeconds = 10.0
    /// How often the server looks for revoked or expired tokens that still hold sockets or sessions.
    public var tokenCheckSeconds = 2.0
    /// A connection that has not sent a whole request head this long after opening (or after its
    /// previous response) is closed: `408` when part of a head came, silently when nothing did.
    public var requestHeadTimeoutSeconds = 10.0
    /// Every WebSocket is pinged this often; one that has not answered the previous ping by the next is
    /// closed. It ends sockets whose peer is gone, and a device stuck half way through a frame (slowloris).
    public var webSocketPingSeconds = 30.0
    /// Codec worker processes that parse, compose and encode device images (one per core, 2 to 8).
    public var codecWorkers = min(8, max(2, ProcessInfo.processInfo.activeProcessorCount))
    /// A codec worker that takes longer than this on one image is killed and the frame refused.
    public var codecWorkerDeadlineSeconds = 10.0
    /// Address-space limit of each codec worker.
    public var codecWorkerMemoryMB = 2048
    /// The `herdlens-codec-worker` executable; by default the one beside `herdlens`.
    public var codecWorkerExecutable: String?
    /// A device token whose frames crash or hang codec workers this many times within
    /// `quarantineWindowSeconds` has its frames refused (`quarantined`) for `quarantineSeconds`.
    public var quarantineAfterFaults = 3
    public var quarantineWindowSeconds = 600.0
    public var quarantineSeconds = 300.0
    /// Inputs that crashed or hung a worker, kept in `<dataDirectory>/forensics` (oldest removed first).
    public var forensicsMaxFiles = 64
    public var forensicsMaxBytes = 256 * 1024 * 1024

    /// Inspector marks (v1.4): live marks per stream, and marks (and clears) a second per live socket
    /// on average, with bursts of `markBurst`.
    public var maxMarksPerStream = 32
    public var marksPerSecondPerSocket = 10.0
    public var markBurst = 20.0

    public init() {}

    /// Refuses values that would misbehave: a zero or negative interval, limit or rate.
    public func validate() throws {
        let positive: [(String, Double)] = [
            ("maxImageBytes", Double(maxImageBytes)), ("maxImagePixels", Double(maxImagePixels)), ("maxHeaderBytes", Double(maxHeaderBytes)),
            ("framesPerSecondPerDevice", framesPerSecondPerDevice), ("frameBurst", frameBurst), ("maxFramesInFlight", Double(maxFramesInFlight)),
            ("bytesPerSecondPerDevice", bytesPerSecondPerDevice), ("byteBurst", byteBurst), ("floodDisconnectAfter", Double(floodDisconnectAfter)),
            ("maxSocketsPerToken", Double(maxSocketsPerToken)), ("maxStreams", Double(maxStreams)),
            ("viewerWriteTimeoutSeconds", viewerWriteTimeoutSeconds), ("tokenCheckSeconds", tokenCheckSeconds),
            ("requestHeadTimeoutSeconds", requestHeadTimeoutSeconds), ("webSocketPingSeconds", webSocketPingSeconds), ("codecWorkers", Double(codecWorkers)),
            ("codecWorkerDeadlineSeconds", codecWorkerDeadlineSeconds), ("codecWorkerMemoryMB", Double(codecWorkerMemoryMB)),
            ("quarantineAfterFaults", Double(quarantineAfterFaults)), ("quarantineWindowSeconds", quarantineWindowSeconds),
            ("quarantineSeconds", quarantineSeconds), ("httpOnlineSeconds", httpOnlineSeconds), ("pipelineIdleSeconds", pipelineIdleSeconds),
            ("maxMarksPerStream", Double(maxMarksPerStream)), ("marksPerSecondPerSocket", marksPerSecondPerSocket), ("markBurst", markBurst),
        ]
        for (name, value) in positive where !(value > 0) || !value.isFinite {
            throw ConfigurationError(message: "\(name) must be a positive number, not \(value)")
        }
        // Intervals that become timers: under 10 ms is a busy loop in all but name.
        let intervals: [(String, Double)] = [
            ("tokenCheckSeconds", tokenCheckSeconds), ("requestHeadTimeoutSeconds", requestHeadTimeoutSeconds),
            ("viewerWriteTimeoutSeconds", viewerWriteTimeoutSeconds), ("pipelineIdleSeconds", pipelineIdleSeconds),
            ("codecWorkerDeadlineSeconds", codecWorkerDeadlineSeconds), ("webSocketPingSeconds", webSocketPingSeconds),
        ]
        for (name, value) in intervals where value < 0.01 {
            throw ConfigurationError(message: "\(name) must be at least 0.01 seconds, not \(value)")
        }
        guard byteBurst >= Double(maxImageBytes + maxHeaderBytes) else {
            throw ConfigurationError(message: "byteBurst must hold at least one whole message (maxImageBytes + maxHeaderBytes)")
        }
        do throws(RecordingError) {
            try recorderConfiguration.validate()
        } catch {
            throw ConfigurationError(message: error.message)
        }
    }

    /// The recorder's configuration under this data directory.
    public var recorderConfiguration: RecorderConfiguration {
        var c = RecorderConfiguration(dataDirectory: dataDirectory)
        recording.apply(to: &c)
        c.renderer = OverlayRenderer.version
        return c
    }

    /// Every field is optional in a configuration file; missing ones keep their defaults.
    public init(from decoder: any Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        host = try c.decodeIfPresent(String.self, forKey: .host) ?? host
        port = try c.decodeIfPresent(Int.self, forKey: .port) ?? port
        webSocketPingSeconds = try c.decodeIfPresent(Double.self, forKey: .webSocketPingSeconds) ?? webSocketPingSeconds
        dataDirectory = try c.decodeIfPresent(String.self, forKey: .dataDirectory) ?? dataDirectory
        maxImageBytes = try c.decodeIfPresent(Int.self, forKey: .maxImageBytes) ?? maxImageBytes
        maxImagePixels = try c.decodeIfPresent(Int.self, forKey: .maxImagePixels) ?? maxImagePixels
        maxHeaderBytes = try c.decodeIfPresent(Int.self, forKey: .maxHeaderBytes) ?? maxHeaderBytes
        framesPerSecondPerDevice = try c.decodeIfPresent(Double.self, forKey: .framesPerSecondPerDevice) ?? framesPerSecondPerDevice
        frameBurst = try c.decodeIfPresent(Double.self, forKey: .frameBurst) ?? frameBurst
        floodDisconnectAfter = try c.decodeIfPresent(Int.self, forKey: .floodDisconnectAfter) ?? floodDisconnectAfter
        maxSocketsPerToken = try c.decodeIfPresent(Int.self, forKey: .maxSocketsPerToken) ?? maxSocketsPerToken
        maxStreams = try c.decodeIfPresent(Int.self, forKey: .maxStreams) ?? maxStreams
        viewerWriteTimeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .viewerWriteTimeoutSeconds) ?? viewerWriteTimeoutSeconds
        tokenCheckSeconds = try c.decodeIfPresent(Double.self, forKey: .tokenCheckSeconds) ?? tokenCheckSeconds
        requestHeadTimeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .requestHeadTimeoutSeconds) ?? requestHeadTimeoutSeconds
        codecWorkers = try c.decodeIfPresent(Int.self, forKey: .codecWorkers) ?? codecWorkers
        codecWorkerDeadlineSeconds = try c.decodeIfPresent(Double.self, forKey: .codecWorkerDeadlineSeconds) ?? codecWorkerDeadlineSeconds
        codecWorkerMemoryMB = try c.decodeIfPresent(Int.self, forKey: .codecWorkerMemoryMB) ?? codecWorkerMemoryMB
        codecWorkerExecutable = try c.decodeIfPresent(String.self, forKey: .codecWorkerExecutable) ?? codecWorkerExecutable
        quarantineAfterFaults = try c.decodeIfPresent(Int.self, forKey: .quarantineAfterFaults) ?? quarantineAfterFaults
        quarantineWindowSeconds = try c.decodeIfPresent(Double.self, forKey: .quarantineWindowSeconds) ?? quarantineWindowSeconds
        quarantineSeconds = try c.decodeIfPresent(Double.self, forKey: .quarantineSeconds) ?? quarantineSeconds
        forensicsMaxFiles = try c.decodeIfPresent(Int.self, forKey: .forensicsMaxFiles) ?? forensicsMaxFiles
        forensicsMaxBytes = try c.decodeIfPresent(Int.self, forKey: .forensicsMaxBytes) ?? forensicsMaxBytes
        recording = try c.decodeIfPresent(RecordingSettings.self, forKey: .recording) ?? recording
        pipelineIdleSeconds = try c.decodeIfPresent(Double.self, forKey: .pipelineIdleSeconds) ?? pipelineIdleSeconds
        httpOnlineSeconds = try c.decodeIfPresent(Double.self, forKey: .httpOnlineSeconds) ?? httpOnlineSeconds
        byteBurst = try c.decodeIfPresent(Double.self, forKey: .byteBurst) ?? byteBurst
        bytesPerSecondPerDevice = try c.decodeIfPresent(Double.self, forKey: .bytesPerSecondPerDevice) ?? bytesPerSecondPerDevice
        maxFramesInFlight = try c.decodeIfPresent(Int.self, forKey: .maxFramesInFlight) ?? maxFramesInFlight
        maxMarksPerStream = try c.decodeIfPresent(Int.self, forKey: .maxMarksPerStream) ?? maxMarksPerStream
        marksPerSecondPerSocket = try c.decodeIfPresent(Double.self, forKey: .marksPerSecondPerSocket) ?? marksPerSecondPerSocket
        markBurst = try c.decodeIfPresent(Double.self, forKey: .markBurst) ?? markBurst
    }

    var decodeLimits: DecodeLimits {
        DecodeLimits(maxPixels: maxImagePixels, maxDimension: 65_500, maxBytes: maxImageBytes)
    }

    public var codecWorkerConfiguration: CodecWorkerPool.Configuration {
        CodecWorkerPool.Configuration(
            executable: codecWorkerExecutable ?? CodecWorkerPool.Configuration.defaultExecutable(), workers: codecWorkers,
            deadline: .milliseconds(Int(codecWorkerDeadlineSeconds * 1000)), memoryLimitMB: codecWorkerMemoryMB,
            limits: decodeLimits)
    }
}
