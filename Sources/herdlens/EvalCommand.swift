import ArgumentParser
import Foundation
import HerdAnalysis
import HerdCodecs
import HerdProtocol
import HerdWorker

/// `herdlens eval`: accuracy of the analysis against labelled data.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Measure detection (and later tracking) against labelled frames.",
        subcommands: [EvalDetect.self, EvalTrack.self])
}

/// `herdlens eval detect --truth ground_truth.csv FRAMES_DIR`: runs the detector on each labelled
/// frame as the pipeline does (JPEG scaled decode, reduced to the analysis size) and scores it at
/// IoU ≥ 0.5 with greedy matching. The last line is exactly `precision=P recall=R count_mae=M`.
struct EvalDetect: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Score the detector on labelled frames: per-file results, then precision=P recall=R count_mae=M.",
        discussion: """
            The CSV has the columns of ../shared/frames/ground_truth.csv (file, pig_count, boxes_xyxy_px with \
            boxes x0,y0,x1,y1 separated by ';'). A row with boxes scores precision, recall and count; a row with \
            only pig_count scores the count; a row with neither is reported and not scored.
            """)

    @Option(help: "The ground-truth CSV.") var truth: String
    @Option(help: "Which detector: builtin (the pen detector) or device (none: no header boxes here).") var detector: DetectorChoice = .builtin
    @Flag(help: "Also print every detected box (x0,y0,x1,y1 in frame pixels, confidence).") var boxes = false
    @Argument(help: "The directory holding the frames the CSV names.") var frames: String

    func run() throws {
        let text: String
        do {
            text = try String(contentsOfFile: truth, encoding: .utf8)
        } catch {
            throw ValidationError("cannot read \(truth): \(error.localizedDescription)")
        }
        let labelled: GroundTruth
        do {
            labelled = try GroundTruth(csv: text)
        } catch {
            throw ValidationError("\(truth): \(error)")
        }
        let decoder = try ImageDecoder()
        let detector = self.detector.detector()
        var total = DetectionScore()
        for frame in labelled.frames {
            let path = (frames as NSString).appendingPathComponent(frame.file)
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ValidationError("cannot read \(path)")
            }
            let image = try AnalysisDecode.image(Array(data), decoder: decoder)
            let found = detector.detect(DetectorInput(image: image))
            let score = total.add(detected: found.map(\.rect), truth: frame.boxes, truthCount: frame.count)
            var line = "\(frame.file): detected \(found.count)"
            if let count = frame.count ?? frame.boxes?.count { line += ", truth \(count), count error \(found.count - count)" }
            if score.boxFrames > 0 {
                line += ", matched \(score.truePositives), false positives \(score.falsePositives), missed \(score.falseNegatives)"
            } else if score.countFrames > 0 {
                line += " (count only)"
            } else {
                line += " (no truth, not scored)"
            }
            print(line)
            if boxes {
                for d in found {
                    print(String(format: "  box %.0f,%.0f,%.0f,%.0f confidence %.2f", d.rect.x, d.rect.y, d.rect.x + d.rect.width, d.rect.y + d.rect.height, d.confidence))
                }
            }
        }
        print(String(format: "precision=%.3f recall=%.3f count_mae=%.3f", total.precision, total.recall, total.countMAE))
    }
}

extension DetectorChoice: ExpressibleByArgument {}

/// `herdlens eval track [DIR]`: detector, tracker and counter over each generated sequence, scored
/// against its truth: count error, id switches, crossings on the line.
struct EvalTrack: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "track",
        abstract: "Score tracking and counting on the generated sequences (herdlens sample sequences).",
        discussion: "Per sequence: true and counted net, count error, id switches, crossings whose frame shows the pig on the line. Last line: sequences=N exact=E id_switches=S crossings_on_line=C/T.")

    @Argument(help: "The sequences' directory.") var directory: String = "SampleFrames/sequences"
    @Flag(help: "Also print every counted and every true crossing (seq, track or pig, direction).") var crossings = false
    @Flag(help: "Also print, per frame, every confirmed track (id, box x0,y0,x1,y1, matched or coasting) and every true pig's box.") var tracks = false
    @Option(help: "Only this sequence.") var only: String?

    func run() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).sorted().filter {
            FileManager.default.fileExists(atPath: (directory as NSString).appendingPathComponent($0 + "/truth.json"))
        }.filter { only == nil || $0 == only }
        if let only, names.isEmpty { throw ValidationError("no sequence \(only) in \(directory)") }
        guard !names.isEmpty else { throw ValidationError("no sequences in \(directory) (make them with herdlens sample sequences)") }
        let decoder = try ImageDecoder()
        let detector = PenDetector()
        var exact = 0, switches = 0, onLine = 0, counted = 0
        for name in names {
            let folder = (directory as NSString).appendingPathComponent(name)
            let truth = try JSONDecoder().decode(SequenceTruth.self, from: Data(contentsOf: URL(fileURLWithPath: folder + "/truth.json")))
            var detections: [[Detection]] = []
            for file in truth.frames {
                guard let data = FileManager.default.contents(atPath: folder + "/" + file) else { throw ValidationError("cannot read \(folder)/\(file)") }
                detections.append(detector.detect(try AnalysisDecode.image(Array(data), decoder: decoder)))
            }
            let pigsAt = tracks ? Dictionary(grouping: truth.pigs.flatMap { pig in pig.boxes.map { (frame: $0.frame, pig: pig.id, rect: $0.rect) } }, by: \.frame) : [:]
            let result = TrackEvaluation().run(truth, detections: detections) { seq, found in
                guard tracks else { return }
                let box = { (r: PixelRect) in "\(Int(r.x)),\(Int(r.y)),\(Int(r.x + r.width)),\(Int(r.y + r.height))" }
                let confirmed = found.filter(\.isConfirmed).map { "\($0.id!)\($0.matched ? "" : "~")[\(box($0.rect))]" }
                let pigs = (pigsAt[Int(seq) - 1] ?? []).map { "p\($0.pig)[\(box($0.rect))]" }
                print("  seq \(seq): tracks \(confirmed.joined(separator: " ")) | truth \(pigs.joined(separator: " "))")
            }
            if result.exact { exact += 1 }
            switches += result.idSwitches
            onLine += result.crossingsOnLine
            counted += result.crossings.count
            if crossings {
                for c in result.crossings { print("  counted seq \(c.seq) track \(c.trackId) \(c.direction.rawValue)") }
                for c in truth.crossings { print("  true    seq \(c.seq) pig \(c.trackId) \(c.direction.rawValue)") }
            }
            print("\(name): true net \(result.trueNet), counted \(result.countedNet), count error \(result.countError), id switches \(result.idSwitches), crossings \(result.crossings.count) (\(result.crossingsOnLine) on the line)")
        }
        print("sequences=\(names.count) exact=\(exact) id_switches=\(switches) crossings_on_line=\(onLine)/\(counted)")
    }
}
