import ArgumentParser
import Foundation
import HerdCodecs
import HerdOverlay
import HerdProtocol
import HerdText

/// `herdlens compose`: renders annotations onto one frame, or onto many in one process (batch mode).
struct ComposeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compose",
        abstract: "Draw annotations onto frames (JPEG/PNG) and write the annotated frames.",
        discussion: """
            One frame:   herdlens compose --annotations ann.json --output out.jpg frame.jpg
            Batch:       herdlens compose --output OUTDIR frames/ more.jpg

            Annotations come from --annotations (a file for every frame, or a directory holding
            NAME.annotations.json per frame); without it, from NAME.annotations.json beside each frame.
            JPEG to JPEG without --quality keeps the source's quantization and leaves every block the
            overlay does not touch bit-exact. Exit codes: 0 ok, 3 bad input image, 4 bad annotations,
            5 I/O error, 6 no usable font, 1 internal error, 64 usage.
            """
    )

    @Option(name: .shortAndLong, help: "Annotations JSON file, or a directory of NAME.annotations.json.")
    var annotations: String?

    @Option(name: .shortAndLong, help: "Output file (one input) or directory (batch).")
    var output: String

    @Option(help: "Output format in batch mode: jpg or png (one input: taken from --output's extension).")
    var format: String = "jpg"

    @Option(help: "JPEG quality 1-100; forces a full re-encode.")
    var quality: Int?

    @Option(help: "Largest input image in megapixels, checked from the header before decoding.")
    var maxMegapixels: Double = 40

    @Flag(help: "Always decode to pixels and re-encode (no coefficient path).")
    var pixelPath = false

    @Flag(name: .shortAndLong, help: "Print one line per frame with the path taken and timings.")
    var verbose = false

    @Argument(help: "Input frames (JPEG/PNG) or directories of them.")
    var inputs: [String]

    func validate() throws {
        if let quality, !(1...100).contains(quality) { throw ValidationError("--quality must be 1...100") }
        guard maxMegapixels > 0, maxMegapixels <= 1000 else { throw ValidationError("--max-megapixels must be in (0, 1000]") }
        if inputs.isEmpty { throw ValidationError("give at least one input frame") }
        guard ImageFormat(fileExtension: format) != nil else { throw ValidationError("--format must be jpg or png") }
    }

    private struct Job {
        var input: URL
        var output: URL
    }

    private struct Failure: Error {
        var exit: ExitCode
        var message: String
    }

    func run() throws {
        let fm = FileManager.default
        var frames: [URL] = []
        var isBatch = inputs.count > 1
        for path in inputs {
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else {
                fail(ComposeExit.ioError, "\(path): no such file or directory")
            }
            if isDirectory.boolValue {
                isBatch = true
                let names = (try? fm.contentsOfDirectory(atPath: path)) ?? []
                frames += names.filter { ImageFormat(fileExtension: ($0 as NSString).pathExtension) != nil }.sorted()
                    .map { URL(fileURLWithPath: path).appendingPathComponent($0) }
            } else {
                frames.append(URL(fileURLWithPath: path))
            }
        }
        let jobs: [Job]
        let outputURL = URL(fileURLWithPath: output)
        if isBatch {
            do {
                try fm.createDirectory(at: outputURL, withIntermediateDirectories: true)
            } catch {
                fail(ComposeExit.ioError, "\(output): cannot create output directory: \(error.localizedDescription)")
            }
            let ext = format.lowercased() == "png" ? "png" : "jpg"
            jobs = frames.map { Job(input: $0, output: outputURL.appendingPathComponent(stem($0) + "." + ext)) }
        } else {
            guard ImageFormat(fileExtension: outputURL.pathExtension) != nil else {
                fail(ComposeExit.ioError, "\(output): output must end in .jpg, .jpeg or .png")
            }
            jobs = [Job(input: frames[0], output: outputURL)]
        }

        let shared = try loadSharedAnnotations()
        let composer: FrameComposer
        do {
            var limits = DecodeLimits.default
            limits.maxPixels = Int(maxMegapixels * 1_000_000)
            composer = try FrameComposer(renderer: OverlayRenderer(text: TextRenderer()), limits: limits)
        } catch let error as FontError {
            fail(ComposeExit.fontError, "fonts: \(error.message)")
        }

        var firstFailure: ExitCode?
        var failed = 0
        for job in jobs {
            do {
                try compose(job, shared: shared, composer: composer)
            } catch let failure as Failure {
                FileHandle.standardError.write(Data(("herdlens compose: " + failure.message + "\n").utf8))
                failed += 1
                if firstFailure == nil { firstFailure = failure.exit }
            }
        }
        if isBatch && (verbose || failed > 0) {
            let summary = "herdlens compose: \(jobs.count - failed) of \(jobs.count) frame(s) written\n"
            FileHandle.standardError.write(Data(summary.utf8))
        }
        if let firstFailure { throw firstFailure }
    }

    /// Largest annotations file accepted (an annotation set is bounded far below this).
    static let maxAnnotationBytes = 16 * 1024 * 1024

    private func stem(_ url: URL) -> String { url.deletingPathExtension().lastPathComponent }

    private func fail(_ code: ExitCode, _ message: String) -> Never {
        FileHandle.standardError.write(Data(("herdlens compose: " + message + "\n").utf8))
        Foundation.exit(code.rawValue)
    }

    /// The set for every frame when --annotations names a file; nil for per-frame sidecars.
    private func loadSharedAnnotations() throws -> AnnotationSet? {
        guard let annotations else { return nil }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: annotations, isDirectory: &isDirectory) else {
            fail(ComposeExit.ioError, "\(annotations): no such file or directory")
        }
        if isDirectory.boolValue { return nil }
        do {
            return try readAnnotations(URL(fileURLWithPath: annotations))
        } catch let failure as Failure {
            fail(failure.exit, failure.message)
        }
    }

    private func readAnnotations(_ url: URL) throws -> AnnotationSet {
        let data: Data
        do {
            data = Data(try FileIO.readAll(url.path, limit: Self.maxAnnotationBytes))
        } catch let error as FileIO.TooLarge {
            throw Failure(exit: ComposeExit.badAnnotations, message: "\(url.path): bad annotations (invalidAnnotation): file \(error)")
        } catch {
            throw Failure(exit: ComposeExit.ioError, message: "\(url.path): cannot read annotations: \(error)")
        }
        do {
            return try AnnotationSet.decode(json: data)
        } catch {
            throw Failure(exit: ComposeExit.badAnnotations, message: "\(url.path): bad annotations (\(error.code)): \(error.message)")
        }
    }

    /// The set for one frame: shared, from the --annotations directory, or a sidecar; nil for none.
    private func annotations(for input: URL, shared: AnnotationSet?) throws -> AnnotationSet? {
        if let shared { return shared }
        let name = stem(input) + ".annotations.json"
        let folder = annotations.map { URL(fileURLWithPath: $0) } ?? input.deletingLastPathComponent()
        let sidecar = folder.appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: sidecar.path) else { return nil }
        return try readAnnotations(sidecar)
    }

    private func compose(_ job: Job, shared: AnnotationSet?, composer: FrameComposer) throws {
        let set = try annotations(for: job.input, shared: shared)
        let bytes: [UInt8]
        do {
            bytes = try FileIO.readAll(job.input.path, limit: DecodeLimits.default.maxBytes)
        } catch let error as FileIO.TooLarge {
            throw Failure(exit: ComposeExit.badImage, message: "\(job.input.path): bad image (tooLarge): file \(error)")
        } catch {
            throw Failure(exit: ComposeExit.ioError, message: "\(job.input.path): cannot read: \(error)")
        }
        let outputFormat = ImageFormat(fileExtension: job.output.pathExtension) ?? .jpeg
        let options = ComposeOptions(outputFormat: outputFormat, quality: quality, allowCoefficientPath: !pixelPath)
        let result: (bytes: [UInt8], report: ComposeReport)
        do {
            result = try composer.compose(bytes, annotations: set, options: options)
        } catch let error as CodecError {
            throw Failure(exit: ComposeExit.badImage, message: "\(job.input.path): bad image (\(error.code)): \(error.message)")
        } catch let error as FontError {
            throw Failure(exit: ComposeExit.fontError, message: "\(job.input.path): font error: \(error.message)")
        } catch {
            throw Failure(exit: ComposeExit.internalError, message: "\(job.input.path): \(error)")
        }
        do {
            try FileIO.writeReplacing(job.output.path, result.bytes)
        } catch {
            throw Failure(exit: ComposeExit.ioError, message: "\(job.output.path): cannot write: \(error)")
        }
        if verbose {
            let r = result.report
            print("\(job.input.lastPathComponent) -> \(job.output.lastPathComponent) \(r.width)x\(r.height) path=\(r.path.rawValue) total=\(Self.ms(r.total)) ms decode=\(Self.ms(r.decode)) draw=\(Self.ms(r.draw)) text=\(Self.ms(r.text)) composite=\(Self.ms(r.composite)) encode=\(Self.ms(r.encode)) tiles=\(r.touchedTiles) blocks=\(r.path == .coefficients ? "\(composer.lastBlockCounts)" : "-")")
        }
    }

    static func ms(_ d: Duration) -> String {
        let c = d.components
        return String(format: "%.3f", Double(c.seconds) * 1000 + Double(c.attoseconds) / 1e15)
    }
}
