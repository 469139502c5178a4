/// A constant-velocity Kalman filter on one coordinate: position and velocity per frame, with
/// process noise `q` and measurement noise `r`. The tracker runs four (centre x, centre y, width,
/// height) per track.
struct MotionFilter: Sendable, Hashable {
    private(set) var position: Double
    private(set) var velocity: Double = 0
    // Covariance [[p00, p01], [p01, p11]].
    private var p00: Double
    private var p01: Double = 0
    private var p11: Double
    let q: Double
    let r: Double

    init(position: Double, q: Double, r: Double) {
        self.position = position
        self.q = q
        self.r = r
        p00 = r
        p11 = 10 * r
    }

    /// One frame ahead.
    mutating func predict() {
        position += velocity
        // P = F P Fᵀ + Q with F = [[1, 1], [0, 1]].
        let n00 = p00 + 2 * p01 + p11 + q / 4
        let n01 = p01 + p11 + q / 2
        let n11 = p11 + q
        (p00, p01, p11) = (n00, n01, n11)
    }

    /// Stops the motion (the estimate holds still from here until the next measurement).
    mutating func halt() { velocity = 0 }

    /// Folds in a measured position.
    mutating func update(_ measured: Double) {
        let s = p00 + r
        let k0 = p00 / s
        let k1 = p01 / s
        let innovation = measured - position
        position += k0 * innovation
        velocity += k1 * innovation
        let n00 = (1 - k0) * p00
        let n01 = (1 - k0) * p01
        let n11 = p11 - k1 * p01
        (p00, p01, p11) = (n00, n01, n11)
    }
}
