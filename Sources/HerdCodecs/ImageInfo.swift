import HerdImaging

/// What an image's header says, read without decoding pixels.
public struct ImageInfo: Sendable, Hashable {
    public var format: ImageFormat
    /// Stored width and height (before EXIF orientation).
    public var width: Int
    public var height: Int
    /// Display orientation from EXIF; `.up` for PNG and JPEGs without the tag.
    public var orientation: ImageOrientation
    /// Channels stored in the file (1 grey, 2 grey+alpha, 3 colour, 4 colour+alpha or CMYK).
    public var components: Int
    public var hasAlpha: Bool
    /// JPEG only: progressive scans.
    public var isProgressive: Bool
    /// JPEG only: chroma subsampling as a J:a:b number (444, 422, 420, 440, 411), nil for grey or PNG.
    public var chromaSubsampling: Int?

    /// Size as displayed (orientation applied).
    public var displayWidth: Int { orientation.swapsAxes ? height : width }
    public var displayHeight: Int { orientation.swapsAxes ? width : height }
}
