/// What a truck carries, as declared: the numbers an inspector checks the count against, and the papers
/// that travel with it.
public struct Consignment: Sendable, Hashable, Codable {
    public var id: String?
    public var declaredHeadCount: Int?
    /// Registered farm code.
    public var farm: String?
    public var vehiclePlate: String?
    /// Free text (v1).
    public var destination: String?
    /// `HK` or `MO`.
    public var destinationCode: String?
    public var healthCertificateNo: String?
    /// The e-lock seal fitted to the truck.
    public var sealId: String?
    public var notes: String?

    public init(
        id: String? = nil, declaredHeadCount: Int? = nil, farm: String? = nil, vehiclePlate: String? = nil, destination: String? = nil,
        destinationCode: String? = nil, healthCertificateNo: String? = nil, sealId: String? = nil, notes: String? = nil
    ) {
        self.id = id
        self.declaredHeadCount = declaredHeadCount
        self.farm = farm
        self.vehiclePlate = vehiclePlate
        self.destination = destination
        self.destinationCode = destinationCode
        self.healthCertificateNo = healthCertificateNo
        self.sealId = sealId
        self.notes = notes
    }

    public static let destinationCodes: Set<String> = ["HK", "MO"]

    public func validate() throws(ProtocolError) {
        if let n = declaredHeadCount, !(0...10_000).contains(n) {
            throw .invalidMessage("consignment.declaredHeadCount must be 0...10000")
        }
        let limits: [(String, String?, Int)] = [
            ("id", id, 64), ("farm", farm, 256), ("vehiclePlate", vehiclePlate, 32), ("destination", destination, 256),
            ("healthCertificateNo", healthCertificateNo, 64), ("sealId", sealId, 64), ("notes", notes, 2000),
        ]
        for (name, value, limit) in limits {
            if let value, value.count > limit { throw .invalidMessage("consignment.\(name) longer than \(limit) characters") }
        }
        if let code = destinationCode, !Self.destinationCodes.contains(code) {
            throw .invalidMessage("consignment.destinationCode must be HK or MO")
        }
    }
}
