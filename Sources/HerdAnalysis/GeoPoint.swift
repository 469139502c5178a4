import Foundation

/// A WGS-84 position in degrees.
public struct GeoPoint: Sendable, Hashable, Codable {
    public var lat: Double
    public var lon: Double

    public init(lat: Double, lon: Double) {
        self.lat = lat
        self.lon = lon
    }

    /// Metres on a local flat projection about `origin` (exact enough over a farm or a route leg).
    func metres(from origin: GeoPoint) -> (x: Double, y: Double) {
        let r = 6_371_000.0
        let x = (lon - origin.lon) * .pi / 180 * r * cos(origin.lat * .pi / 180)
        let y = (lat - origin.lat) * .pi / 180 * r
        return (x, y)
    }

    /// Whether the point is inside `polygon` (even-odd rule on the local projection).
    public func isInside(_ polygon: [GeoPoint]) -> Bool {
        guard polygon.count >= 3 else { return false }
        let points = polygon.map { $0.metres(from: self) }
        var inside = false
        var j = points.count - 1
        for i in points.indices {
            let a = points[i], b = points[j]
            if (a.y > 0) != (b.y > 0), 0 < (b.x - a.x) * (0 - a.y) / (b.y - a.y) + a.x { inside.toggle() }
            j = i
        }
        return inside
    }

    /// Metres to the nearest point of the polyline `route`.
    public func distance(to route: [GeoPoint]) -> Double {
        guard let first = route.first else { return .infinity }
        if route.count == 1 {
            let p = first.metres(from: self)
            return (p.x * p.x + p.y * p.y).squareRoot()
        }
        var best = Double.infinity
        for (a, b) in zip(route, route.dropFirst()) {
            let pa = a.metres(from: self), pb = b.metres(from: self)
            let dx = pb.x - pa.x, dy = pb.y - pa.y
            let len2 = dx * dx + dy * dy
            let t = len2 > 0 ? max(0, min(1, -(pa.x * dx + pa.y * dy) / len2)) : 0
            let cx = pa.x + t * dx, cy = pa.y + t * dy
            best = min(best, (cx * cx + cy * cy).squareRoot())
        }
        return best
    }
}
