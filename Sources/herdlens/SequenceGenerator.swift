import Foundation
import HerdAnalysis
import HerdCodecs
import HerdImaging
import HerdProtocol

/// Makes the counting test sequences: pig cut-outs from the labelled photographs (the ground-truth
/// boxes of ../shared/frames, pig pixels only) walking across a ramp floor made from the same pen's
/// slats, with a gate post that hides them, pauses, a pig that turns back on the line and pigs side by
/// side. Deterministic: the same photographs give the same frames and truth.
struct SequenceGenerator {
    static let width = 640
    static let height = 360
    static let fps = 10.0
    /// The counting line across the ramp: walking from bottom to top of the picture, `in` is to the
    /// right, onto the truck.
    static let line = CountingLine(id: "ramp", from: PixelPoint(x: 400, y: 360), to: PixelPoint(x: 400, y: 0))

    struct Sprite {
        var pixels: PixelBuffer  // RGBA, alpha 0 outside the pig
    }

    struct Walker {
        var sprite: Int
        /// (frame, centre x, centre y) keyframes, linearly interpolated; absent outside them.
        var keys: [(Int, Double, Double)]

        func centre(_ frame: Int) -> (Double, Double)? {
            guard let first = keys.first, let last = keys.last, frame >= first.0, frame <= last.0 else { return nil }
            for (a, b) in zip(keys, keys.dropFirst()) where frame >= a.0 && frame <= b.0 {
                let t = b.0 == a.0 ? 0 : Double(frame - a.0) / Double(b.0 - a.0)
                return (a.1 + (b.1 - a.1) * t, a.2 + (b.2 - a.2) * t)
            }
            return (last.1, last.2)
        }
    }

    struct Scene {
        var name: String
        var summary: String
        var frames: Int
        var walkers: [Walker]
        var post: Bool = false
    }

    let sprites: [Sprite]
    let floor: PixelBuffer

    init(sharedFrames: String) throws {
        let text = try String(contentsOfFile: (sharedFrames as NSString).appendingPathComponent("ground_truth.csv"), encoding: .utf8)
        let truth = try GroundTruth(csv: text)
        let decoder = try ImageDecoder()
        var sprites: [Sprite] = []
        var floor: PixelBuffer?
        for frame in truth.frames {
            guard let boxes = frame.boxes, let data = FileManager.default.contents(atPath: (sharedFrames as NSString).appendingPathComponent(frame.file)) else { continue }
            let image = try decoder.decode(Array(data), as: .rgb)
            if floor == nil { floor = Self.crop(image, x: 200, y: 100, width: 80, height: 120) }
            for box in boxes {
                // Boxes wholly inside the picture only: a pig cut by the edge would walk in cut.
                guard box.x > 1, box.y > 1, box.x + box.width < Double(image.width) - 1, box.y + box.height < Double(image.height) - 1 else { continue }
                sprites.append(Self.sprite(image, box))
            }
        }
        guard let floor, sprites.count >= 8 else { throw SequenceError(description: "\(sharedFrames): too few whole labelled pigs to cut out") }
        self.sprites = sprites
        self.floor = floor
    }

    struct SequenceError: Error, CustomStringConvertible { var description: String }

    static func crop(_ image: PixelBuffer, x: Int, y: Int, width: Int, height: Int) -> PixelBuffer {
        var out = PixelBuffer(width: width, height: height, format: .rgb)
        for row in 0..<height {
            for col in 0..<width {
                for c in 0..<3 { out.bytes[(row * width + col) * 3 + c] = image.bytes[((y + row) * image.width + x + col) * 3 + c] }
            }
        }
        return out
    }

    /// The pig pixels of one box (the detector's colour test, the largest blob), turned so the pig lies
    /// along x (it walks along the ramp), as RGBA.
    static func sprite(_ image: PixelBuffer, _ box: PixelRect) -> Sprite {
        let x0 = Int(box.x), y0 = Int(box.y), w = Int(box.width), h = Int(box.height)
        var rgba = PixelBuffer(width: w, height: h, format: .rgba, fill: .clear)
        for row in 0..<h {
            for col in 0..<w {
                let i = ((y0 + row) * image.width + x0 + col) * 3
                let r = Int(image.bytes[i]), g = Int(image.bytes[i + 1]), b = Int(image.bytes[i + 2])
                let pig = PenDetector.isPigColour(r: r, g: g, b: b)
                let o = (row * w + col) * 4
                rgba.bytes[o] = UInt8(r); rgba.bytes[o + 1] = UInt8(g); rgba.bytes[o + 2] = UInt8(b)
                rgba.bytes[o + 3] = pig ? 255 : 0
            }
        }
        guard h > w else { return Sprite(pixels: rgba) }
        var turned = PixelBuffer(width: h, height: w, format: .rgba, fill: .clear)
        for row in 0..<h {
            for col in 0..<w {
                let from = (row * w + col) * 4, to = ((w - 1 - col) * h + row) * 4
                for c in 0..<4 { turned.bytes[to + c] = rgba.bytes[from + c] }
            }
        }
        return Sprite(pixels: turned)
    }

    /// The scenes: each walker's sprite and path. Pigs walk left to right (in) unless said otherwise.
    func scenes() -> [Scene] {
        let n = sprites.count
        func s(_ i: Int) -> Int { i % n }
        func across(_ sprite: Int, y: Double, start: Int, speed: Double = 10, from: Double = -90, to: Double = 730) -> Walker {
            let frames = Int((abs(to - from) / speed).rounded())
            return Walker(sprite: s(sprite), keys: [(start, from, y), (start + frames, to, y)])
        }
        return [
            Scene(name: "single", summary: "one pig walks up the ramp", frames: 95, walkers: [across(0, y: 180, start: 0)]),
            Scene(
                name: "file-of-five", summary: "five pigs in single file, spaced", frames: 160,
                walkers: (0..<5).map { across($0 + 1, y: 180 + Double($0 % 2) * 20, start: $0 * 16) }),
            Scene(
                name: "pause-on-line", summary: "a pig stops on the line for two seconds, then goes on", frames: 120,
                walkers: [Walker(sprite: s(2), keys: [(0, -90, 180), (49, 400, 180), (69, 400, 180), (102, 730, 180)])]),
            Scene(
                name: "turn-back", summary: "a pig crosses, turns back over the line and leaves; another goes up", frames: 170,
                walkers: [
                    Walker(sprite: s(3), keys: [(0, -90, 140), (55, 460, 140), (65, 460, 140), (120, -90, 140)]),
                    across(4, y: 250, start: 70),
                ]),
            Scene(
                name: "behind-the-post", summary: "three pigs pass behind a gate post before the line", frames: 140, walkers: (0..<3).map { across($0 + 5, y: 180, start: $0 * 20) },
                post: true),
            Scene(
                name: "side-by-side", summary: "two pigs walk up side by side, close", frames: 100,
                walkers: [across(6, y: 110, start: 0), across(7, y: 250, start: 2)]),
            Scene(
                name: "coming-off", summary: "two pigs come off the truck (out)", frames: 110,
                walkers: [across(8, y: 170, start: 0, from: 730, to: -90), across(9, y: 220, start: 15, from: 730, to: -90)]),
            Scene(
                name: "busy-ramp", summary: "eight pigs in quick succession, some slower", frames: 200,
                walkers: (0..<8).map { across($0 + 10, y: 150 + Double(($0 * 37) % 80), start: $0 * 12, speed: $0 % 3 == 0 ? 7 : 10) }),
        ]
    }

    /// Renders a scene's frames (JPEG, quality 85) and its truth into `directory`/NAME.
    func write(_ scene: Scene, to directory: String, encoder: JPEGEncoder) throws -> SequenceTruth {
        let folder = (directory as NSString).appendingPathComponent(scene.name)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var background = PixelBuffer(width: Self.width, height: Self.height, format: .rgb)
        for y in 0..<Self.height {
            for x in 0..<Self.width {
                // Mirror-tiled, so the patch has no seams.
                let px = (x / floor.width) % 2 == 0 ? x % floor.width : floor.width - 1 - x % floor.width
                let py = (y / floor.height) % 2 == 0 ? y % floor.height : floor.height - 1 - y % floor.height
                for c in 0..<3 { background.bytes[(y * Self.width + x) * 3 + c] = floor.bytes[(py * floor.width + px) * 3 + c] }
            }
        }
        var names: [String] = []
        var boxes: [Int: [SequenceTruth.Box]] = [:]
        for frame in 0..<scene.frames {
            var picture = background
            for (index, walker) in scene.walkers.enumerated() {
                guard let (cx, cy) = walker.centre(frame) else { continue }
                let sprite = sprites[walker.sprite].pixels
                let x0 = Int((cx - Double(sprite.width) / 2).rounded()), y0 = Int((cy - Double(sprite.height) / 2).rounded())
                var minX = Int.max, minY = Int.max, maxX = Int.min, maxY = Int.min
                for row in 0..<sprite.height {
                    let y = y0 + row
                    guard y >= 0, y < Self.height else { continue }
                    for col in 0..<sprite.width {
                        let x = x0 + col
                        guard x >= 0, x < Self.width, sprite.bytes[(row * sprite.width + col) * 4 + 3] != 0 else { continue }
                        for c in 0..<3 { picture.bytes[(y * Self.width + x) * 3 + c] = sprite.bytes[(row * sprite.width + col) * 4 + c] }
                        minX = min(minX, x); maxX = max(maxX, x); minY = min(minY, y); maxY = max(maxY, y)
                    }
                }
                if minX <= maxX {
                    let rect = PixelRect(x: Double(minX), y: Double(minY), width: Double(maxX - minX + 1), height: Double(maxY - minY + 1))
                    boxes[index + 1, default: []].append(SequenceTruth.Box(frame: frame, rect: rect))
                }
            }
            if scene.post {
                // A dark steel post at x 200…228 in front of the pigs.
                for y in 0..<Self.height {
                    for x in 200..<228 {
                        let i = (y * Self.width + x) * 3
                        picture.bytes[i] = 70; picture.bytes[i + 1] = 74; picture.bytes[i + 2] = 80
                    }
                }
            }
            let name = String(format: "%04d.jpg", frame + 1)
            try Data(try encoder.encode(picture, quality: 85)).write(to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent(name)))
            names.append(name)
        }
        let pigs = boxes.keys.sorted().map { SequenceTruth.Pig(id: $0, boxes: boxes[$0]!) }
        let truth = SequenceTruth(
            name: scene.name, summary: scene.summary, width: Self.width, height: Self.height, framesPerSecond: Self.fps, frames: names, line: Self.line,
            pigs: pigs, crossings: Self.crossings(scene))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(truth).write(to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent("truth.json")))
        return truth
    }

    /// The crossings a perfect counter reports: each walker's true box, as a confirmed track with the
    /// walker's number as id, through the same `LineCounter` the pipeline runs.
    static func crossings(_ scene: Scene) -> [Crossing] {
        var counter = LineCounter(lines: [line])
        var out: [Crossing] = []
        for frame in 0..<scene.frames {
            let tracks = scene.walkers.enumerated().compactMap { index, walker -> Tracker.Track? in
                guard let (cx, cy) = walker.centre(frame) else { return nil }
                return Tracker.Track(id: index + 1, rect: PixelRect(x: cx - 1, y: cy - 1, width: 2, height: 2), confidence: 1, matched: true)
            }
            out += counter.update(seq: UInt64(frame + 1), tracks: tracks)
        }
        return out
    }
}
