/// What a viewer asks of its live feed: `{"type":"options","maxWidth":640}` (frames scaled down, once
/// per distinct size, shared by every viewer asking for it) and/or `{"overlay":false}` (original JPEG
/// plus annotation data, for drawing on the client). Fields left out keep their current value.
public struct ViewerOptions: Sendable, Hashable, Codable {
    public var type = "options"
    public var maxWidth: Int?
    public var overlay: Bool?

    public init(maxWidth: Int? = nil, overlay: Bool? = nil) {
        self.maxWidth = maxWidth
        self.overlay = overlay
    }

    public func validate() throws(ProtocolError) {
        if let maxWidth, !(16...7680).contains(maxWidth) { throw .invalidMessage("maxWidth must be 16...7680") }
    }
}
