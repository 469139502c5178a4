import Foundation
import HerdAnalysis
import HerdProtocol

/// Builds the annotation set for a device frame from what analysis found: the tracked pigs, counting
/// lines and zones, the alert banners, and a HUD strip with consignment and plate, declared against
/// counted head, pigs in view, truck temperature, humidity and THI, seal, GPS, device time and
/// device-to-server clock skew.
public struct FrameAnnotator: Sendable {
    public init() {}

    /// The full set for one frame of `width` x `height`.
    public func annotations(
        for header: DeviceFrameHeader, sensors: Sensors?, consignment: Consignment?, receivedAt: Timestamp, width: Int, height: Int,
        analysis: StreamAnalyzer.Frame?, deviceBoxesAsSent: Bool
    ) -> AnnotationSet {
        // What the device drew is the device's, whatever source it claimed (its ids are kept).
        var items: [Annotation] = deviceBoxesAsSent ? (header.detections ?? []).map { Annotation.box($0).identified(nil, source: .device) } : []
        if let analysis { items += analysis.annotations }
        var hud: [HUDAnnotation.Entry] = []
        if let id = consignment?.id { hud.append(.init(key: "Consignment", value: id)) }
        if let plate = consignment?.vehiclePlate { hud.append(.init(key: "Plate", value: plate)) }
        if let declared = consignment?.declaredHeadCount {
            let counted = analysis?.counted.map { "\($0)" } ?? "–"
            hud.append(.init(key: "Head", value: "\(counted) / \(declared) declared"))
        } else if let counted = analysis?.counted {
            hud.append(.init(key: "Head", value: "\(counted) counted"))
        }
        if let analysis { hud.append(.init(key: "In view", value: "\(analysis.pigsInView)")) }
        if let t = sensors?.truck?.temperatureC { hud.append(.init(key: "Temp", value: String(format: "%.1f °C", t))) }
        if let h = sensors?.truck?.humidityPct { hud.append(.init(key: "RH", value: String(format: "%.0f%%", h))) }
        if let thi = analysis?.thi { hud.append(.init(key: "THI", value: String(format: "%.1f", thi))) }
        if let seal = sensors?.seal { hud.append(.init(key: "Seal", value: seal.state.rawValue)) }
        if let gps = sensors?.gps { hud.append(.init(key: "GPS", value: String(format: "%.5f, %.5f", gps.lat, gps.lon))) }
        hud.append(.init(key: "Device time", value: Self.clock(header.capturedAt)))
        let skewMs = Int(((receivedAt.secondsSince1970 - header.capturedAt.secondsSince1970) * 1000).rounded())
        hud.append(.init(key: "Skew", value: "\(skewMs >= 0 ? "+" : "")\(skewMs) ms"))
        items.append(Annotation.hud(HUDAnnotation(position: .top, entries: hud)).identified("hud", source: .rule))
        items += (analysis?.raised ?? []).prefix(4).map { Annotation.alert($0.banner).identified("alert-\($0.id)", source: .rule) }
        return AnnotationSet(frame: FrameSize(width: width, height: height), items: items)
    }

    /// `HH:MM:SS.mmm±HH:MM` in the device's own offset, as it sent it.
    static func clock(_ t: Timestamp) -> String {
        let text = t.text
        guard let tIndex = text.firstIndex(where: { $0 == "T" || $0 == "t" || $0 == " " }) else { return text }
        return String(text[text.index(after: tIndex)...])
    }
}
