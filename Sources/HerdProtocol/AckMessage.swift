/// The server's answer to an accepted frame. `duplicate` is present (true) when the seq was seen before
/// and the frame was not processed again.
public struct AckMessage: Sendable, Hashable, Codable {
    public var type = "ack"
    public var stream: StreamID
    public var seq: UInt64
    public var duplicate: Bool?

    public init(stream: StreamID, seq: UInt64, duplicate: Bool = false) {
        self.stream = stream
        self.seq = seq
        self.duplicate = duplicate ? true : nil
    }
}
