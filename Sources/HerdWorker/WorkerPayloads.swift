import HerdProtocol

// The JSON part of each `WorkerMessage`, by operation. Internal: only the pool and the worker loop
// speak this; it changes with both in one build.

struct WorkerHello: Codable, Sendable {
    var pid: Int32
    var confinement: WorkerConfinement
}

struct OpenRequest: Codable, Sendable {
    /// The handle the server chose; the image is blob 0.
    var handle: UInt64
    var maxPixels: Int
    var maxDimension: Int
    /// Decode the image now (the accept stage's codec check) and keep the result for `render`.
    var decode: Bool?
    /// Also return the analysis picture (`AnalysisDecode`): blob 0 of the reply, RGB.
    var analysis: Bool?
}

struct OpenReply: Codable, Sendable {
    var format: String
    var width: Int
    var height: Int
    var displayWidth: Int
    var displayHeight: Int
    /// The analysis picture's size when one was asked for (its RGB bytes are blob 0).
    var analysisWidth: Int?
    var analysisHeight: Int?
}

struct RenderRequest: Codable, Sendable {
    var handle: UInt64
    var annotations: AnnotationSet?
    var variants: [VariantSpec]
}

struct RenderReply: Codable, Sendable {
    struct Variant: Codable, Sendable {
        var spec: VariantSpec
        var width: Int
        var height: Int
    }

    var path: String
    var width: Int
    var height: Int
    /// Stage times in nanoseconds: decode, draw, text, composite, encode.
    var stageNanoseconds: [Int64]
    /// Blob 0 is the annotated frame, blob i + 1 the variant i.
    var variants: [Variant]
}

struct ScaleRequest: Codable, Sendable {
    var maxWidth: Int
}

struct ScaleReply: Codable, Sendable {
    var width: Int
    var height: Int
}

struct ProbeRequest: Codable, Sendable {
    var readablePath: String
}

struct FailureReply: Codable, Sendable {
    var code: String
    var message: String
}
