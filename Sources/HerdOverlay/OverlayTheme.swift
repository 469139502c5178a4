import HerdImaging
import HerdProtocol

/// Default colours and sizes for annotations that do not style themselves. Sizes are pixels on a
/// 720-line frame and scale with the frame height, so a 1080p frame gets 1.5x thicker lines and text.
public struct OverlayTheme: Sendable, Hashable {
    public var classColors: [String: Color] = [
        "pig": Color(red: 0x22, green: 0xC5, blue: 0x5E),
        "person": Color(red: 0xF9, green: 0x73, blue: 0x16),
        "vehicle": Color(red: 0x3B, green: 0x82, blue: 0xF6),
        "truck": Color(red: 0x3B, green: 0x82, blue: 0xF6),
    ]
    public var boxColor = Color(red: 0xEA, green: 0xB3, blue: 0x08)
    public var zoneColor = Color(red: 0x06, green: 0xB6, blue: 0xD4)
    public var zoneFillOpacity = 0.18
    public var lineColor = Color(red: 0xFA, green: 0xCC, blue: 0x15)
    public var markerColor = Color(red: 0xF4, green: 0x3F, blue: 0x5E)
    public var arrowColor = Color(red: 0xA8, green: 0x55, blue: 0xF7)
    public var textColor = Color.white
    public var plateColor = Color(red: 0, green: 0, blue: 0, alpha: 150)
    public var hudKeyColor = Color(red: 0xB4, green: 0xB4, blue: 0xB4)
    public var severityColors: [Severity: Color] = [
        .info: Color(red: 0x25, green: 0x63, blue: 0xEB, alpha: 220),
        .warning: Color(red: 0xD9, green: 0x77, blue: 0x06, alpha: 225),
        .critical: Color(red: 0xDC, green: 0x26, blue: 0x26, alpha: 230),
    ]
    /// Base sizes at 720 lines.
    public var strokeWidth = 2.5
    public var lineWidth = 3.0
    public var fontSize = 15.0
    public var hudFontSize = 15.0
    public var alertFontSize = 18.0
    public var markerSize = 14.0

    public init() {}

    public static let standard = OverlayTheme()

    func color(forClass objectClass: String?) -> Color {
        objectClass.flatMap { classColors[$0.lowercased()] } ?? boxColor
    }

    func color(for severity: Severity) -> Color {
        severityColors[severity] ?? Color(red: 0xDC, green: 0x26, blue: 0x26)
    }
}
