import HerdProtocol

/// A directional counting line across a ramp or gate, in frame pixels: crossing from the left of
/// `from`→`to` to its right is `in` (onto the truck, say), the other way `out`. Only crossings within
/// the segment (its length, plus `margin` pixels at each end) count.
public struct CountingLine: Sendable, Hashable, Codable {
    public var id: String
    public var from: PixelPoint
    public var to: PixelPoint
    public var margin: Double

    public init(id: String, from: PixelPoint, to: PixelPoint, margin: Double = 0) {
        self.id = id
        self.from = from
        self.to = to
        self.margin = margin
    }

    private enum CodingKeys: String, CodingKey {
        case id, from, to, margin
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        from = try c.decode(PixelPoint.self, forKey: .from)
        to = try c.decode(PixelPoint.self, forKey: .to)
        margin = try c.decodeIfPresent(Double.self, forKey: .margin) ?? 0
    }

    /// Signed distance of `p` from the line (positive: right of from→to, in image coordinates with y
    /// down; that is the `in` side), and whether `p` projects onto the segment.
    func side(of p: PixelPoint) -> (distance: Double, within: Bool) {
        let dx = to.x - from.x, dy = to.y - from.y
        let length = (dx * dx + dy * dy).squareRoot()
        guard length > 0 else { return (0, false) }
        let cross = dx * (p.y - from.y) - dy * (p.x - from.x)
        let along = (dx * (p.x - from.x) + dy * (p.y - from.y)) / length
        return (cross / length, along >= -margin && along <= length + margin)
    }

    /// Whether the segment passes through `rect` (the pig is on the line).
    public func touches(_ rect: PixelRect) -> Bool {
        let corners = [
            PixelPoint(x: rect.x, y: rect.y), PixelPoint(x: rect.x + rect.width, y: rect.y),
            PixelPoint(x: rect.x, y: rect.y + rect.height), PixelPoint(x: rect.x + rect.width, y: rect.y + rect.height),
        ]
        let sides = corners.map { side(of: $0).distance }
        guard sides.contains(where: { $0 >= 0 }) && sides.contains(where: { $0 <= 0 }) else { return false }
        let centre = PixelPoint(x: rect.x + rect.width / 2, y: rect.y + rect.height / 2)
        return side(of: centre).within
    }
}
