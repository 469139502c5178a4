/// A text message to inspectors: `stream.online`, `stream.offline`, `session.start`, `session.end`, or
/// `alert` (with the alert). Events are never dropped to make room for pixels.
public struct LiveEvent: Sendable, Hashable, Codable {
    public var type = "event"
    public var event: String
    public var stream: StreamID
    public var at: Timestamp
    public var alert: AlertAnnotation?
    public var consignment: Consignment?
    /// The recording session a `session.start` or `session.end` opened or closed.
    public var session: String?

    public init(event: String, stream: StreamID, at: Timestamp, alert: AlertAnnotation? = nil, consignment: Consignment? = nil, session: String? = nil) {
        self.session = session
        self.event = event
        self.stream = stream
        self.at = at
        self.alert = alert
        self.consignment = consignment
    }
}
