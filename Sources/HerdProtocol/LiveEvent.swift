/// A text message to inspectors: `stream.online`, `stream.offline`, `session.start`, `session.end`,
/// `alert` (raised or escalated: `alert` is the banner, `detail` the structured alert),
/// `alert.cleared`, `alert.acknowledged`, or `crossing` (a counted crossing, with the line's totals in
/// `counts`); v1.4: `mark` (an inspector's mark placed), `mark.clear` (ended: `reason`, `by`) and
/// `mark.acknowledged` (a field device showed it), each with the mark. Events are never dropped to make
/// room for pixels.
public struct LiveEvent: Sendable, Hashable, Codable {
    public var type = "event"
    public var event: String
    public var stream: StreamID
    public var at: Timestamp
    public var alert: AlertAnnotation?
    public var consignment: Consignment?
    /// The recording session a `session.start` or `session.end` opened or closed.
    public var session: String?
    /// The structured alert of `alert`, `alert.cleared` and `alert.acknowledged` (added in v1.2).
    public var detail: Alert?
    /// The crossing of a `crossing` event and the net count per line after it (added in v1.2).
    public var crossing: Crossing?
    public var counts: [String: Int]?
    /// The mark of a `mark`, `mark.clear` or `mark.acknowledged` event (v1.4).
    public var mark: Mark?
    /// Why a `mark.clear` ended the mark, and who cleared it.
    public var reason: MarkClear.Reason?
    public var by: String?

    public init(
        event: String, stream: StreamID, at: Timestamp, alert: AlertAnnotation? = nil, consignment: Consignment? = nil, session: String? = nil,
        detail: Alert? = nil, crossing: Crossing? = nil, counts: [String: Int]? = nil, mark: Mark? = nil, reason: MarkClear.Reason? = nil,
        by: String? = nil
    ) {
        self.mark = mark
        self.reason = reason
        self.by = by
        self.session = session
        self.detail = detail
        self.crossing = crossing
        self.counts = counts
        self.event = event
        self.stream = stream
        self.at = at
        self.alert = alert
        self.consignment = consignment
    }
}
