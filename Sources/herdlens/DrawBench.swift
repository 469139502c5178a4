import ArgumentParser
import Foundation
import HerdImaging
import HerdOverlay
import HerdText

/// `herdlens bench draw`: the overlay renderer alone (no codecs), min and median over many draws.
struct DrawBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "draw",
        abstract: "Time drawing the benchmark overlay onto a cleared canvas: shapes, text, and both."
    )

    @Option(help: "Frame size WIDTHxHEIGHT.")
    var size: String = "1280x720"

    @Option(help: "Draws per measurement.")
    var iterations: Int = 200

    func run() throws {
        let parts = size.split(separator: "x").compactMap { Int($0) }
        guard parts.count == 2 else { throw ValidationError("--size is WIDTHxHEIGHT") }
        let (w, h) = (parts[0], parts[1])
        let renderer = OverlayRenderer(text: try TextRenderer())
        let canvas = try Canvas(width: w, height: h)
        let clock = ContinuousClock()
        print("herdlens bench draw: \(w)x\(h), \(iterations) draws, ms per draw")
        for (label, part) in [("shapes", OverlayRenderer.Parts.shapes), ("text", .text), ("all", .all)] {
            var times: [Double] = []
            for i in 0..<iterations {
                let set = BenchmarkOverlay.make(width: w, height: h, frame: i)
                canvas.clear()
                let start = clock.now
                try renderer.render(set, on: canvas, parts: part)
                times.append(ComposeBench.ms(clock.now - start))
            }
            times.sort()
            print(String(format: "%-7@ min %.3f  median %.3f  tiles %d", label as NSString, times[0], times[times.count / 2], canvas.touchedTileCount))
        }
    }
}
