/// Why a codec worker did not answer a request. The `code` is stable: the protocol sends it to devices
/// (an error reply naming the frame's seq), and tests assert on it.
public struct CodecWorkerError: Error, Equatable, CustomStringConvertible {
    private enum Internal: String, Equatable {
        /// The worker died on this request (a signal, runaway memory, an exit).
        case workerCrashed
        /// The worker took longer than the deadline and was killed.
        case workerTimeout
        /// No worker could take the request: all are busy past their queue bound, or none starts.
        case workerUnavailable
        /// The worker holding the image restarted (another request crashed it); open the image again.
        case workerRestarted
    }

    private let value: Internal
    public let message: String

    private init(_ value: Internal, _ message: String) {
        self.value = value
        self.message = message
    }

    public static func == (a: CodecWorkerError, b: CodecWorkerError) -> Bool { a.value == b.value }

    public static func crashed(_ message: String = "the codec worker crashed on this image") -> Self { .init(.workerCrashed, message) }
    public static func timedOut(_ message: String = "the codec worker took too long on this image") -> Self { .init(.workerTimeout, message) }
    public static func unavailable(_ message: String = "no codec worker is available") -> Self { .init(.workerUnavailable, message) }
    public static func restarted(_ message: String = "the codec worker holding this image restarted") -> Self { .init(.workerRestarted, message) }

    public var code: String { value.rawValue }
    public var description: String { "\(code): \(message)" }

    /// True for faults this request's own bytes may have caused (a crash or a hang while processing it).
    public var isFault: Bool { value == .workerCrashed || value == .workerTimeout }
}
