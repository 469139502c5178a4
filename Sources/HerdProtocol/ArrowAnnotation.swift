/// A direction: an arrow from `from` to `to` (loading direction, an inspector pointing at something).
public struct ArrowAnnotation: Sendable, Hashable, Codable {
    public var from: PixelPoint
    public var to: PixelPoint
    public var label: String?
    public var style: AnnotationStyle?

    public init(from: PixelPoint, to: PixelPoint, label: String? = nil, style: AnnotationStyle? = nil) {
        self.from = from
        self.to = to
        self.label = label
        self.style = style
    }
}
