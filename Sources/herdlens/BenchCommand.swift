import ArgumentParser
import Foundation
import HerdCodecs
import HerdOverlay
import HerdProtocol
import HerdText

/// `herdlens bench`: performance measurements (never timed unit tests).
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure HerdLens on this machine.",
        subcommands: [ComposeBench.self, DrawBench.self, LiveBench.self, WorkerBench.self, RecordingBench.self, ReplayBench.self, AnalysisBench.self]
    )
}

/// `herdlens bench compose`: median ms per frame for each compose stage, both paths, per frame size.
struct ComposeBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compose",
        abstract: "Median ms per frame for decode, draw, text, composite, encode and the whole, at each frame size.",
        discussion: """
            Overlay: 10 labelled boxes, 3 translucent zone polygons, one HUD strip, one alert banner. Rows
            `coefficients` and `pixels` change the HUD every frame, so the overlay is drawn every frame
            (live video); `coef/static` keeps it unchanged, so the composer reuses the drawn canvas (a
            batch with one annotations file).
            Frames: every JPEG in --frames (default SampleFrames/frames), grouped by size; each is composed
            --iterations times through the coefficient path and through the pixel path (decode to RGB,
            composite, encode q85 4:2:0). Also reports resident memory after the first and the last frame of
            a --memory-frames run at the largest size, to show it stays flat.
            """
    )

    @Option(help: "Directory of JPEG frames.")
    var frames: String = "SampleFrames/frames"

    @Option(help: "Times each frame is composed per path.")
    var iterations: Int = 30

    @Option(help: "Frames in the memory-flatness run (0 to skip).")
    var memoryFrames: Int = 300

    func validate() throws {
        guard iterations > 0 else { throw ValidationError("--iterations must be positive") }
        guard memoryFrames >= 0 else { throw ValidationError("--memory-frames must not be negative") }
    }

    private struct Samples {
        static func ms(_ d: Duration) -> Double { ComposeBench.ms(d) }

        var decode: [Double] = [], draw: [Double] = [], text: [Double] = [], composite: [Double] = []
        var encode: [Double] = [], compose: [Double] = [], total: [Double] = []

        mutating func add(_ r: ComposeReport) {
            decode.append(Self.ms(r.decode)); draw.append(Self.ms(r.draw)); text.append(Self.ms(r.text))
            composite.append(Self.ms(r.composite)); encode.append(Self.ms(r.encode))
            compose.append(Self.ms(r.compose)); total.append(Self.ms(r.total))
        }
    }

    static func ms(_ d: Duration) -> Double {
        Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
    }

    private static func median(_ v: [Double]) -> Double {
        let s = v.sorted()
        return s.isEmpty ? 0 : (s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2)
    }

    func run() throws {
        let fm = FileManager.default
        let names = ((try? fm.contentsOfDirectory(atPath: frames)) ?? []).filter {
            ["jpg", "jpeg"].contains(($0 as NSString).pathExtension.lowercased())
        }.sorted()
        guard !names.isEmpty else { throw ValidationError("no JPEG frames in \(frames)") }
        let decoder = try ImageDecoder()
        var bySize: [String: [[UInt8]]] = [:]
        var sizes: [(Int, Int)] = []
        for name in names {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: frames).appendingPathComponent(name)))
            let info = try decoder.readInfo(bytes)
            let key = "\(info.width)x\(info.height)"
            if bySize[key] == nil { sizes.append((info.width, info.height)) }
            bySize[key, default: []].append(bytes)
        }
        sizes.sort { $0.0 * $0.1 < $1.0 * $1.1 }
        let composer = try FrameComposer(renderer: OverlayRenderer(text: TextRenderer()))
        print("herdlens bench compose: \(names.count) frames from \(frames), \(iterations) iterations each, median ms per frame")
        print(Self.row(["size", "path", "decode", "draw", "text", "composite", "encode", "compose", "whole", "frames/s"]))
        for (w, h) in sizes {
            let frameBytes = bySize["\(w)x\(h)"]!
            let staticOverlay = BenchmarkOverlay.make(width: w, height: h)
            for (label, options, changing) in [
                ("coefficients", ComposeOptions(), true),
                ("pixels", ComposeOptions(quality: ComposeOptions.defaultQuality), true),
                ("coef/static", ComposeOptions(), false),
            ] {
                var samples = Samples()
                var serial = 0
                func overlay() -> AnnotationSet {
                    serial += 1
                    return changing ? BenchmarkOverlay.make(width: w, height: h, frame: serial) : staticOverlay
                }
                for bytes in frameBytes { _ = try composer.compose(bytes, annotations: overlay(), options: options) }  // warm
                for _ in 0..<iterations {
                    for bytes in frameBytes {
                        let set = overlay()
                        let report = try composer.compose(bytes, annotations: set, options: options).report
                        samples.add(report)
                    }
                }
                let whole = Self.median(samples.total)
                let values = [samples.decode, samples.draw, samples.text, samples.composite, samples.encode, samples.compose]
                    .map { String(format: "%.3f", Self.median($0)) }
                print(Self.row(["\(w)x\(h)", label] + values + [String(format: "%.3f", whole), String(format: "%.1f", 1000 / whole)]))
            }
        }
        if memoryFrames > 0, let (w, h) = sizes.last, let frameBytes = bySize["\(w)x\(h)"] {
            let overlay = BenchmarkOverlay.make(width: w, height: h)
            var first = 0, tenth = 0
            for i in 0..<memoryFrames {
                _ = try composer.compose(frameBytes[i % frameBytes.count], annotations: overlay)
                if i == 0 { first = Self.residentKiB() }
                if i == 9 { tenth = Self.residentKiB() }
            }
            let last = Self.residentKiB()
            print("memory: \(memoryFrames) frames at \(w)x\(h): RSS \(first / 1024) MiB after frame 1, \(tenth / 1024) MiB after frame 10, \(last / 1024) MiB after frame \(memoryFrames) (peak \(Self.peakKiB() / 1024) MiB)")
        }
    }

    /// One table row: the first two columns left-aligned, the rest right-aligned.
    static func row(_ cells: [String]) -> String {
        let widths = [10, 12, 7, 7, 7, 9, 7, 8, 7, 8]
        return zip(cells, widths).enumerated().map { index, pair in
            let (cell, width) = pair
            let pad = String(repeating: " ", count: max(0, width - cell.count))
            return index < 2 ? cell + pad : pad + cell
        }.joined(separator: " ")
    }

    /// Current resident set from /proc/self/statm, in KiB.
    static func residentKiB() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) / 1024 : 0
    }

    static func peakKiB() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss
    }
}
