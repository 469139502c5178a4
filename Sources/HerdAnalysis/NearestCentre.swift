/// The nearest of a few centres for each of many pixels, as a plain scan of the centres finds it (the
/// first of equals), at a fraction of the cost.
///
/// Along one row the squared distance to a centre is a parabola in `x`, and all of them open the same
/// way: the nearest centre changes only where a centre to the right of the current one overtakes it,
/// at an `x` found in closed form. So a row costs one scan of the centres at its first pixel and one at
/// each change, not one per pixel.
enum NearestCentre {
    /// Calls `body(n, j)` for each pixel `n` of `pixels` (row-major indices in a picture `width` wide, in
    /// ascending order) with `j`, the index of its nearest centre (`(x, y)`).
    static func assign(_ pixels: [Int32], width: Int, centres: [(Double, Double)], _ body: (Int, Int) -> Void) {
        let k = centres.count
        guard k > 0 else { return }
        var row = -1, rowStart = 0
        var best = 0
        // The first column at which the nearest centre must be found again.
        var recheckAt = Int.min
        var rowTerm = [Double](repeating: 0, count: k)
        for n in pixels.indices {
            let i = Int(pixels[n])
            if row < 0 || i >= rowStart + width {
                row = i / width
                rowStart = row * width
                let y = Double(row)
                for j in 0..<k { rowTerm[j] = (y - centres[j].1) * (y - centres[j].1) }
                recheckAt = Int.min
            }
            let x = i - rowStart
            if x >= recheckAt {
                let px = Double(x)
                var bestDistance = Double.infinity
                for j in 0..<k {
                    let d = (px - centres[j].0) * (px - centres[j].0) + rowTerm[j]
                    if d < bestDistance {
                        bestDistance = d
                        best = j
                    }
                }
                // Where the next centre to the right overtakes this one on the row:
                // (x − cᵢ)² + rᵢ = (x − c_b)² + r_b  ⇒  x = (cᵢ² − c_b² + rᵢ − r_b) / 2(cᵢ − c_b).
                let cb = centres[best].0, rb = rowTerm[best]
                var crossing = Double.infinity
                for j in 0..<k where centres[j].0 > cb {
                    let cj = centres[j].0
                    crossing = min(crossing, (cj * cj - cb * cb + rowTerm[j] - rb) / (2 * (cj - cb)))
                }
                // Checked again from the last whole column before the crossing (a margin for rounding).
                recheckAt = crossing < Double(Int.max / 2) ? max(x + 1, Int(crossing.rounded(.down))) : Int.max
            }
            body(n, best)
        }
    }
}
