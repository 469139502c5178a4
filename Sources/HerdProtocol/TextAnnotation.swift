/// Free text on a translucent plate; `at` is the plate's top-left corner.
public struct TextAnnotation: Sendable, Hashable, Codable {
    public var at: PixelPoint
    public var text: String
    public var style: AnnotationStyle?
    /// Optional identity, stable across frames where the producer keeps it (`track-12`, `line-ramp`).
    public var id: String?
    /// Who made it; absent in payloads from before v1.3.
    public var source: AnnotationSource?

    public init(at: PixelPoint, text: String, style: AnnotationStyle? = nil) {
        self.at = at
        self.text = text
        self.style = style
    }
}
