/// A detected or marked object: a rectangle with a label plate.
public struct BoxAnnotation: Sendable, Hashable, Codable {
    public var rect: PixelRect
    public var label: String?
    /// Object class, e.g. `pig`, `person`, `vehicle`; decides the default colour.
    public var objectClass: String?
    /// Detector confidence 0...1, shown after the label.
    public var confidence: Double?
    /// Tracker identity, stable across frames.
    public var trackId: Int?
    public var style: AnnotationStyle?
    /// Optional identity, stable across frames where the producer keeps it (`track-12`, `line-ramp`).
    public var id: String?
    /// Who made it; absent in payloads from before v1.3.
    public var source: AnnotationSource?

    public init(
        rect: PixelRect, label: String? = nil, objectClass: String? = nil, confidence: Double? = nil,
        trackId: Int? = nil, style: AnnotationStyle? = nil
    ) {
        self.rect = rect
        self.label = label
        self.objectClass = objectClass
        self.confidence = confidence
        self.trackId = trackId
        self.style = style
    }

    enum CodingKeys: String, CodingKey {
        case rect, label, confidence, trackId, style, id, source
        case objectClass = "class"
    }
}
