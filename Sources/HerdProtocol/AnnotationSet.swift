import Foundation

/// Everything drawn over one frame, as data. Stored with the recording and composed on the way out;
/// the frame's own bytes are never changed. See Protocol/v1/annotations.schema.json.
public struct AnnotationSet: Sendable, Hashable, Codable {
    /// Wire version of the model.
    public static let currentVersion = 1

    public var version: Int
    /// The frame size the coordinates refer to.
    public var frame: FrameSize
    /// Drawn in order: later items on top.
    public var items: [Annotation]

    public init(version: Int = AnnotationSet.currentVersion, frame: FrameSize, items: [Annotation] = []) {
        self.version = version
        self.frame = frame
        self.items = items
    }

    /// Limits that keep one set's cost bounded.
    public struct Limits: Sendable, Hashable {
        public var maxItems = 2000
        public var maxPointsPerShape = 1024
        public var maxLabelLength = 256
        public var maxTextLength = 1024
        public var maxHUDEntries = 32
        /// Coordinates beyond this magnitude are refused (drawing would clip them anyway).
        public var maxCoordinate = 1_000_000.0

        public init() {}
    }

    /// Decodes and validates a set from JSON.
    public static func decode(json: Data, limits: Limits = Limits()) throws(AnnotationError) -> AnnotationSet {
        let set: AnnotationSet
        do {
            set = try JSONDecoder().decode(AnnotationSet.self, from: json)
        } catch let error as DecodingError {
            throw .badJSON(Self.describe(error))
        } catch {
            throw .badJSON("\(error)")
        }
        try set.validate(limits: limits)
        return set
    }

    /// JSON for the set (sorted keys, so equal sets encode to equal bytes).
    public func encodedJSON(pretty: Bool = false) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        // Every field is a finite number, string or array: encoding cannot fail.
        return (try? encoder.encode(self)) ?? Data()
    }

    /// Checks every rule the schema states and the ones it cannot (finite ranges, colour syntax).
    public func validate(limits: Limits = Limits()) throws(AnnotationError) {
        guard version == Self.currentVersion else {
            throw .invalidAnnotation("version \(version) is not supported (expected \(Self.currentVersion))")
        }
        guard (1...65535).contains(frame.width), (1...65535).contains(frame.height) else {
            throw .invalidAnnotation("frame size \(frame.width)x\(frame.height) is outside 1...65535")
        }
        guard items.count <= limits.maxItems else {
            throw .invalidAnnotation("\(items.count) items, more than the limit of \(limits.maxItems)")
        }
        for (index, item) in items.enumerated() {
            try AnnotationValidator(limits: limits, path: "items[\(index)]").validate(item)
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let p = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return p.isEmpty ? "top level" : String(p.drop(while: { $0 == "." }))
        }
        switch error {
        case .typeMismatch(_, let c), .valueNotFound(_, let c): return "\(path(c)): \(c.debugDescription)"
        case .keyNotFound(let key, let c): return "\(path(c)): missing '\(key.stringValue)'"
        case .dataCorrupted(let c): return "\(path(c)): \(c.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}
