/// Free text on a translucent plate; `at` is the plate's top-left corner.
public struct TextAnnotation: Sendable, Hashable, Codable {
    public var at: PixelPoint
    public var text: String
    public var style: AnnotationStyle?

    public init(at: PixelPoint, text: String, style: AnnotationStyle? = nil) {
        self.at = at
        self.text = text
        self.style = style
    }
}
