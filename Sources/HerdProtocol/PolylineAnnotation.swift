/// A counting line or path: an open polyline.
public struct PolylineAnnotation: Sendable, Hashable, Codable {
    public var points: [PixelPoint]
    public var label: String?
    public var style: AnnotationStyle?

    public init(points: [PixelPoint], label: String? = nil, style: AnnotationStyle? = nil) {
        self.points = points
        self.label = label
        self.style = style
    }
}
