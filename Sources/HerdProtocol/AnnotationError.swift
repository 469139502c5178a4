/// Why an annotation set was refused. `code` is stable (`badJSON`, `invalidAnnotation`).
public struct AnnotationError: Error, Equatable, CustomStringConvertible {
    private enum Internal: String, Equatable {
        case badJSON
        case invalidAnnotation
    }

    private let value: Internal
    /// What is wrong and where (`items[3].points`).
    public let message: String

    private init(_ value: Internal, _ message: String) {
        self.value = value
        self.message = message
    }

    public static func == (a: AnnotationError, b: AnnotationError) -> Bool { a.value == b.value }

    /// Not JSON, or JSON of the wrong shape.
    public static func badJSON(_ message: String) -> Self { .init(.badJSON, message) }
    /// Well-formed JSON that breaks a rule of the model (size, range, count, colour).
    public static func invalidAnnotation(_ message: String) -> Self { .init(.invalidAnnotation, message) }

    public var code: String { value.rawValue }
    public var description: String { "\(code): \(message)" }
}
