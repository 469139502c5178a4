/// Limits checked against an image's header before any pixel buffer is allocated, so a forged
/// 65535x65535 header costs nothing.
public struct DecodeLimits: Sendable, Hashable {
    /// Most pixels (width x height) an image may have; 40 megapixels by default.
    public var maxPixels: Int
    /// Longest side in pixels.
    public var maxDimension: Int
    /// Most encoded bytes accepted.
    public var maxBytes: Int

    public init(maxPixels: Int = 40_000_000, maxDimension: Int = 65_500, maxBytes: Int = 64 * 1024 * 1024) {
        self.maxPixels = maxPixels
        self.maxDimension = maxDimension
        self.maxBytes = maxBytes
    }

    public static let `default` = DecodeLimits()

    /// Throws `tooLarge` when an image of this size is over the limits.
    public func check(width: Int, height: Int) throws(CodecError) {
        guard width > 0, height > 0 else { throw .corrupt("image has zero width or height") }
        guard width <= maxDimension, height <= maxDimension else {
            throw .tooLarge("\(width)x\(height) exceeds the \(maxDimension)-pixel side limit")
        }
        guard width * height <= maxPixels else {
            throw .tooLarge("\(width)x\(height) is \(width * height) pixels, over the limit of \(maxPixels)")
        }
    }

    /// Throws `empty` for no bytes, `tooLarge` past `maxBytes`.
    public func check(byteCount: Int) throws(CodecError) {
        if byteCount == 0 { throw .empty() }
        guard byteCount <= maxBytes else { throw .tooLarge("\(byteCount) bytes exceeds the \(maxBytes)-byte limit") }
    }
}
