/// A single position (an inspector's mark, a GPS fix projected on the frame) drawn as a marker.
public struct PointAnnotation: Sendable, Hashable, Codable {
    /// Marker shapes on the wire.
    public enum Shape: String, Sendable, Hashable, Codable, CaseIterable {
        case dot, cross, diamond, ring
    }

    public var at: PixelPoint
    public var shape: Shape?
    public var label: String?
    public var style: AnnotationStyle?

    public init(at: PixelPoint, shape: Shape? = nil, label: String? = nil, style: AnnotationStyle? = nil) {
        self.at = at
        self.shape = shape
        self.label = label
        self.style = style
    }
}
