/// Sensor readings a field device sends with a frame or as telemetry. Every field is optional: a fixed
/// pen camera has no truck climate, a truck camera may have no ear-tag reader.
public struct Sensors: Sendable, Hashable, Codable {
    public struct GPS: Sendable, Hashable, Codable {
        public var lat: Double
        public var lon: Double
        public var accuracyM: Double?

        public init(lat: Double, lon: Double, accuracyM: Double? = nil) {
            self.lat = lat
            self.lon = lon
            self.accuracyM = accuracyM
        }
    }

    /// Climate inside the truck's livestock compartment.
    public struct Truck: Sendable, Hashable, Codable {
        public var temperatureC: Double?
        public var humidityPct: Double?

        public init(temperatureC: Double? = nil, humidityPct: Double? = nil) {
            self.temperatureC = temperatureC
            self.humidityPct = humidityPct
        }
    }

    /// The electronic lock sealing the truck.
    public struct Seal: Sendable, Hashable, Codable {
        public enum State: String, Sendable, Hashable, Codable, CaseIterable {
            case locked, open, tampered, cut, unknown
        }

        public var id: String?
        public var state: State

        public init(id: String? = nil, state: State) {
            self.id = id
            self.state = state
        }
    }

    public var gps: GPS?
    public var truck: Truck?
    public var seal: Seal?
    /// Ear tags read since the last message.
    public var earTags: [String]?
    public var consignment: Consignment?

    public init(gps: GPS? = nil, truck: Truck? = nil, seal: Seal? = nil, earTags: [String]? = nil, consignment: Consignment? = nil) {
        self.gps = gps
        self.truck = truck
        self.seal = seal
        self.earTags = earTags
        self.consignment = consignment
    }

    /// Range checks the schema states (latitude, longitude, climate, counts, string lengths).
    public func validate() throws(ProtocolError) {
        if let gps {
            guard gps.lat.isFinite, gps.lon.isFinite, (-90...90).contains(gps.lat), (-180...180).contains(gps.lon) else {
                throw .invalidMessage("sensors.gps: latitude must be -90...90 and longitude -180...180")
            }
            if let a = gps.accuracyM, !(a.isFinite && a >= 0) { throw .invalidMessage("sensors.gps.accuracyM must be ≥ 0") }
        }
        if let t = truck?.temperatureC, !(t.isFinite && (-60...80).contains(t)) {
            throw .invalidMessage("sensors.truck.temperatureC must be -60...80")
        }
        if let h = truck?.humidityPct, !(h.isFinite && (0...100).contains(h)) {
            throw .invalidMessage("sensors.truck.humidityPct must be 0...100")
        }
        if let id = seal?.id, id.count > 64 { throw .invalidMessage("sensors.seal.id longer than 64 characters") }
        if let tags = earTags {
            guard tags.count <= 200, tags.allSatisfy({ $0.count <= 64 }) else {
                throw .invalidMessage("sensors.earTags: at most 200 tags of at most 64 characters")
            }
        }
        try consignment?.validate()
    }
}
