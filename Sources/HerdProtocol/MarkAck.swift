/// `{"type":"mark.ack","id"}`: a field device has shown a mark to its wearer (v1.4). `stream` is
/// optional: the server looks for the id on the streams the device's socket publishes to.
public struct MarkAck: Sendable, Hashable, Codable {
    public var type = "mark.ack"
    public var id: String
    public var stream: StreamID?

    public init(id: String, stream: StreamID? = nil) {
        self.id = id
        self.stream = stream
    }
}
