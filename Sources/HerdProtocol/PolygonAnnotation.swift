/// A zone: a closed polygon with a translucent fill and an outline.
public struct PolygonAnnotation: Sendable, Hashable, Codable {
    public var points: [PixelPoint]
    public var label: String?
    public var style: AnnotationStyle?

    public init(points: [PixelPoint], label: String? = nil, style: AnnotationStyle? = nil) {
        self.points = points
        self.label = label
        self.style = style
    }
}
