/// What an auditor's player sends on `/api/v1/sessions/{id}/replay` (text messages):
/// `{"type":"play","speed":2}`, `{"type":"pause"}`, `{"type":"seek","seq":120}` or
/// `{"type":"seek","to":"2026-12-02T08:15:00Z"}`, `{"type":"step","frames":-1}`, `{"type":"overlay","on":false}`.
public enum ReplayCommand: Sendable, Hashable {
    case play(speed: Double)
    case pause
    case seekSeq(UInt64)
    case seekTime(Timestamp)
    case step(Int)
    case overlay(Bool)

    public static let speeds: ClosedRange<Double> = 0.25...16
    /// Largest step in frames either way.
    public static let maxStep = 100_000

    private struct Wire: Decodable {
        var type: String
        var speed: Double?
        var seq: UInt64?
        var to: Timestamp?
        var frames: Int?
        var on: Bool?
    }

    /// Parses and checks one message: duplicate keys and deep nesting refused like every device message.
    public static func decode(_ bytes: [UInt8]) throws(ProtocolError) -> ReplayCommand {
        _ = try StrictJSON.check(bytes)
        let wire = try WireJSON.decode(Wire.self, from: bytes)
        switch wire.type {
        case "play":
            let speed = wire.speed ?? 1
            guard speeds.contains(speed) else { throw .invalidMessage("speed must be 0.25...16") }
            return .play(speed: speed)
        case "pause":
            return .pause
        case "seek":
            switch (wire.seq, wire.to) {
            case (let seq?, nil): return .seekSeq(seq)
            case (nil, let to?): return .seekTime(to)
            default: throw .invalidMessage("seek takes exactly one of seq or to (RFC 3339)")
            }
        case "step":
            guard let n = wire.frames, n != 0, abs(n) <= maxStep else { throw .invalidMessage("step takes frames: a non-zero whole number, at most \(maxStep) either way") }
            return .step(n)
        case "overlay":
            guard let on = wire.on else { throw .invalidMessage("overlay takes on: true or false") }
            return .overlay(on)
        default:
            throw .unknownType("replay takes play, pause, seek, step or overlay, not '\(wire.type)'")
        }
    }
}
