/// The server's answer to a session message: `{"type":"session","stream","action","session"}` with the
/// recording session it opened or closed (`session` absent for an `end` with none open).
public struct SessionReply: Sendable, Hashable, Codable {
    public var type = "session"
    public var stream: StreamID
    public var action: SessionMessage.Action
    public var session: String?
    public var consignment: Consignment?

    public init(stream: StreamID, action: SessionMessage.Action, session: String?, consignment: Consignment? = nil) {
        self.stream = stream
        self.action = action
        self.session = session
        self.consignment = consignment
    }
}
