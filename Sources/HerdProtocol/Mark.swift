/// An inspector's mark as the server holds and sends it (v1.4): to the field device on its ingest socket
/// (`{"type":"mark","id":…}`, so that an AR display can draw it), to viewers in `mark` events, and drawn
/// on every live frame of its stream (`annotation`). `points` are frame pixels of the frame `seq` the
/// inspector drew on; a mark with `trackId` follows that pig and ends with its track. A device treats a
/// second `mark` with the same id as a replacement (marks still live are sent again on reconnect).
public struct Mark: Sendable, Hashable, Codable {
    /// What an inspector can draw, and the annotation kind each becomes on the frame.
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
        /// Two corners; a `box` annotation.
        case box
        /// The centre, then a point on the circle; a `point` annotation with `shape` ring and `radius`.
        case circle
        /// From, then to; an `arrow` annotation.
        case arrow
        /// One anchor point and `text`; a `text` annotation.
        case text
        /// 2 to `MarkRequest.Limits.maxPoints` points; a `polyline` annotation.
        case freehand
    }

    public var type = "mark"
    public var id: String
    public var stream: StreamID
    public var kind: Kind
    public var points: [PixelPoint]
    public var text: String?
    public var trackId: Int?
    public var seq: UInt64?
    public var ttlSeconds: Int
    /// The author: the inspector's name and token id.
    public var by: String
    public var at: Timestamp
    public var expiresAt: Timestamp
    /// The latest field device to acknowledge it (`mark.ack`).
    public var acknowledged: Alert.Acknowledgement?

    public init(
        id: String, stream: StreamID, kind: Kind, points: [PixelPoint], text: String? = nil, trackId: Int? = nil, seq: UInt64? = nil,
        ttlSeconds: Int, by: String, at: Timestamp, expiresAt: Timestamp
    ) {
        self.id = id
        self.stream = stream
        self.kind = kind
        self.points = points
        self.text = text
        self.trackId = trackId
        self.seq = seq
        self.ttlSeconds = ttlSeconds
        self.by = by
        self.at = at
        self.expiresAt = expiresAt
    }

    /// The colour marks are drawn in: no detector, rule or device uses it.
    public static let colour = "#FF00FF"

    /// The mark as an annotation with `id` and source `inspector`, its points moved by (`dx`, `dy`) (a
    /// mark anchored to a track follows the pig's box).
    public func annotation(dx: Double = 0, dy: Double = 0) -> Annotation {
        let p = points.map { PixelPoint(x: $0.x + dx, y: $0.y + dy) }
        let style = AnnotationStyle(stroke: Self.colour)
        let item: Annotation
        switch kind {
        case .box:
            let x0 = min(p[0].x, p[1].x), y0 = min(p[0].y, p[1].y)
            var box = BoxAnnotation(rect: PixelRect(x: x0, y: y0, width: abs(p[1].x - p[0].x), height: abs(p[1].y - p[0].y)), label: text, style: style)
            box.trackId = trackId
            item = .box(box)
        case .circle:
            var ring = PointAnnotation(at: p[0], shape: .ring, label: text, style: style)
            ring.radius = ((p[1].x - p[0].x) * (p[1].x - p[0].x) + (p[1].y - p[0].y) * (p[1].y - p[0].y)).squareRoot()
            item = .point(ring)
        case .arrow:
            item = .arrow(ArrowAnnotation(from: p[0], to: p[1], label: text, style: style))
        case .text:
            item = .text(TextAnnotation(at: p[0], text: text ?? "", style: AnnotationStyle(stroke: Self.colour, text: Self.colour)))
        case .freehand:
            item = .polyline(PolylineAnnotation(points: p, label: text, style: style))
        }
        return item.identified(id, source: .inspector)
    }
}
