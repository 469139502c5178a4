/// A counted crossing: evidence, recorded with the session. `seq` is the frame where the track was
/// first seen on its new side (its box on the line).
public struct Crossing: Sendable, Hashable, Codable {
    public enum Direction: String, Sendable, Hashable, Codable {
        case `in`
        case out
    }

    public var line: String
    public var trackId: Int
    public var direction: Direction
    public var seq: UInt64

    public init(line: String, trackId: Int, direction: Direction, seq: UInt64) {
        self.line = line
        self.trackId = trackId
        self.direction = direction
        self.seq = seq
    }
}
