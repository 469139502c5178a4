/// An alert banner across the frame, coloured by severity (seal opened, head count mismatch).
public struct AlertAnnotation: Sendable, Hashable, Codable {
    public var severity: Severity
    public var message: String
    /// Stable rule code, e.g. `seal.open`.
    public var code: String?
    public var style: AnnotationStyle?
    /// Optional identity, stable across frames where the producer keeps it (`track-12`, `line-ramp`).
    public var id: String?
    /// Who made it; absent in payloads from before v1.3.
    public var source: AnnotationSource?

    public init(severity: Severity, message: String, code: String? = nil, style: AnnotationStyle? = nil) {
        self.severity = severity
        self.message = message
        self.code = code
        self.style = style
    }

    private enum CodingKeys: String, CodingKey {
        case kind, severity, message, code, style, id, source
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        severity = try c.decode(Severity.self, forKey: .severity)
        message = try c.decode(String.self, forKey: .message)
        code = try c.decodeIfPresent(String.self, forKey: .code)
        style = try c.decodeIfPresent(AnnotationStyle.self, forKey: .style)
        id = try c.decodeIfPresent(String.self, forKey: .id)
        source = try c.decodeIfPresent(AnnotationSource.self, forKey: .source)
    }

    /// Encodes with `"kind": "alert"`, so an alert stands alone on the wire as it does inside a set.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode("alert", forKey: .kind)
        try c.encode(severity, forKey: .severity)
        try c.encode(message, forKey: .message)
        try c.encodeIfPresent(code, forKey: .code)
        try c.encodeIfPresent(style, forKey: .style)
        try c.encodeIfPresent(id, forKey: .id)
        try c.encodeIfPresent(source, forKey: .source)
    }
}
