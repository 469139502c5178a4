/// Why a font could not be loaded or used.
public struct FontError: Error, Equatable, CustomStringConvertible {
    private enum Internal: String, Equatable {
        case notFound
        case unreadable
        case freeType
    }

    private let value: Internal
    public let message: String

    private init(_ value: Internal, _ message: String) {
        self.value = value
        self.message = message
    }

    public static func == (a: FontError, b: FontError) -> Bool { a.value == b.value }

    /// No font file at the path (or none of the default candidates is installed).
    public static func notFound(_ message: String) -> Self { .init(.notFound, message) }
    /// The file exists but FreeType cannot open it as a font.
    public static func unreadable(_ message: String) -> Self { .init(.unreadable, message) }
    /// FreeType failed while sizing or rendering.
    public static func freeType(_ message: String) -> Self { .init(.freeType, message) }

    public var code: String { value.rawValue }
    public var description: String { "\(code): \(message)" }
}
