import ArgumentParser
import Foundation
import HerdCodecs

/// `herdlens sample sequences`: writes the counting test sequences (frames and truth).
struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Make test data from the licensed photographs.",
        subcommands: [Sequences.self])

    struct Sequences: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ramp sequences for tracking and counting: pig cut-outs walking over a slatted floor, with known tracks and crossings.",
            discussion: "Each sequence is a folder of JPEG frames (0001.jpg…) and truth.json (every pig's box per frame, the counting line, the true crossings). Deterministic.")

        @Option(help: "The labelled photographs (ground_truth.csv and its frames).") var shared: String = "../shared/frames"
        @Option(help: "Where to write the sequences.") var output: String = "SampleFrames/sequences"
        @Option(help: "Only these sequences (by name).") var only: [String] = []

        func run() throws {
            let generator = try SequenceGenerator(sharedFrames: shared)
            let encoder = try JPEGEncoder()
            for scene in generator.scenes() where only.isEmpty || only.contains(scene.name) {
                let truth = try generator.write(scene, to: output, encoder: encoder)
                print("\(scene.name): \(truth.frames.count) frames, \(truth.pigs.count) pigs, \(truth.crossings.count) crossings, net \(truth.net) (\(scene.summary))")
            }
        }
    }
}
