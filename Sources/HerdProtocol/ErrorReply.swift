/// The server's answer to a refused message on a WebSocket: `{"type":"error","stream","seq","code","message"}`.
/// `stream` and `seq` are present when the header got far enough to name them.
public struct ErrorReply: Sendable, Hashable, Codable {
    public var type = "error"
    public var stream: String?
    public var seq: UInt64?
    public var code: String
    public var message: String

    public init(stream: String? = nil, seq: UInt64? = nil, code: String, message: String) {
        self.stream = stream
        self.seq = seq
        self.code = code
        self.message = message
    }
}
