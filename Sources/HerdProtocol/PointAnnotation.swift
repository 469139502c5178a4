/// A single position (an inspector's mark, a GPS fix projected on the frame) drawn as a marker.
public struct PointAnnotation: Sendable, Hashable, Codable {
    /// Marker shapes on the wire.
    public enum Shape: String, Sendable, Hashable, Codable, CaseIterable {
        case dot, cross, diamond, ring
    }

    public var at: PixelPoint
    public var shape: Shape?
    public var label: String?
    /// A ring of this radius in frame pixels instead of a marker of the theme's size (v1.4: an
    /// inspector's circle). Absent: the marker.
    public var radius: Double?
    public var style: AnnotationStyle?
    /// Optional identity, stable across frames where the producer keeps it (`track-12`, `line-ramp`).
    public var id: String?
    /// Who made it; absent in payloads from before v1.3.
    public var source: AnnotationSource?

    public init(at: PixelPoint, shape: Shape? = nil, label: String? = nil, style: AnnotationStyle? = nil) {
        self.at = at
        self.shape = shape
        self.label = label
        self.style = style
    }
}
