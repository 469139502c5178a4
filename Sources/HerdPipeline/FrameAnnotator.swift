import Foundation
import HerdProtocol

/// Builds the annotation set for a device frame: the device's detections, a HUD strip with consignment,
/// plate, seal, truck climate, GPS, capture time and device-to-server clock skew, and alert banners
/// from the welfare and seal rules.
public struct FrameAnnotator: Sendable {
    /// Truck temperature above which a warning is raised (pigs suffer heat stress from about 30 °C).
    public var maxTemperatureC = 30.0
    public var minTemperatureC = 0.0
    public var maxHumidityPct = 90.0

    public init() {}

    /// Alerts the rules raise for these readings.
    public func alerts(for sensors: Sensors?) -> [AlertAnnotation] {
        guard let sensors else { return [] }
        var alerts: [AlertAnnotation] = []
        if let seal = sensors.seal {
            let id = seal.id.map { " \($0)" } ?? ""
            switch seal.state {
            case .open: alerts.append(AlertAnnotation(severity: .critical, message: "E-lock seal\(id) reported OPEN", code: "seal.open"))
            case .tampered: alerts.append(AlertAnnotation(severity: .critical, message: "E-lock seal\(id) reports TAMPERING", code: "seal.tampered"))
            case .cut: alerts.append(AlertAnnotation(severity: .critical, message: "E-lock seal\(id) reported CUT", code: "seal.cut"))
            case .locked, .unknown: break
            }
        }
        if let t = sensors.truck?.temperatureC {
            if t > maxTemperatureC {
                alerts.append(AlertAnnotation(severity: .warning, message: String(format: "Truck temperature %.1f °C over %.0f °C", t, maxTemperatureC), code: "temperature.high"))
            } else if t < minTemperatureC {
                alerts.append(AlertAnnotation(severity: .warning, message: String(format: "Truck temperature %.1f °C under %.0f °C", t, minTemperatureC), code: "temperature.low"))
            }
        }
        if let h = sensors.truck?.humidityPct, h > maxHumidityPct {
            alerts.append(AlertAnnotation(severity: .warning, message: String(format: "Truck humidity %.0f%% over %.0f%%", h, maxHumidityPct), code: "humidity.high"))
        }
        return alerts
    }

    /// The full set for one frame of `width` x `height`.
    public func annotations(
        for header: DeviceFrameHeader, sensors: Sensors?, consignment: Consignment?, receivedAt: Timestamp, width: Int, height: Int
    ) -> (set: AnnotationSet, alerts: [AlertAnnotation]) {
        var items: [Annotation] = (header.detections ?? []).map { .box($0) }
        var hud: [HUDAnnotation.Entry] = []
        if let id = consignment?.id { hud.append(.init(key: "Consignment", value: id)) }
        if let plate = consignment?.vehiclePlate { hud.append(.init(key: "Plate", value: plate)) }
        if let declared = consignment?.declaredHeadCount { hud.append(.init(key: "Declared", value: "\(declared) head")) }
        if let seal = sensors?.seal { hud.append(.init(key: "Seal", value: seal.state.rawValue)) }
        if let t = sensors?.truck?.temperatureC { hud.append(.init(key: "Temp", value: String(format: "%.1f °C", t))) }
        if let h = sensors?.truck?.humidityPct { hud.append(.init(key: "RH", value: String(format: "%.0f%%", h))) }
        if let gps = sensors?.gps { hud.append(.init(key: "GPS", value: String(format: "%.5f, %.5f", gps.lat, gps.lon))) }
        hud.append(.init(key: "Captured", value: Self.clock(header.capturedAt)))
        let skewMs = Int(((receivedAt.secondsSince1970 - header.capturedAt.secondsSince1970) * 1000).rounded())
        hud.append(.init(key: "Skew", value: "\(skewMs >= 0 ? "+" : "")\(skewMs) ms"))
        items.append(.hud(HUDAnnotation(position: .top, entries: hud)))
        let alerts = alerts(for: sensors)
        items += alerts.map { .alert($0) }
        return (AnnotationSet(frame: FrameSize(width: width, height: height), items: items), alerts)
    }

    /// `HH:MM:SS.mmm±HH:MM` in the device's own offset, as it sent it.
    static func clock(_ t: Timestamp) -> String {
        let text = t.text
        guard let tIndex = text.firstIndex(where: { $0 == "T" || $0 == "t" || $0 == " " }) else { return text }
        return String(text[text.index(after: tIndex)...])
    }
}
