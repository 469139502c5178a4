import HerdCodecs

/// What `FrameComposer` should produce.
public struct ComposeOptions: Sendable, Hashable {
    public var outputFormat: ImageFormat
    /// JPEG quality. nil keeps the source's quantization through the coefficient path when the input is
    /// a JPEG it can take, and uses `defaultQuality` otherwise.
    public var quality: Int?
    public var subsampling: ChromaSubsampling
    /// Allow the coefficient path (JPEG in and out, no explicit quality).
    public var allowCoefficientPath: Bool

    public static let defaultQuality = 85

    public init(
        outputFormat: ImageFormat = .jpeg, quality: Int? = nil, subsampling: ChromaSubsampling = .both,
        allowCoefficientPath: Bool = true
    ) {
        self.outputFormat = outputFormat
        self.quality = quality
        self.subsampling = subsampling
        self.allowCoefficientPath = allowCoefficientPath
    }
}
