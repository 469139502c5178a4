/// `{"type":"alert.ack","id":…}`: an inspector acknowledges an alert on the live socket.
public struct AlertAckMessage: Sendable, Hashable, Codable {
    public var type = "alert.ack"
    public var id: String

    public init(id: String) {
        self.id = id
    }
}
