import HerdAnalysis
import HerdCodecs

/// The picture analysis sees for an image: a JPEG at libjpeg's scaled decode (1/2, 1/4 or 1/8, the
/// smallest still at least `AnalysisImage.maxSide` on its longer side), a PNG decoded whole; both
/// reduced to the analysis size, in display orientation. The codec workers run it on device bytes;
/// `herdlens eval` on labelled files.
public enum AnalysisDecode {
    public static func image(_ data: [UInt8], decoder: ImageDecoder) throws(CodecError) -> AnalysisImage {
        let info = try decoder.readInfo(data)
        if info.format == .jpeg {
            let denominator = AnalysisImage.decodeDenominator(longerSide: max(info.displayWidth, info.displayHeight))
            let buffer = try decoder.jpeg.decode(data, as: .rgb, scale: JPEGScale(rawValue: denominator) ?? .full)
            return AnalysisImage(buffer, frameWidth: info.displayWidth, frameHeight: info.displayHeight)
        }
        let buffer = try decoder.decode(data, as: .rgb)
        return AnalysisImage(buffer, frameWidth: info.displayWidth, frameHeight: info.displayHeight)
    }
}
