/// Why a drawing call was refused. Drawing never crashes on bad geometry: it throws this instead.
public struct DrawingError: Error, Equatable, CustomStringConvertible {
    private enum Internal: Equatable {
        case nonFiniteCoordinate
        case tooFewPoints
        case invalidSize
    }

    private let value: Internal
    /// Human-readable detail, not part of equality.
    public let detail: String

    private init(_ value: Internal, _ detail: String) {
        self.value = value
        self.detail = detail
    }

    public static func == (a: DrawingError, b: DrawingError) -> Bool { a.value == b.value }

    /// A coordinate, size or width was NaN or infinite.
    public static func nonFiniteCoordinate(_ detail: String = "") -> Self { .init(.nonFiniteCoordinate, detail) }
    /// A polygon or polyline had too few points.
    public static func tooFewPoints(_ detail: String = "") -> Self { .init(.tooFewPoints, detail) }
    /// A size, radius or stroke width was negative or absurd.
    public static func invalidSize(_ detail: String = "") -> Self { .init(.invalidSize, detail) }

    /// Stable code for logs and the wire.
    public var code: String {
        switch value {
        case .nonFiniteCoordinate: "nonFiniteCoordinate"
        case .tooFewPoints: "tooFewPoints"
        case .invalidSize: "invalidSize"
        }
    }

    public var description: String { detail.isEmpty ? code : "\(code): \(detail)" }
}
