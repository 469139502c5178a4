/// Why an image could not be decoded or encoded. The `code` is stable: the protocol sends it to
/// devices, the CLI prints it, and tests assert on it.
public struct CodecError: Error, Equatable, CustomStringConvertible {
    private enum Internal: String, Equatable {
        case empty
        case unknownFormat
        case truncated
        case corrupt
        case unsupported
        case tooLarge
        case outOfMemory
        case invalidArgument
    }

    private let value: Internal
    /// What the codec said, for people; not part of equality.
    public let message: String

    private init(_ value: Internal, _ message: String) {
        self.value = value
        self.message = message
    }

    public static func == (a: CodecError, b: CodecError) -> Bool { a.value == b.value }

    /// No bytes at all.
    public static func empty(_ message: String = "no image data") -> Self { .init(.empty, message) }
    /// Neither JPEG nor PNG magic bytes.
    public static func unknownFormat(_ message: String = "not a JPEG or PNG image") -> Self { .init(.unknownFormat, message) }
    /// The data ends before the image does.
    public static func truncated(_ message: String = "image data is truncated") -> Self { .init(.truncated, message) }
    /// The data is damaged (bad Huffman code, CRC error, invalid header).
    public static func corrupt(_ message: String = "image data is corrupt") -> Self { .init(.corrupt, message) }
    /// Valid but not supported here (12-bit JPEG, CMYK, arithmetic coding).
    public static func unsupported(_ message: String = "image kind is not supported") -> Self { .init(.unsupported, message) }
    /// Dimensions or size over the configured limits; refused before any pixel buffer is allocated.
    public static func tooLarge(_ message: String = "image is too large") -> Self { .init(.tooLarge, message) }
    /// The codec ran out of memory.
    public static func outOfMemory(_ message: String = "out of memory") -> Self { .init(.outOfMemory, message) }
    /// The caller asked for something impossible (bad quality, scale or sizes).
    public static func invalidArgument(_ message: String) -> Self { .init(.invalidArgument, message) }

    /// The error a `code` names (as another process reported it), or nil for a code that is not a
    /// codec error's.
    public init?(code: String, message: String) {
        guard let value = Internal(rawValue: code) else { return nil }
        self.init(value, message)
    }

    /// Stable machine-readable code, e.g. `truncated`.
    public var code: String { value.rawValue }

    public var description: String { "\(code): \(message)" }

    /// Maps a shim result code (CHerdJPEG and CHerdPNG share the values) to an error.
    static func fromShim(_ result: Int32, _ message: String) -> CodecError {
        switch result {
        case 1: .truncated(message)
        case 3: .unsupported(message)
        case 4: .tooLarge(message)
        case 5: .outOfMemory(message)
        case 6: .invalidArgument(message)
        default: .corrupt(message)
        }
    }
}
