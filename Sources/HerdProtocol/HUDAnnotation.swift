/// A heads-up strip across the top or bottom of the frame: ordered key/value pairs
/// (consignment, plate, count, temperature, seal, clock skew).
public struct HUDAnnotation: Sendable, Hashable, Codable {
    public enum Position: String, Sendable, Hashable, Codable, CaseIterable {
        case top, bottom
    }

    public struct Entry: Sendable, Hashable, Codable {
        public var key: String
        public var value: String

        public init(key: String, value: String) {
            self.key = key
            self.value = value
        }
    }

    public var position: Position?
    public var entries: [Entry]
    public var style: AnnotationStyle?
    /// Optional identity, stable across frames where the producer keeps it (`track-12`, `line-ramp`).
    public var id: String?
    /// Who made it; absent in payloads from before v1.3.
    public var source: AnnotationSource?

    public init(position: Position? = nil, entries: [Entry], style: AnnotationStyle? = nil) {
        self.position = position
        self.entries = entries
        self.style = style
    }
}
