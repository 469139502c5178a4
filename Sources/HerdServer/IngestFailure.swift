import HerdCodecs
import HerdIdentity
import HerdProtocol
import HerdRecording
import HerdWorker

/// Why a device message was refused: a stable code for the WebSocket error reply, the HTTP status the
/// same failure gets on the HTTP ingest route, and whether sending it again later may succeed.
struct IngestFailure: Error {
    var code: String
    var message: String
    var status: Int
    var stream: String?
    var seq: UInt64?
    /// When the same request may succeed again (HTTP `Retry-After`), if known.
    var retryAfterSeconds: Int?
    var retryable: Bool

    /// Codes a device should re-send later; every other refusal is final for that message.
    static let retryableCodes: Set<String> = [
        "rateLimited", "storageFull", "storage", "workerUnavailable", "workerRestarted", "quarantined", "tooManyStreams", "busy",
        "shuttingDown",
    ]

    init(code: String, message: String, status: Int, stream: String? = nil, seq: UInt64? = nil, retryAfterSeconds: Int? = nil) {
        self.code = code
        self.message = message
        self.status = status
        self.stream = stream
        self.seq = seq
        self.retryAfterSeconds = retryAfterSeconds
        retryable = Self.retryableCodes.contains(code)
    }

    init(_ error: ProtocolError, stream: String? = nil, seq: UInt64? = nil) {
        self.init(code: error.code, message: error.message, status: error == .headerTooLarge() ? 413 : 400, stream: stream, seq: seq)
    }

    init(_ error: CodecError, stream: String?, seq: UInt64?) {
        let status = switch error.code {
        case "tooLarge": 413
        case "empty", "unknownFormat": 415
        default: 400
        }
        self.init(code: error.code, message: error.message, status: status, stream: stream, seq: seq)
    }

    /// A worker that crashed or hung on the frame: 422 (this image cannot be processed); no worker to
    /// take it: 503 (try again).
    init(_ error: CodecWorkerError, stream: String?, seq: UInt64?) {
        self.init(code: error.code, message: error.message, status: error.isFault ? 422 : 503, stream: stream, seq: seq)
    }

    init(_ error: IdentityError, stream: String?, seq: UInt64?) {
        self.init(code: error.code, message: error.message, status: HerdServerError(error).status.code, stream: stream, seq: seq)
    }

    /// Storage full: 507; other storage failures 503; a seq recorded with other bytes 409.
    init(_ error: RecordingError, stream: String?, seq: UInt64?) {
        let status = switch error.code {
        case "storageFull": 507
        case "seqConflict": 409
        case "notFound": 404
        default: 503
        }
        self.init(code: error.code, message: error.message, status: status, stream: stream, seq: seq)
    }

    var reply: ErrorReply { ErrorReply(stream: stream, seq: seq, code: code, message: message, retryable: retryable) }
}
