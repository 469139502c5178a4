import HerdCodecs

/// A smaller JPEG of a frame for a viewer that asked for `maxWidth`: libjpeg's scaled decode at the
/// largest of 1/2, 1/4, 1/8 that fits (1/8 at least), re-encoded at quality 80. A frame already narrow
/// enough, or not a JPEG, is returned as it is (width and height nil: unchanged).
enum VariantScaler {
    static func scale(_ source: [UInt8], width: Int, maxWidth: Int, decoder: JPEGDecoder, encoder: JPEGEncoder) throws
        -> (bytes: [UInt8], width: Int?, height: Int?)
    {
        guard maxWidth < width, ImageFormat.detect(source) == .jpeg else { return (source, nil, nil) }
        let scale = JPEGScale.allCases.first { width / $0.rawValue <= maxWidth } ?? .eighth
        let image = try decoder.decode(source, scale: scale)
        return (try encoder.encode(image, quality: 80), image.width, image.height)
    }
}
