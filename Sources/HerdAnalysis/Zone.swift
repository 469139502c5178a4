import HerdProtocol

/// A polygon in frame pixels (a pen, the ramp, the truck's deck) whose occupancy is the number of
/// confirmed tracks with their centre inside.
public struct Zone: Sendable, Hashable, Codable {
    public var id: String
    public var points: [PixelPoint]
    /// Occupancy above which the `zone.crowded` rule alerts (nil: no limit).
    public var maxOccupancy: Int?

    public init(id: String, points: [PixelPoint], maxOccupancy: Int? = nil) {
        self.id = id
        self.points = points
        self.maxOccupancy = maxOccupancy
    }

    /// Even-odd rule.
    public func contains(_ p: PixelPoint) -> Bool {
        guard points.count >= 3 else { return false }
        var inside = false
        var j = points.count - 1
        for i in points.indices {
            let a = points[i], b = points[j]
            if (a.y > p.y) != (b.y > p.y), p.x < (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x { inside.toggle() }
            j = i
        }
        return inside
    }

    public func occupancy(_ tracks: [Tracker.Track]) -> Int {
        tracks.filter { $0.isConfirmed && contains(PixelPoint(x: $0.rect.x + $0.rect.width / 2, y: $0.rect.y + $0.rect.height / 2)) }.count
    }
}
