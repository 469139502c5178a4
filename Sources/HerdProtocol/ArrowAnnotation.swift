/// A direction: an arrow from `from` to `to` (loading direction, an inspector pointing at something).
public struct ArrowAnnotation: Sendable, Hashable, Codable {
    public var from: PixelPoint
    public var to: PixelPoint
    public var label: String?
    public var style: AnnotationStyle?
    /// Optional identity, stable across frames where the producer keeps it (`track-12`, `line-ramp`).
    public var id: String?
    /// Who made it; absent in payloads from before v1.3.
    public var source: AnnotationSource?

    public init(from: PixelPoint, to: PixelPoint, label: String? = nil, style: AnnotationStyle? = nil) {
        self.from = from
        self.to = to
        self.label = label
        self.style = style
    }
}
