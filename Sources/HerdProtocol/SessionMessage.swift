/// A device starts or ends a supervision session (one loading) on a stream.
public struct SessionMessage: Sendable, Hashable, Codable {
    public enum Action: String, Sendable, Hashable, Codable, CaseIterable {
        case start, end
    }

    public var type = "session"
    public var stream: StreamID
    public var action: Action
    public var consignment: Consignment?

    public init(stream: StreamID, action: Action, consignment: Consignment? = nil) {
        self.stream = stream
        self.action = action
        self.consignment = consignment
    }
}
