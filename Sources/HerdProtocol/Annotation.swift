/// One item of an annotation set. On the wire an object whose `kind` names the case:
/// `box`, `polygon`, `polyline`, `point`, `arrow`, `text`, `hud`, `alert`.
public enum Annotation: Sendable, Hashable, Codable {
    case box(BoxAnnotation)
    case polygon(PolygonAnnotation)
    case polyline(PolylineAnnotation)
    case point(PointAnnotation)
    case arrow(ArrowAnnotation)
    case text(TextAnnotation)
    case hud(HUDAnnotation)
    case alert(AlertAnnotation)

    /// The wire name of the case.
    public var kind: String {
        switch self {
        case .box: "box"
        case .polygon: "polygon"
        case .polyline: "polyline"
        case .point: "point"
        case .arrow: "arrow"
        case .text: "text"
        case .hud: "hud"
        case .alert: "alert"
        }
    }

    private enum KindKey: String, CodingKey {
        case kind
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: KindKey.self)
        let kind = try container.decode(String.self, forKey: .kind)
        switch kind {
        case "box": self = .box(try BoxAnnotation(from: decoder))
        case "polygon": self = .polygon(try PolygonAnnotation(from: decoder))
        case "polyline": self = .polyline(try PolylineAnnotation(from: decoder))
        case "point": self = .point(try PointAnnotation(from: decoder))
        case "arrow": self = .arrow(try ArrowAnnotation(from: decoder))
        case "text": self = .text(try TextAnnotation(from: decoder))
        case "hud": self = .hud(try HUDAnnotation(from: decoder))
        case "alert": self = .alert(try AlertAnnotation(from: decoder))
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .kind, in: container,
                debugDescription: "unknown annotation kind '\(kind)' (box, polygon, polyline, point, arrow, text, hud, alert)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: KindKey.self)
        try container.encode(kind, forKey: .kind)
        switch self {
        case .box(let item): try item.encode(to: encoder)
        case .polygon(let item): try item.encode(to: encoder)
        case .polyline(let item): try item.encode(to: encoder)
        case .point(let item): try item.encode(to: encoder)
        case .arrow(let item): try item.encode(to: encoder)
        case .text(let item): try item.encode(to: encoder)
        case .hud(let item): try item.encode(to: encoder)
        case .alert(let item): try item.encode(to: encoder)
        }
    }
}
