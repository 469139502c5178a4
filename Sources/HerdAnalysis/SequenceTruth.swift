import HerdProtocol

/// A generated test sequence with what is known about it: every pig's box in every frame it is in,
/// the counting line, and the crossings it makes (`SampleFrames/sequences/NAME/truth.json`).
public struct SequenceTruth: Sendable, Hashable, Codable {
    public struct Box: Sendable, Hashable, Codable {
        /// Frame index (0-based; the frame's seq is index + 1).
        public var frame: Int
        public var rect: PixelRect
        public init(frame: Int, rect: PixelRect) {
            self.frame = frame
            self.rect = rect
        }
    }

    public struct Pig: Sendable, Hashable, Codable {
        public var id: Int
        public var boxes: [Box]
        public init(id: Int, boxes: [Box]) {
            self.id = id
            self.boxes = boxes
        }
    }

    public var name: String
    public var summary: String
    public var width: Int
    public var height: Int
    public var framesPerSecond: Double
    public var frames: [String]
    public var line: CountingLine
    public var pigs: [Pig]
    /// The crossings a perfect counter reports (`trackId` is the pig's id here).
    public var crossings: [Crossing]

    public init(
        name: String, summary: String, width: Int, height: Int, framesPerSecond: Double, frames: [String], line: CountingLine, pigs: [Pig],
        crossings: [Crossing]
    ) {
        self.name = name
        self.summary = summary
        self.width = width
        self.height = height
        self.framesPerSecond = framesPerSecond
        self.frames = frames
        self.line = line
        self.pigs = pigs
        self.crossings = crossings
    }

    /// `in − out` over the sequence.
    public var net: Int { crossings.reduce(0) { $0 + ($1.direction == .in ? 1 : -1) } }
}
