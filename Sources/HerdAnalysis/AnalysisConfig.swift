import Foundation
import HerdProtocol

/// A stream's analysis settings (`PUT /api/v1/streams/{id}/config`): detector choice and parameters,
/// counting lines, zones, rule thresholds, integrity checks, alert timing. Every field has a
/// documented default; a configuration is checked by `validate` before it is stored or applied.
public struct AnalysisConfig: Sendable, Hashable, Codable {
    public var detector: DetectorChoice = .auto
    public var pen = PenDetector.Parameters()
    public var tracker = Tracker.Parameters()
    public var counting = LineCounter.Parameters()
    public var lines: [CountingLine] = []
    /// Two line ids whose net counts must agree (two lines on one ramp).
    public var crossCheck: [String]?
    public var zones: [Zone] = []
    public var rules = SensorRules()
    public var integrity = IntegrityChecks.Parameters()
    public var alerts = AlertBook.Parameters()

    public init() {}

    public struct Invalid: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Limits: lines and zones per stream, points per shape.
    public static let maxLines = 8
    public static let maxZones = 16
    public static let maxPoints = 64
    public static let maxRoutePoints = 2_000

    /// Refuses what would not work: empty or duplicate ids, degenerate lines, zones under three
    /// points, thresholds out of order, zero or negative intervals and counts.
    public func validate() throws(Invalid) {
        func id(_ s: String, _ what: String) throws(Invalid) {
            guard (1...64).contains(s.utf8.count), s.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) || "._-".unicodeScalars.contains($0) }) else {
                throw Invalid(description: "\(what) id '\(s)' must be 1 to 64 letters, digits, '.', '_' or '-'")
            }
        }
        func finite(_ p: PixelPoint, _ what: String) throws(Invalid) {
            guard p.x.isFinite, p.y.isFinite, abs(p.x) <= 100_000, abs(p.y) <= 100_000 else { throw Invalid(description: "\(what): a point is not a finite pixel position") }
        }
        guard lines.count <= Self.maxLines else { throw Invalid(description: "at most \(Self.maxLines) counting lines") }
        guard zones.count <= Self.maxZones else { throw Invalid(description: "at most \(Self.maxZones) zones") }
        var seen = Set<String>()
        for line in lines {
            try id(line.id, "line")
            guard seen.insert(line.id).inserted else { throw Invalid(description: "line id '\(line.id)' given twice") }
            try finite(line.from, "line \(line.id)")
            try finite(line.to, "line \(line.id)")
            guard line.from != line.to else { throw Invalid(description: "line \(line.id) has no length") }
            guard line.margin.isFinite, line.margin >= 0 else { throw Invalid(description: "line \(line.id): margin must be 0 or more") }
        }
        if let crossCheck {
            guard crossCheck.count == 2, crossCheck[0] != crossCheck[1], crossCheck.allSatisfy(seen.contains) else {
                throw Invalid(description: "crossCheck names two different counting lines of this stream")
            }
        }
        var zoneIDs = Set<String>()
        for zone in zones {
            try id(zone.id, "zone")
            guard zoneIDs.insert(zone.id).inserted else { throw Invalid(description: "zone id '\(zone.id)' given twice") }
            guard (3...Self.maxPoints).contains(zone.points.count) else { throw Invalid(description: "zone \(zone.id) needs 3 to \(Self.maxPoints) points") }
            for p in zone.points { try finite(p, "zone \(zone.id)") }
            if let m = zone.maxOccupancy, m < 1 { throw Invalid(description: "zone \(zone.id): maxOccupancy must be at least 1") }
        }
        let r = rules
        guard r.thiAlert < r.thiDanger, r.thiDanger < r.thiEmergency, [r.thiAlert, r.thiDanger, r.thiEmergency].allSatisfy(\.isFinite) else {
            throw Invalid(description: "rules: thiAlert < thiDanger < thiEmergency")
        }
        guard r.minTemperatureC < r.maxTemperatureC, r.minTemperatureC.isFinite, r.maxTemperatureC.isFinite else { throw Invalid(description: "rules: minTemperatureC < maxTemperatureC") }
        guard r.maxRouteDistanceM > 0, r.stopRadiusM > 0 else { throw Invalid(description: "rules: maxRouteDistanceM and stopRadiusM must be positive") }
        if let s = r.maxStopSeconds, !(s > 0) { throw Invalid(description: "rules: maxStopSeconds must be positive (or absent)") }
        for fence in [r.geofence, r.route].compactMap({ $0 }) {
            guard fence.count <= Self.maxRoutePoints else { throw Invalid(description: "rules: at most \(Self.maxRoutePoints) points in a geofence or route") }
            for p in fence where !(abs(p.lat) <= 90 && abs(p.lon) <= 180) { throw Invalid(description: "rules: a geofence or route point is not a latitude and longitude") }
        }
        if let g = r.geofence, g.count < 3 { throw Invalid(description: "rules: a geofence needs at least 3 points") }
        let i = integrity
        guard i.frozenSeconds > 0, i.frozenDifference >= 0, i.blurRatio > 0, i.blurRatio < 1, i.blurFrames >= 1, i.baselineFrames >= 1, i.maxSkewSeconds > 0,
            i.rateWindowSeconds > 0, i.rateCollapseRatio > 0, i.rateCollapseRatio < 1, i.silenceSeconds >= 0, i.silenceSeconds.isFinite
        else { throw Invalid(description: "integrity: intervals, frame counts and ratios must be positive (ratios under 1; silenceSeconds 0 turns the silence check off)") }
        let t = tracker
        guard t.lowConfidence >= 0, t.lowConfidence <= t.highConfidence, t.highConfidence <= 1, t.confirmFrames >= 1, t.maxLostFrames >= 1,
            t.firstStageIoU > 0, t.secondStageIoU > 0
        else { throw Invalid(description: "tracker: 0 ≤ lowConfidence ≤ highConfidence ≤ 1, frame counts and IoUs positive") }
        guard counting.holdFrames >= 1, counting.deadband >= 0, counting.handoverRadius >= 0, counting.handoverRadius <= 10, counting.handoverFrames >= 0,
            counting.splitOverlap >= 0, counting.splitOverlap <= 1, counting.occludedOverlap >= 0, counting.occludedOverlap <= 1
        else {
            throw Invalid(description: "counting: holdFrames ≥ 1, deadband ≥ 0, 0 ≤ handoverRadius ≤ 10, handoverFrames ≥ 0, 0 ≤ splitOverlap ≤ 1, 0 ≤ occludedOverlap ≤ 1")
        }
        guard alerts.clearAfterSeconds > 0, alerts.quietSeconds >= 0, alerts.maxAlerts >= 1 else { throw Invalid(description: "alerts: clearAfterSeconds > 0, maxAlerts ≥ 1") }
        let p = pen
        guard p.openIterations >= 0, p.openIterations <= 8, p.minAreaFraction > 0, p.maxAreaFraction <= 1, p.minAreaFraction < p.maxAreaFraction else {
            throw Invalid(description: "pen: 0 ≤ openIterations ≤ 8, 0 < minAreaFraction < maxAreaFraction ≤ 1")
        }
    }

    /// Decodes a partial configuration over the defaults (absent fields keep theirs, objects merge key
    /// by key); a key the configuration does not have is refused by name.
    public static func decode(merging json: Data, over base: AnalysisConfig = AnalysisConfig()) throws -> AnalysisConfig {
        guard let patch = try JSONSerialization.jsonObject(with: json) as? [String: Any] else { throw Invalid(description: "the configuration is a JSON object") }
        let baseObject = try JSONSerialization.jsonObject(with: JSONEncoder().encode(base)) as! [String: Any]
        let schema = try JSONSerialization.jsonObject(with: JSONEncoder().encode(Self.everyField)) as! [String: Any]
        try Self.checkKeys(patch, schema, path: "")
        let merged = Self.merge(baseObject, patch)
        return try JSONDecoder().decode(AnalysisConfig.self, from: JSONSerialization.data(withJSONObject: merged))
    }

    /// A configuration with every optional field set: the set of keys a patch may name.
    static var everyField: AnalysisConfig {
        var c = AnalysisConfig()
        c.crossCheck = ["a", "b"]
        c.lines = [CountingLine(id: "a", from: PixelPoint(x: 0, y: 0), to: PixelPoint(x: 1, y: 1))]
        c.zones = [Zone(id: "z", points: [PixelPoint(x: 0, y: 0)], maxOccupancy: 1)]
        c.rules.geofence = [GeoPoint(lat: 0, lon: 0)]
        c.rules.route = [GeoPoint(lat: 0, lon: 0)]
        c.rules.maxStopSeconds = 1
        return c
    }

    private static func checkKeys(_ patch: [String: Any], _ schema: [String: Any], path: String) throws {
        for (key, value) in patch {
            guard let known = schema[key] else { throw Invalid(description: "unknown configuration field '\(path)\(key)'") }
            if let object = value as? [String: Any], let knownObject = known as? [String: Any] {
                try checkKeys(object, knownObject, path: path + key + ".")
            } else if let array = value as? [Any], let knownArray = known as? [Any], let element = knownArray.first as? [String: Any] {
                for item in array {
                    if let object = item as? [String: Any] { try checkKeys(object, element, path: path + key + "[].") }
                }
            }
        }
    }

    private static func merge(_ base: [String: Any], _ patch: [String: Any]) -> [String: Any] {
        var out = base
        for (key, value) in patch {
            if let object = value as? [String: Any], let baseObject = base[key] as? [String: Any] {
                out[key] = merge(baseObject, object)
            } else {
                out[key] = value
            }
        }
        return out
    }

    /// The configuration as stored and hashed: JSON with sorted keys.
    public var canonicalJSON: [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(self)) ?? Data())
    }
}
