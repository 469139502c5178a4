/// The server's answer to a refused message on a WebSocket:
/// `{"type":"error","stream","seq","code","message","retryable"}`. `stream` and `seq` are present when
/// the header got far enough to name them (every refusal of a frame names both).
public struct ErrorReply: Sendable, Hashable, Codable {
    public var type = "error"
    public var stream: String?
    public var seq: UInt64?
    public var code: String
    public var message: String
    /// True when the same message may succeed if sent again later (rate, storage, no worker free): a
    /// device keeps the frame and re-sends it. False when it never will (a bad image, a conflict).
    public var retryable: Bool

    public init(stream: String? = nil, seq: UInt64? = nil, code: String, message: String, retryable: Bool = false) {
        self.stream = stream
        self.seq = seq
        self.code = code
        self.message = message
        self.retryable = retryable
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        stream = try c.decodeIfPresent(String.self, forKey: .stream)
        seq = try c.decodeIfPresent(UInt64.self, forKey: .seq)
        code = try c.decode(String.self, forKey: .code)
        message = try c.decode(String.self, forKey: .message)
        retryable = try c.decodeIfPresent(Bool.self, forKey: .retryable) ?? false
    }

    private enum CodingKeys: String, CodingKey { case type, stream, seq, code, message, retryable }
}
