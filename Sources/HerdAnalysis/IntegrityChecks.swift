import Foundation
import HerdProtocol

/// Frame-integrity checks on one stream, fed every frame in arrival order: a frozen picture (near
/// identical frames for `frozenSeconds` of capture time while seq advances), black or blown-out
/// frames, the lens covered or the picture blurred (sharpness under `blurRatio` of the stream's
/// baseline for `blurFrames` frames), seq gaps, device clock skew beyond `maxSkewSeconds`, and a
/// frame-rate collapse (under `rateCollapseRatio` of the baseline rate over `rateWindowSeconds`), and
/// silence: no frame at all for `silenceSeconds` (`silence(at:)`, asked on a clock, not by a frame).
public struct IntegrityChecks: Sendable {
    public struct Parameters: Sendable, Hashable, Codable {
        public var frozenSeconds = 10.0
        /// Thumbnail difference under which two frames count as the same picture (0…255 scale).
        public var frozenDifference = 0.3
        public var blackLuma = 16.0
        public var blownLuma = 240.0
        /// Spread of luma under which a black or blown-out frame is flat (no picture at all).
        public var flatSpread = 12.0
        public var blurRatio = 0.35
        public var blurFrames = 5
        /// Frames that set the sharpness baseline before the blur check applies.
        public var baselineFrames = 30
        public var maxSkewSeconds = 30.0
        public var rateWindowSeconds = 10.0
        public var rateCollapseRatio = 0.3
        /// Seconds without any frame, while a session is open, before `frame.silent` (0: off).
        public var silenceSeconds = 10.0
        public init() {}
    }

    public var parameters: Parameters
    private var lastSeq: UInt64?
    private var previous: FrameSignature?
    private var frozenSince: Double?
    private var baseline: Double?
    private var baselineCount = 0
    private var blurredRun = 0
    /// Receive times (seconds) of recent frames, for the rate; and the baseline rate.
    private var arrivals: [Double] = []
    private var baselineRate: Double?
    /// Recent (receivedAt − capturedAt), for the skew: the smallest is the clock offset plus transit.
    private var delays: [Double] = []

    /// Receive times kept for the rate (a flood cannot grow the window past this).
    static let maxArrivals = 2_000

    public init(parameters: Parameters = Parameters()) {
        self.parameters = parameters
    }

    /// `frame.silent` when the last frame came `silenceSeconds` or more before `now` (seconds since
    /// 1970, the server's clock, as `received`); nil before the first frame or when frames come.
    public func silence(at now: Double) -> RuleFinding? {
        guard parameters.silenceSeconds > 0, let last = arrivals.last, now - last >= parameters.silenceSeconds else { return nil }
        let seconds = Int(now - last)
        return RuleFinding(
            rule: "frame.silent", severity: .critical, values: ["seconds": "\(seconds)"],
            message: LocalizedText(en: "No frames for \(seconds) s", zhHans: "\(seconds) 秒未收到画面", zhHant: "\(seconds) 秒未收到畫面"))
    }

    /// Checks one frame. `captured` and `received` are seconds since 1970 (device and server clocks);
    /// `signature` is nil when the frame was not decoded for analysis (only seq, skew and rate apply).
    public mutating func check(seq: UInt64, captured: Double, received: Double, signature: FrameSignature?) -> [RuleFinding] {
        var found: [RuleFinding] = []
        if let last = lastSeq, seq > last + 1 {
            let missing = seq - last - 1
            found.append(RuleFinding(
                rule: "frame.seqGap", severity: .warning, values: ["missing": "\(missing)", "after": "\(last)"],
                message: LocalizedText(en: "\(missing) frames missing after seq \(last)", zhHans: "序号 \(last) 之后缺少 \(missing) 帧", zhHant: "序號 \(last) 之後缺少 \(missing) 幀")))
        }
        if lastSeq.map({ seq > $0 }) ?? true { lastSeq = seq }

        delays.append(received - captured)
        if delays.count > 30 { delays.removeFirst(delays.count - 30) }
        if let freshest = delays.min(by: { abs($0) < abs($1) }), delays.count >= 5, abs(freshest) > parameters.maxSkewSeconds {
            let text = String(format: "%+.1f", -freshest)
            found.append(RuleFinding(
                rule: "clock.skew", severity: .warning, values: ["skewS": text],
                message: LocalizedText(en: "Device clock off by \(text) s", zhHans: "设备时钟偏差 \(text) 秒", zhHant: "設備時鐘偏差 \(text) 秒")))
        }

        arrivals.append(received)
        arrivals.removeAll { received - $0 > parameters.rateWindowSeconds }
        if arrivals.count > Self.maxArrivals { arrivals.removeFirst(arrivals.count - Self.maxArrivals) }
        // The rate over a window at least 80% full: a collapse against the baseline, or it feeds the baseline.
        if let first = arrivals.first, received - first >= parameters.rateWindowSeconds * 0.8 {
            let rate = Double(arrivals.count - 1) / max(received - first, 1e-3)
            if let base = baselineRate, base >= 1, rate < parameters.rateCollapseRatio * base {
                found.append(RuleFinding(
                    rule: "frame.rateCollapse", severity: .warning, values: ["fps": String(format: "%.1f", rate), "baselineFps": String(format: "%.1f", base)],
                    message: LocalizedText(
                        en: String(format: "Frame rate fell to %.1f fps (usually %.1f)", rate, base), zhHans: String(format: "帧率降至 %.1f fps（通常 %.1f）", rate, base),
                        zhHant: String(format: "幀率降至 %.1f fps（通常 %.1f）", rate, base))))
            } else {
                baselineRate = baselineRate.map { 0.95 * $0 + 0.05 * rate } ?? rate
            }
        }

        guard let signature else { return found }
        if signature.lumaSpread < parameters.flatSpread && signature.meanLuma <= parameters.blackLuma {
            found.append(RuleFinding(
                rule: "frame.black", severity: .warning, values: ["meanLuma": String(format: "%.0f", signature.meanLuma)],
                message: LocalizedText(en: "Black frame: lens covered or camera dark", zhHans: "黑屏：镜头被遮挡或摄像头无画面", zhHant: "黑屏：鏡頭被遮擋或攝像頭無畫面")))
        } else if signature.lumaSpread < parameters.flatSpread && signature.meanLuma >= parameters.blownLuma {
            found.append(RuleFinding(
                rule: "frame.blownOut", severity: .warning, values: ["meanLuma": String(format: "%.0f", signature.meanLuma)],
                message: LocalizedText(en: "Blown-out frame: the picture is white", zhHans: "画面过曝：一片白色", zhHant: "畫面過曝：一片白色")))
        }
        if let base = baseline, baselineCount >= parameters.baselineFrames {
            if signature.sharpness < parameters.blurRatio * base {
                blurredRun += 1
            } else {
                blurredRun = 0
                baseline = 0.98 * base + 0.02 * signature.sharpness
            }
            if blurredRun >= parameters.blurFrames {
                found.append(RuleFinding(
                    rule: "frame.blurred", severity: .warning,
                    values: ["sharpness": String(format: "%.1f", signature.sharpness), "baseline": String(format: "%.1f", base)],
                    message: LocalizedText(en: "Lens covered or out of focus", zhHans: "镜头被遮挡或失焦", zhHant: "鏡頭被遮擋或失焦")))
            }
        } else {
            baselineCount += 1
            baseline = baseline.map { $0 + (signature.sharpness - $0) / Double(baselineCount) } ?? signature.sharpness
        }
        if let previous, signature.difference(previous) < parameters.frozenDifference {
            let since = frozenSince ?? captured
            frozenSince = since
            if captured - since >= parameters.frozenSeconds {
                let seconds = String(format: "%.0f", captured - since)
                found.append(RuleFinding(
                    rule: "frame.frozen", severity: .critical, values: ["frozenS": seconds],
                    message: LocalizedText(en: "Picture frozen for \(seconds) s while frames keep coming", zhHans: "画面已冻结 \(seconds) 秒，帧仍在上传", zhHant: "畫面已凍結 \(seconds) 秒，幀仍在上傳")))
            }
        } else {
            frozenSince = nil
        }
        previous = signature
        return found
    }
}
