/// An alert banner across the frame, coloured by severity (seal opened, head count mismatch).
public struct AlertAnnotation: Sendable, Hashable, Codable {
    public var severity: Severity
    public var message: String
    /// Stable rule code, e.g. `seal.open`.
    public var code: String?
    public var style: AnnotationStyle?

    public init(severity: Severity, message: String, code: String? = nil, style: AnnotationStyle? = nil) {
        self.severity = severity
        self.message = message
        self.code = code
        self.style = style
    }
}
