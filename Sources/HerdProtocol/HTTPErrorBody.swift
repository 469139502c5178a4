/// The body of every HTTP error: `{"error":{"code":"…","message":"…"}}`.
public struct HTTPErrorBody: Sendable, Hashable, Codable {
    public struct Detail: Sendable, Hashable, Codable {
        public var code: String
        public var message: String
        /// Present on refusals a client may retry later (true) or must not (false).
        public var retryable: Bool?
    }

    public var error: Detail

    public init(code: String, message: String, retryable: Bool? = nil) {
        self.error = Detail(code: code, message: message, retryable: retryable)
    }
}
