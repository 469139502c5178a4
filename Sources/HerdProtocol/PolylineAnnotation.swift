/// A counting line or path: an open polyline.
public struct PolylineAnnotation: Sendable, Hashable, Codable {
    public var points: [PixelPoint]
    public var label: String?
    public var style: AnnotationStyle?
    /// Optional identity, stable across frames where the producer keeps it (`track-12`, `line-ramp`).
    public var id: String?
    /// Who made it; absent in payloads from before v1.3.
    public var source: AnnotationSource?

    public init(points: [PixelPoint], label: String? = nil, style: AnnotationStyle? = nil) {
        self.points = points
        self.label = label
        self.style = style
    }
}
