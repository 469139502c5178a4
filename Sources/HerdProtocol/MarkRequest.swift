/// `{"type":"mark","stream","kind","points":[[x,y],…],"text"?,"trackId"?,"seq"?,"ttlSeconds"?,"id"?}`:
/// an inspector draws on a stream's live view (v1.4). Points are frame pixels of frame `seq`. The
/// server names the mark (`mk-…`) unless the client gives an `id` of its own.
public struct MarkRequest: Sendable, Hashable, Codable {
    /// What one mark may hold. The server also bounds marks per stream and marks per second per socket.
    public struct Limits: Sendable, Hashable {
        public var maxPoints = 256
        public var maxTextLength = 200
        public var maxTTLSeconds = 3600
        public var defaultTTLSeconds = 300
        /// Coordinates beyond this (in either direction) are refused: no frame is that large.
        public var maxCoordinate = 100_000.0

        public init() {}
    }

    public var type = "mark"
    public var stream: StreamID
    public var kind: Mark.Kind
    public var points: [PixelPoint]
    public var text: String?
    public var trackId: Int?
    public var seq: UInt64?
    public var ttlSeconds: Int?
    public var id: String?

    public init(
        stream: StreamID, kind: Mark.Kind, points: [PixelPoint], text: String? = nil, trackId: Int? = nil, seq: UInt64? = nil,
        ttlSeconds: Int? = nil, id: String? = nil
    ) {
        self.stream = stream
        self.kind = kind
        self.points = points
        self.text = text
        self.trackId = trackId
        self.seq = seq
        self.ttlSeconds = ttlSeconds
        self.id = id
    }

    /// Decodes strictly (no key twice, bounded nesting) and validates.
    public static func decode(_ json: some Collection<UInt8>, limits: Limits = Limits()) throws(ProtocolError) -> MarkRequest {
        guard try StrictJSON.check(json) == "mark" else { throw .badJSON("a mark is a JSON object with \"type\":\"mark\"") }
        let request = try WireJSON.decode(MarkRequest.self, from: json)
        try request.validate(limits)
        return request
    }

    /// The points each kind takes, a text within bounds, a sane ttl, id and track id.
    public func validate(_ limits: Limits = Limits()) throws(ProtocolError) {
        let needed: ClosedRange<Int> = switch kind {
        case .box, .circle, .arrow: 2...2
        case .text: 1...1
        case .freehand: 2...limits.maxPoints
        }
        guard needed.contains(points.count) else {
            let want = needed.lowerBound == needed.upperBound ? "\(needed.lowerBound)" : "\(needed.lowerBound) to \(needed.upperBound)"
            throw .invalidMessage("mark: a \(kind.rawValue) takes \(want) points, got \(points.count)")
        }
        for (i, p) in points.enumerated() where !(p.x.isFinite && p.y.isFinite && abs(p.x) <= limits.maxCoordinate && abs(p.y) <= limits.maxCoordinate) {
            throw .invalidMessage("mark: points[\(i)] is not a coordinate within ±\(Int(limits.maxCoordinate)) pixels")
        }
        if kind != .text && kind != .freehand, points.count == 2, points[0] == points[1] {
            throw .invalidMessage("mark: a \(kind.rawValue) needs two different points")
        }
        if kind == .box, points[0].x == points[1].x || points[0].y == points[1].y {
            throw .invalidMessage("mark: a box needs a width and a height")
        }
        if let text {
            guard text.unicodeScalars.count <= limits.maxTextLength else { throw .invalidMessage("mark: text is longer than \(limits.maxTextLength) characters") }
            guard !text.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }) else {
                throw .invalidMessage("mark: text holds control characters")
            }
        }
        if kind == .text, (text ?? "").allSatisfy(\.isWhitespace) { throw .invalidMessage("mark: a text mark needs text") }
        if let ttlSeconds, !(1...limits.maxTTLSeconds).contains(ttlSeconds) {
            throw .invalidMessage("mark: ttlSeconds must be 1...\(limits.maxTTLSeconds)")
        }
        if let trackId, !(1...Int(Int32.max)).contains(trackId) { throw .invalidMessage("mark: trackId must be a positive whole number") }
        if let id { try Self.validate(id: id) }
    }

    /// 1 to 64 characters, none of them white space, a control character, `"`, `/` or `\`.
    public static func validate(id: String) throws(ProtocolError) {
        guard PlainIdentifier.isValid(id, maxLength: 64) else {
            throw .invalidMessage("mark id must be 1 to 64 characters without spaces, control characters, quotes or slashes")
        }
    }
}

