import CHerdWorker
import Foundation
import HerdAnalysis
import HerdCodecs
import HerdImaging
import HerdOverlay
import HerdProtocol

/// The codec worker process: reads requests on stdin, answers on stdout, one at a time. It loads its
/// fonts, then confines itself (`herdworker_confine`) before it reads the first untrusted byte, and
/// holds nothing but the images it was sent: no tokens, no data directory, no sockets.
///
/// Arguments: `--parent PID --memory-mb N --max-pixels N --max-bytes N`. Exit status 0 when the server
/// closes the pipe, 70 when it could not start.
public enum CodecWorkerMain {
    /// Images kept between `open` and `render`; the oldest is forgotten past this many.
    static let maxHandles = 32

    public static func run(arguments: [String]) -> Int32 {
        var options: [String: Int] = [:]
        var i = 0
        while i + 1 < arguments.count {
            if arguments[i].hasPrefix("--"), let value = Int(arguments[i + 1]) { options[String(arguments[i].dropFirst(2))] = value }
            i += 2
        }
        let limits = DecodeLimits(
            maxPixels: options["max-pixels"] ?? DecodeLimits.default.maxPixels, maxDimension: 65_500,
            maxBytes: options["max-bytes"] ?? DecodeLimits.default.maxBytes)
        let state: WorkerState
        do {
            state = try WorkerState(limits: limits)
        } catch {
            FileHandle.standardError.write(Data("herdlens-codec-worker: cannot start: \(error)\n".utf8))
            return 70
        }
        var report = herdworker_confinement()
        let memory = Int64(options["memory-mb"] ?? 0) * 1024 * 1024
        let rc = herdworker_confine(memory, 32, pid_t(options["parent"] ?? 0), &report)
        guard rc == 0 else {
            FileHandle.standardError.write(Data("herdlens-codec-worker: confinement failed (errno \(rc))\n".utf8))
            return 70
        }
        let confinement = WorkerConfinement(
            noNewPrivileges: report.no_new_privs != 0,
            landlockABI: Int(report.landlock_abi), seccomp: report.seccomp != 0, memoryLimitBytes: report.memory_limit,
            maxOpenFiles: Int(report.max_files))
        do throws(WorkerIOError) {
            try WorkerIO.write(
                WorkerMessage(op: .hello, id: 0, json: encode(WorkerHello(pid: getpid(), confinement: confinement))), to: 1, deadline: nil)
            while true {
                let request = try WorkerIO.read(from: 0, deadline: nil)
                try WorkerIO.write(state.handle(request), to: 1, deadline: nil)
            }
        } catch {
            return error == .closed ? 0 : 71
        }
    }

    static func encode(_ value: some Encodable) -> [UInt8] {
        (try? Array(JSONEncoder().encode(value))) ?? []
    }
}

/// The worker's codecs and kept images.
private final class WorkerState {
    let limits: DecodeLimits
    let composer: FrameComposer
    let decoder: ImageDecoder
    let encoder: JPEGEncoder
    let jsonDecoder = JSONDecoder()
    private var images: [UInt64: (bytes: [UInt8], info: ImageInfo)] = [:]
    private var order: [UInt64] = []
    /// Decoded images kept from `open` for `render`, bounded in bytes (the oldest are dropped and
    /// decoded again if rendered after all).
    private var prepared: [UInt64: FrameComposer.PreparedImage] = [:]
    private var preparedBytes = 0
    static let maxPreparedBytes = 512 * 1024 * 1024

    init(limits: DecodeLimits) throws {
        self.limits = limits
        composer = try FrameComposer(renderer: OverlayRenderer(), limits: limits)
        decoder = try ImageDecoder(limits: limits)
        encoder = try JPEGEncoder()
    }

    func handle(_ request: WorkerMessage) -> WorkerMessage {
        do {
            switch request.op {
            case .open: return try open(request)
            case .render: return try render(request)
            case .scale: return try scale(request)
            case .probe:
                let probe = try decode(ProbeRequest.self, request)
                let found = herdworker_probe(probe.readablePath)
                let reply = WorkerProbe(readFile: found & 1 != 0, openedSocket: found & 2 != 0, createdFile: found & 4 != 0)
                return WorkerMessage(op: .probe, id: request.id, json: CodecWorkerMain.encode(reply))
            case .hello, .failure:
                throw CodecError.invalidArgument("not a request")
            }
        } catch let error as CodecError {
            return failure(request.id, code: error.code, message: error.message)
        } catch {
            return failure(request.id, code: "renderFailed", message: "\(error)")
        }
    }

    private func failure(_ id: UInt64, code: String, message: String) -> WorkerMessage {
        WorkerMessage(op: .failure, id: id, json: CodecWorkerMain.encode(FailureReply(code: code, message: message)))
    }

    private func decode<T: Decodable>(_ type: T.Type, _ request: WorkerMessage) throws -> T {
        do {
            return try jsonDecoder.decode(T.self, from: Data(request.json))
        } catch {
            throw CodecError.invalidArgument("malformed \(request.op) request")
        }
    }

    private func open(_ request: WorkerMessage) throws -> WorkerMessage {
        let open = try decode(OpenRequest.self, request)
        guard let bytes = request.blobs.first else { throw CodecError.empty() }
        try limits.check(byteCount: bytes.count)
        let info = try decoder.readInfo(bytes)
        try DecodeLimits(maxPixels: open.maxPixels, maxDimension: open.maxDimension, maxBytes: limits.maxBytes)
            .check(width: info.width, height: info.height)
        forget(open.handle)
        var decodedPixels: PixelBuffer?
        if open.decode == true {
            let image = try composer.prepare(bytes)
            prepared[open.handle] = image
            preparedBytes += image.byteCost
            decodedPixels = image.pixels
        }
        images[open.handle] = (bytes, info)
        order.append(open.handle)
        while order.count > CodecWorkerMain.maxHandles { forget(order[0]) }
        var i = 0
        while preparedBytes > Self.maxPreparedBytes, i < order.count {
            if let dropped = prepared.removeValue(forKey: order[i]) { preparedBytes -= dropped.byteCost }
            i += 1
        }
        var reply = OpenReply(
            format: info.format.rawValue, width: info.width, height: info.height, displayWidth: info.displayWidth,
            displayHeight: info.displayHeight)
        var blobs: [[UInt8]] = []
        if open.analysis == true {
            // A frame already decoded to pixels (a PNG) is reduced from them, not decoded twice.
            let picture = try decodedPixels.map { AnalysisImage($0, frameWidth: info.displayWidth, frameHeight: info.displayHeight) }
                ?? AnalysisDecode.image(bytes, decoder: decoder)
            reply.analysisWidth = picture.width
            reply.analysisHeight = picture.height
            blobs.append(picture.rgb)
        }
        return WorkerMessage(op: .open, id: request.id, json: CodecWorkerMain.encode(reply), blobs: blobs)
    }

    private func render(_ request: WorkerMessage) throws -> WorkerMessage {
        let render = try decode(RenderRequest.self, request)
        guard let image = images[render.handle] else { throw CodecError.invalidArgument("no image under handle \(render.handle)") }
        let decoded = prepared[render.handle]
        forget(render.handle)
        let (annotated, report) = try decoded.map { try composer.compose(prepared: $0, annotations: render.annotations) }
            ?? composer.compose(image.bytes, annotations: render.annotations)
        var blobs = [annotated]
        var variants: [RenderReply.Variant] = []
        for spec in render.variants.prefix(8) {
            let scaled = try VariantScaler.scale(
                spec.overlay ? annotated : image.bytes, width: report.width, maxWidth: spec.maxWidth, decoder: decoder.jpeg,
                encoder: encoder)
            blobs.append(scaled.bytes)
            variants.append(RenderReply.Variant(spec: spec, width: scaled.width ?? report.width, height: scaled.height ?? report.height))
        }
        let stages = [report.decode, report.draw, report.text, report.composite, report.encode].map(\.nanoseconds)
        let reply = RenderReply(
            path: report.path.rawValue, width: report.width, height: report.height, stageNanoseconds: stages, variants: variants)
        return WorkerMessage(op: .render, id: request.id, json: CodecWorkerMain.encode(reply), blobs: blobs)
    }

    private func scale(_ request: WorkerMessage) throws -> WorkerMessage {
        let scale = try decode(ScaleRequest.self, request)
        guard let bytes = request.blobs.first else { throw CodecError.empty() }
        try limits.check(byteCount: bytes.count)
        let info = try decoder.readInfo(bytes)
        try limits.check(width: info.width, height: info.height)
        let scaled = try VariantScaler.scale(bytes, width: info.displayWidth, maxWidth: scale.maxWidth, decoder: decoder.jpeg, encoder: encoder)
        let reply = ScaleReply(width: scaled.width ?? info.displayWidth, height: scaled.height ?? info.displayHeight)
        return WorkerMessage(op: .scale, id: request.id, json: CodecWorkerMain.encode(reply), blobs: [scaled.bytes])
    }

    private func forget(_ handle: UInt64) {
        if let dropped = prepared.removeValue(forKey: handle) { preparedBytes -= dropped.byteCost }
        guard images.removeValue(forKey: handle) != nil else { return }
        order.removeAll { $0 == handle }
    }
}

extension Duration {
    var nanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }
}
