import HerdImaging

/// Decodes JPEG or PNG, chosen by magic bytes. Holds one decoder of each kind; not thread-safe.
public final class ImageDecoder {
    public let jpeg: JPEGDecoder
    public let png: PNGDecoder

    public init(limits: DecodeLimits = .default) throws(CodecError) {
        jpeg = try JPEGDecoder(limits: limits)
        png = try PNGDecoder(limits: limits)
    }

    /// The header of a JPEG or PNG.
    public func readInfo(_ data: [UInt8]) throws(CodecError) -> ImageInfo {
        switch try Self.format(of: data) {
        case .jpeg: try jpeg.readInfo(data)
        case .png: try png.readInfo(data)
        }
    }

    /// Decodes to `format` (RGB when nil and the image has no alpha, else RGBA), orientation applied.
    public func decode(_ data: [UInt8], as format: PixelFormat? = nil) throws(CodecError) -> PixelBuffer {
        switch try Self.format(of: data) {
        case .jpeg: try jpeg.decode(data, as: format ?? .rgb)
        case .png: try png.decode(data, as: format)
        }
    }

    /// The format by magic bytes, or `empty` / `unknownFormat`.
    public static func format(of data: [UInt8]) throws(CodecError) -> ImageFormat {
        if data.isEmpty { throw .empty() }
        guard let format = ImageFormat.detect(data) else {
            let head = data.prefix(4).map { String($0, radix: 16) }.joined(separator: " ")
            throw .unknownFormat("not a JPEG or PNG image (starts with \(head))")
        }
        return format
    }
}
