/// Optional style overrides for one annotation. Anything left out takes the default for the item's
/// kind, class or severity. Colours are `#RGB`, `#RRGGBB` or `#RRGGBBAA`; lengths are pixels at the
/// annotation set's frame size.
public struct AnnotationStyle: Sendable, Hashable, Codable {
    public var stroke: String?
    public var fill: String?
    public var text: String?
    public var strokeWidth: Double?
    public var fontSize: Double?
    /// Multiplies every colour's alpha, 0...1.
    public var opacity: Double?

    public init(
        stroke: String? = nil, fill: String? = nil, text: String? = nil, strokeWidth: Double? = nil,
        fontSize: Double? = nil, opacity: Double? = nil
    ) {
        self.stroke = stroke
        self.fill = fill
        self.text = text
        self.strokeWidth = strokeWidth
        self.fontSize = fontSize
        self.opacity = opacity
    }
}
