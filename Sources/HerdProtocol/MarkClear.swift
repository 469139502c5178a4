/// `{"type":"mark.clear","id"}`: an inspector removes a mark (v1.4). The server sends the same message
/// to the field device, with `stream`, `reason` (`inspector`, `expired`, `trackEnded`) and `by`.
public struct MarkClear: Sendable, Hashable, Codable {
    /// Why a mark ended.
    public enum Reason: String, Sendable, Hashable, Codable {
        case inspector, expired, trackEnded
    }

    public var type = "mark.clear"
    public var id: String
    public var stream: StreamID?
    public var reason: Reason?
    public var by: String?

    /// Decodes strictly (no key twice, bounded nesting), as `MarkRequest.decode` does, and checks the id.
    public static func decode(_ json: some Collection<UInt8>) throws(ProtocolError) -> MarkClear {
        guard try StrictJSON.check(json) == "mark.clear" else { throw .badJSON("mark.clear is a JSON object with \"type\":\"mark.clear\"") }
        let clear = try WireJSON.decode(MarkClear.self, from: json)
        try MarkRequest.validate(id: clear.id)
        return clear
    }

    public init(id: String, stream: StreamID? = nil, reason: Reason? = nil, by: String? = nil) {
        self.id = id
        self.stream = stream
        self.reason = reason
        self.by = by
    }
}
