/// What a truck carries, as declared: the numbers an inspector checks the count against.
public struct Consignment: Sendable, Hashable, Codable {
    public var id: String?
    public var declaredHeadCount: Int?
    public var farm: String?
    public var vehiclePlate: String?
    public var destination: String?

    public init(id: String? = nil, declaredHeadCount: Int? = nil, farm: String? = nil, vehiclePlate: String? = nil, destination: String? = nil) {
        self.id = id
        self.declaredHeadCount = declaredHeadCount
        self.farm = farm
        self.vehiclePlate = vehiclePlate
        self.destination = destination
    }

    public func validate() throws(ProtocolError) {
        if let n = declaredHeadCount, !(0...10_000).contains(n) {
            throw .invalidMessage("consignment.declaredHeadCount must be 0...10000")
        }
        for (name, value, limit) in [("id", id, 64), ("farm", farm, 256), ("vehiclePlate", vehiclePlate, 32), ("destination", destination, 256)] {
            if let value, value.count > limit { throw .invalidMessage("consignment.\(name) longer than \(limit) characters") }
        }
    }
}
