/// A transparent overlay layer the size of a frame, drawn on with anti-aliased primitives and then
/// composited onto pixels (or into a JPEG's coefficients by HerdCodecs).
///
/// Storage is premultiplied RGBA, touched lazily in 8x8 tiles: a tile is cleared the first time a
/// frame draws into it, and only touched tiles are composited. An overlay that covers 10% of a frame
/// costs 10% of one, and `clear()` is O(touched tiles). One canvas is reused frame after frame.
/// Not thread-safe: one owner at a time.
public final class Canvas {
    /// Tile edge in pixels; matches a JPEG block.
    public static let tileSize = 8

    public let width: Int
    public let height: Int
    public let tilesX: Int
    public let tilesY: Int

    let pixels: UnsafeMutablePointer<UInt8>
    let tileMask: UnsafeMutablePointer<UInt8>
    /// Indices of tiles drawn into since `clear()`, in first-touch order (`touchedCount` of them).
    private let touchedTiles: UnsafeMutablePointer<Int32>
    private var touchedCount = 0
    // The canvas has one owner at a time (documented); skip the runtime's exclusivity bookkeeping on
    // the per-span hot path.
    @exclusivity(unchecked) var rasterizer = Rasterizer()

    /// A transparent canvas; both sides must be in 1...65535.
    public init(width: Int, height: Int) throws(DrawingError) {
        guard (1...65535).contains(width), (1...65535).contains(height) else {
            throw .invalidSize("canvas \(width)x\(height)")
        }
        self.width = width
        self.height = height
        self.tilesX = (width + 7) / 8
        self.tilesY = (height + 7) / 8
        pixels = .allocate(capacity: width * height * 4)
        pixels.initialize(repeating: 0, count: width * height * 4)
        tileMask = .allocate(capacity: tilesX * tilesY)
        tileMask.initialize(repeating: 0, count: tilesX * tilesY)
        touchedTiles = .allocate(capacity: tilesX * tilesY)
    }

    deinit {
        pixels.deallocate()
        tileMask.deallocate()
        touchedTiles.deallocate()
    }

    /// Makes the whole canvas transparent again.
    public func clear() {
        for i in 0..<touchedCount { tileMask[Int(touchedTiles[i])] = 0 }
        touchedCount = 0
    }

    /// True when nothing has been drawn since the last `clear()`.
    public var isEmpty: Bool { touchedCount == 0 }

    /// Number of 8x8 tiles drawn into since the last `clear()`.
    public var touchedTileCount: Int { touchedCount }

    /// The premultiplied RGBA colour at (x, y); transparent where nothing was drawn.
    public func premultipliedPixel(x: Int, y: Int) -> Color {
        precondition(x >= 0 && x < width && y >= 0 && y < height, "pixel out of bounds")
        guard tileMask[(y >> 3) * tilesX + (x >> 3)] != 0 else { return .clear }
        let p = pixels + (y * width + x) * 4
        return Color(red: p[0], green: p[1], blue: p[2], alpha: p[3])
    }

    /// Raw access for codecs: premultiplied RGBA rows of `width * 4` bytes, and one byte per 8x8 tile
    /// (non-zero where drawn) in a `tilesX` by `tilesY` grid.
    public func withLayer<R>(
        _ body: (_ layer: UnsafePointer<UInt8>, _ stride: Int, _ tileMask: UnsafePointer<UInt8>) throws -> R
    ) rethrows -> R {
        try body(UnsafePointer(pixels), width * 4, UnsafePointer(tileMask))
    }

    // MARK: - Blending

    @inline(__always)
    static func div255(_ v: UInt32) -> UInt32 {
        let t = v + 128
        return (t + (t >> 8)) >> 8
    }

    /// Clears tiles of row `y` in [x0, x1) on first touch.
    @inline(__always)
    func touch(row y: Int, from x0: Int, to x1: Int) {
        let ty = y >> 3
        var tx = x0 >> 3
        let last = (x1 - 1) >> 3
        while tx <= last {
            let index = ty * tilesX + tx
            if tileMask[index] == 0 {
                tileMask[index] = 1
                touchedTiles[touchedCount] = Int32(index)
                touchedCount &+= 1
                let px = tx << 3, py = ty << 3
                let w = min(8, width - px), h = min(8, height - py)
                for r in 0..<h { (pixels + ((py + r) * width + px) * 4).update(repeating: 0, count: w * 4) }
            }
            tx += 1
        }
    }

    /// Source-over of `color` at `coverage` onto pixels [x0, x1) of row y (already clipped).
    func blendSpan(row y: Int, from x0: Int, to x1: Int, color: Color, coverage: Float) {
        let alpha = UInt32(Float(color.alpha) * coverage + 0.5)
        if alpha == 0 || x0 >= x1 { return }
        touch(row: y, from: x0, to: x1)
        let source = Self.premultipliedWord(color, alpha: alpha)
        let raw = UnsafeMutableRawPointer(pixels + (y * width + x0) * 4)
        let count = x1 - x0
        if alpha == 255 {
            for i in 0..<count { raw.storeBytes(of: source, toByteOffset: i &* 4, as: UInt32.self) }
            return
        }
        let inverse = 255 &- alpha
        for i in 0..<count {
            let offset = i &* 4
            let d = raw.load(fromByteOffset: offset, as: UInt32.self)
            raw.storeBytes(of: d == 0 ? source : source &+ Self.scale(d, by: inverse), toByteOffset: offset, as: UInt32.self)
        }
    }

    /// Premultiplied RGBA packed little-endian (R in the low byte), as the layer stores it.
    @inline(__always)
    static func premultipliedWord(_ color: Color, alpha: UInt32) -> UInt32 {
        let r = div255(UInt32(color.red) &* alpha)
        let g = div255(UInt32(color.green) &* alpha)
        let b = div255(UInt32(color.blue) &* alpha)
        return r | g << 8 | b << 16 | alpha << 24
    }

    /// Every channel of a packed pixel times `factor / 255`, two channels per multiply.
    @inline(__always)
    static func scale(_ pixel: UInt32, by factor: UInt32) -> UInt32 {
        var rb = (pixel & 0x00FF_00FF) &* factor &+ 0x0080_0080
        rb = ((rb &+ ((rb >> 8) & 0x00FF_00FF)) >> 8) & 0x00FF_00FF
        var ag = ((pixel >> 8) & 0x00FF_00FF) &* factor &+ 0x0080_0080
        ag = (ag &+ ((ag >> 8) & 0x00FF_00FF)) & 0xFF00_FF00
        return rb | ag
    }

    /// Source-over of `color` through an 8-bit coverage mask (a glyph) whose top-left lands at (x, y).
    public func blendMask(
        _ mask: UnsafeBufferPointer<UInt8>, width maskWidth: Int, height maskHeight: Int, pitch: Int,
        x: Int, y: Int, color: Color
    ) {
        guard maskWidth > 0, maskHeight > 0, color.alpha > 0 else { return }
        let colStart = max(0, -x), colEnd = min(maskWidth, width - x)
        let rowStart = max(0, -y), rowEnd = min(maskHeight, height - y)
        guard colStart < colEnd, rowStart < rowEnd, mask.count >= (maskHeight - 1) * pitch + maskWidth else { return }
        let ca = UInt32(color.alpha)
        for row in rowStart..<rowEnd {
            let py = y + row
            let m = mask.baseAddress! + row * pitch
            var first = colStart
            while first < colEnd && m[first] == 0 { first += 1 }
            if first == colEnd { continue }
            var last = colEnd
            while last > first && m[last - 1] == 0 { last -= 1 }
            touch(row: py, from: x + first, to: x + last)
            var p = pixels + (py * width + x + first) * 4
            for col in first..<last {
                let alpha = Self.div255(UInt32(m[col]) * ca)
                if alpha != 0 {
                    let inverse = 255 - alpha
                    p[0] = UInt8(Self.div255(UInt32(color.red) * alpha) + Self.div255(UInt32(p[0]) * inverse))
                    p[1] = UInt8(Self.div255(UInt32(color.green) * alpha) + Self.div255(UInt32(p[1]) * inverse))
                    p[2] = UInt8(Self.div255(UInt32(color.blue) * alpha) + Self.div255(UInt32(p[2]) * inverse))
                    p[3] = UInt8(alpha + Self.div255(UInt32(p[3]) * inverse))
                }
                p += 4
            }
        }
    }

    /// Source-over of a straight-alpha image (an icon) with its top-left at (x, y), scaled by `opacity`.
    public func drawImage(_ image: PixelBuffer, x: Int, y: Int, opacity: Double = 1) throws(DrawingError) {
        guard opacity.isFinite else { throw .nonFiniteCoordinate("image opacity") }
        let o = UInt32((min(max(opacity, 0), 1) * 255).rounded())
        if o == 0 { return }
        let colStart = max(0, -x), colEnd = min(image.width, width - x)
        let rowStart = max(0, -y), rowEnd = min(image.height, height - y)
        guard colStart < colEnd, rowStart < rowEnd else { return }
        let bpp = image.format.bytesPerPixel
        image.bytes.withUnsafeBufferPointer { src in
            for row in rowStart..<rowEnd {
                let py = y + row
                touch(row: py, from: x + colStart, to: x + colEnd)
                var p = pixels + (py * width + x + colStart) * 4
                for col in colStart..<colEnd {
                    let s = (row * image.width + col) * bpp
                    let r, g, b: UInt32
                    var a: UInt32 = 255
                    if bpp == 1 {
                        r = UInt32(src[s]); g = r; b = r
                    } else {
                        r = UInt32(src[s]); g = UInt32(src[s + 1]); b = UInt32(src[s + 2])
                        if bpp == 4 { a = UInt32(src[s + 3]) }
                    }
                    let alpha = Self.div255(a * o)
                    if alpha != 0 {
                        let inverse = 255 - alpha
                        p[0] = UInt8(Self.div255(r * alpha) + Self.div255(UInt32(p[0]) * inverse))
                        p[1] = UInt8(Self.div255(g * alpha) + Self.div255(UInt32(p[1]) * inverse))
                        p[2] = UInt8(Self.div255(b * alpha) + Self.div255(UInt32(p[2]) * inverse))
                        p[3] = UInt8(alpha + Self.div255(UInt32(p[3]) * inverse))
                    }
                    p += 4
                }
            }
        }
    }

    // MARK: - Compositing

    /// Composites everything drawn onto `buffer` (source-over), touching only drawn tiles.
    /// The buffer must have the canvas's size.
    public func composite(onto buffer: inout PixelBuffer) throws(DrawingError) {
        guard buffer.width == width, buffer.height == height else {
            throw .invalidSize("canvas \(width)x\(height) onto image \(buffer.width)x\(buffer.height)")
        }
        let bpp = buffer.format.bytesPerPixel
        let format = buffer.format
        buffer.bytes.withUnsafeMutableBufferPointer { dst in
            let base = dst.baseAddress!
            for i in 0..<touchedCount {
                let tile = touchedTiles[i]
                let ty = Int(tile) / tilesX, tx = Int(tile) % tilesX
                let px = tx << 3, py = ty << 3
                let w = min(8, width - px), h = min(8, height - py)
                for r in 0..<h {
                    var s = pixels + ((py + r) * width + px) * 4
                    var d = base + ((py + r) * width + px) * bpp
                    for _ in 0..<w {
                        let sa = UInt32(s[3])
                        if sa != 0 {
                            let inverse = 255 - sa
                            switch format {
                            case .rgb:
                                d[0] = UInt8(UInt32(s[0]) + Self.div255(UInt32(d[0]) * inverse))
                                d[1] = UInt8(UInt32(s[1]) + Self.div255(UInt32(d[1]) * inverse))
                                d[2] = UInt8(UInt32(s[2]) + Self.div255(UInt32(d[2]) * inverse))
                            case .gray:
                                let luma = UInt32(Color(red: s[0], green: s[1], blue: s[2]).luma)
                                d[0] = UInt8(min(255, luma + Self.div255(UInt32(d[0]) * inverse)))
                            case .rgba:
                                let da = UInt32(d[3])
                                let keep = Self.div255(da * inverse)
                                let outA = sa + keep
                                for c in 0..<3 {
                                    let v = UInt32(s[c]) * 255 + UInt32(d[c]) * keep
                                    d[c] = UInt8(min(255, (v + outA / 2) / outA))
                                }
                                d[3] = UInt8(outA)
                            }
                        }
                        s += 4
                        d += bpp
                    }
                }
            }
        }
    }
}
