/// How one frame was composed and where the time went.
public struct ComposeReport: Sendable, Hashable {
    /// The route a frame took through the composer.
    public enum Path: String, Sendable, Hashable {
        /// JPEG in, JPEG out: overlay blended into the DCT coefficients; untouched blocks bit-exact.
        case coefficients
        /// Decode to RGB, composite, encode.
        case pixels
    }

    public var path: Path
    public var width: Int
    public var height: Int
    /// Decode to pixels, or entropy-decode the coefficients.
    public var decode: Duration = .zero
    /// Shapes drawn into the overlay canvas.
    public var draw: Duration = .zero
    /// Text drawn into the overlay canvas.
    public var text: Duration = .zero
    /// Canvas composited onto pixels, or blended into coefficient blocks.
    public var composite: Duration = .zero
    /// Encode from pixels, or entropy-encode the coefficients.
    public var encode: Duration = .zero
    /// 8x8 tiles the overlay touched.
    public var touchedTiles = 0
    /// False when the overlay was the previous frame's and was reused without drawing.
    public var overlayDrawn = false

    /// A report of no time spent yet; stages are filled in as they run (here or in a codec worker).
    public init(path: Path, width: Int, height: Int) {
        self.path = path
        self.width = width
        self.height = height
    }

    /// Everything between decode and encode.
    public var compose: Duration { draw + text + composite }
    public var total: Duration { decode + compose + encode }
}
