/// `{"type":"mark.ack","id"}`: a field device has shown a mark to its wearer (v1.4). `stream` is
/// optional: the server looks for the id on the streams the device's socket publishes to.
public struct MarkAck: Sendable, Hashable, Codable {
    public var type = "mark.ack"
    public var id: String
    public var stream: StreamID?

    /// Decodes strictly (no key twice, bounded nesting) and checks the id.
    public static func decode(_ json: some Collection<UInt8>) throws(ProtocolError) -> MarkAck {
        guard try StrictJSON.check(json) == "mark.ack" else { throw .badJSON("mark.ack is a JSON object with \"type\":\"mark.ack\"") }
        let ack = try WireJSON.decode(MarkAck.self, from: json)
        try MarkRequest.validate(id: ack.id)
        return ack
    }

    public init(id: String, stream: StreamID? = nil) {
        self.id = id
        self.stream = stream
    }
}
