import Foundation
import HerdProtocol

/// Plausible, changing readings for a truck on its way from a farm in Jiangxi to the Shenzhen border:
/// a GPS route, compartment temperature and humidity drifting with the day, the seal, ear tags.
public struct SensorSimulator: Sendable {
    public var consignment: Consignment
    /// Farm and border crossing the route runs between.
    public var start = (lat: 27.6131, lon: 115.8582)
    public var end = (lat: 22.5431, lon: 114.0579)
    /// Frames for the whole route; the position then stays at the border.
    public var routeFrames = 3000
    /// The e-lock reports `open` (the truck is being loaded) before this frame and `locked` from it on;
    /// nil: locked throughout (a truck on its way).
    public var sealsAtFrame: Int?

    public init(consignment: Consignment) {
        self.consignment = consignment
    }

    public func sensors(frame: Int) -> Sensors {
        let t = min(1, Double(frame) / Double(routeFrames))
        let wobble = sin(Double(frame) / 37) * 0.002
        let gps = Sensors.GPS(
            lat: (start.lat + (end.lat - start.lat) * t + wobble) * 1e6 / 1e6,
            lon: start.lon + (end.lon - start.lon) * t - wobble, accuracyM: 3 + abs(sin(Double(frame) / 11)) * 4)
        let temperature = 21 + 2.5 * sin(Double(frame) / 90)
        let humidity = 65 + 8 * sin(Double(frame) / 70 + 1)
        var tags: [String] = []
        if frame % 5 == 0 { tags.append(String(format: "CN36%010d", 1_000_000 + frame)) }
        return Sensors(
            gps: gps, truck: .init(temperatureC: (temperature * 10).rounded() / 10, humidityPct: humidity.rounded()),
            seal: .init(id: "EL-88213", state: sealsAtFrame.map { frame < $0 ? .open : .locked } ?? .locked), earTags: tags.isEmpty ? nil : tags,
            consignment: frame == 0 ? consignment : nil)
    }
}
