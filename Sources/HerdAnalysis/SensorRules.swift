import Foundation
import HerdProtocol

/// The welfare, seal and route rules on a stream's sensor readings, with documented defaults
/// (docs/analysis.md), configurable per stream.
///
/// - **Heat stress**: THI = 0.8·T + RH·(T − 14.4) + 46.4 (T in °C, RH as a fraction): alert ≥ 75
///   (warning), danger ≥ 79 (critical), emergency ≥ 84 (critical, level `emergency`).
/// - **Truck temperature** outside 5…30 °C (warning).
/// - **Seal**: the e-lock open, tampered or cut after the session's seal event (critical); before it
///   (loading) an open seal is expected.
/// - **Geofence**: GPS outside the polygon; **route**: farther than `maxRouteDistanceM` from the
///   planned polyline (warning).
/// - **Stopped**: GPS moved less than `stopRadiusM` for `maxStopSeconds` while sealed (warning).
public struct SensorRules: Sendable, Hashable, Codable {
    public var thiAlert = 75.0
    public var thiDanger = 79.0
    public var thiEmergency = 84.0
    public var minTemperatureC = 5.0
    public var maxTemperatureC = 30.0
    public var geofence: [GeoPoint]?
    public var route: [GeoPoint]?
    public var maxRouteDistanceM = 500.0
    public var maxStopSeconds: Double? = 1800
    public var stopRadiusM = 30.0

    public init() {}

    /// The temperature-humidity index, or nil without both readings.
    public static func thi(temperatureC t: Double?, humidityPct rh: Double?) -> Double? {
        guard let t, let rh else { return nil }
        return 0.8 * t + rh / 100 * (t - 14.4) + 46.4
    }

    /// Findings for the current readings. `sealed` says whether the session's seal event has passed;
    /// `stoppedFor` is how long the truck has stayed within `stopRadiusM` (from `StopWatch`).
    public func evaluate(_ sensors: Sensors, sealed: Bool, stoppedFor: Double?) -> [RuleFinding] {
        var found: [RuleFinding] = []
        let t = sensors.truck?.temperatureC
        if let thi = Self.thi(temperatureC: t, humidityPct: sensors.truck?.humidityPct), thi >= thiAlert {
            let level = thi >= thiEmergency ? "emergency" : thi >= thiDanger ? "danger" : "alert"
            let text = String(format: "%.1f", thi)
            let (zhHans, zhHant) = switch level {
            case "emergency": ("热应激紧急：THI \(text)", "熱應激緊急：THI \(text)")
            case "danger": ("热应激危险：THI \(text)", "熱應激危險：THI \(text)")
            default: ("热应激警示：THI \(text)", "熱應激警示：THI \(text)")
            }
            found.append(RuleFinding(
                rule: "thi.heat", severity: level == "alert" ? .warning : .critical,
                values: ["thi": text, "level": level, "temperatureC": String(format: "%.1f", t ?? 0), "humidityPct": String(format: "%.0f", sensors.truck?.humidityPct ?? 0)],
                message: LocalizedText(en: "Heat stress \(level): THI \(text)", zhHans: zhHans, zhHant: zhHant)))
        }
        if let t {
            let text = String(format: "%.1f", t)
            if t > maxTemperatureC {
                found.append(RuleFinding(
                    rule: "temperature.high", severity: .warning, values: ["temperatureC": text, "limitC": String(format: "%.0f", maxTemperatureC)],
                    message: LocalizedText(
                        en: "Truck temperature \(text) °C over \(Int(maxTemperatureC)) °C", zhHans: "车厢温度 \(text) °C，高于 \(Int(maxTemperatureC)) °C",
                        zhHant: "車廂溫度 \(text) °C，高於 \(Int(maxTemperatureC)) °C")))
            } else if t < minTemperatureC {
                found.append(RuleFinding(
                    rule: "temperature.low", severity: .warning, values: ["temperatureC": text, "limitC": String(format: "%.0f", minTemperatureC)],
                    message: LocalizedText(
                        en: "Truck temperature \(text) °C under \(Int(minTemperatureC)) °C", zhHans: "车厢温度 \(text) °C，低于 \(Int(minTemperatureC)) °C",
                        zhHant: "車廂溫度 \(text) °C，低於 \(Int(minTemperatureC)) °C")))
            }
        }
        if let seal = sensors.seal, sealed, seal.state == .open || seal.state == .tampered || seal.state == .cut {
            let id = seal.id ?? ""
            let named = id.isEmpty ? "" : " \(id)"
            let (en, zhHans, zhHant) = switch seal.state {
            case .open: ("E-lock seal\(named) OPEN after sealing", "电子关锁\(named)在施封后被打开", "電子關鎖\(named)在施封後被打開")
            case .cut: ("E-lock seal\(named) CUT after sealing", "电子关锁\(named)在施封后被剪断", "電子關鎖\(named)在施封後被剪斷")
            default: ("E-lock seal\(named) reports TAMPERING", "电子关锁\(named)报告被破坏", "電子關鎖\(named)報告被破壞")
            }
            found.append(RuleFinding(
                rule: "seal.\(seal.state.rawValue)", subject: id, severity: .critical, values: ["seal": id, "state": seal.state.rawValue],
                message: LocalizedText(en: en, zhHans: zhHans, zhHant: zhHant)))
        }
        if let gps = sensors.gps {
            let here = GeoPoint(lat: gps.lat, lon: gps.lon)
            let position = String(format: "%.5f,%.5f", gps.lat, gps.lon)
            if let geofence, geofence.count >= 3, !here.isInside(geofence) {
                found.append(RuleFinding(
                    rule: "gps.geofence", severity: .warning, values: ["position": position],
                    message: LocalizedText(en: "Truck outside the geofence at \(position)", zhHans: "车辆驶出电子围栏：\(position)", zhHant: "車輛駛出電子圍欄：\(position)")))
            }
            if let route, !route.isEmpty {
                let off = here.distance(to: route)
                if off > maxRouteDistanceM {
                    let metres = String(format: "%.0f", off)
                    found.append(RuleFinding(
                        rule: "gps.offRoute", severity: .warning, values: ["position": position, "offRouteM": metres],
                        message: LocalizedText(en: "Truck \(metres) m off the planned route", zhHans: "车辆偏离规划路线 \(metres) 米", zhHant: "車輛偏離規劃路線 \(metres) 米")))
                }
            }
        }
        if sealed, let maxStopSeconds, let stoppedFor, stoppedFor >= maxStopSeconds {
            let minutes = String(format: "%.0f", stoppedFor / 60)
            found.append(RuleFinding(
                rule: "gps.stopped", severity: .warning, values: ["stoppedS": String(format: "%.0f", stoppedFor)],
                message: LocalizedText(en: "Truck stopped for \(minutes) min", zhHans: "车辆已停留 \(minutes) 分钟", zhHant: "車輛已停留 \(minutes) 分鐘")))
        }
        return found
    }
}

/// How long the truck has stayed within a radius: the time since the GPS last left a circle of
/// `radiusM` about the point where it stopped.
public struct StopWatch: Sendable {
    public var radiusM: Double
    private var anchor: GeoPoint?
    private var anchoredAt: Double = 0

    public init(radiusM: Double) { self.radiusM = radiusM }

    /// Folds in a fix at `seconds` (any monotonic clock); returns seconds stopped so far.
    public mutating func update(_ fix: GeoPoint, at seconds: Double) -> Double {
        if let anchor, fix.distance(to: [anchor]) <= radiusM { return seconds - anchoredAt }
        anchor = fix
        anchoredAt = seconds
        return 0
    }
}
