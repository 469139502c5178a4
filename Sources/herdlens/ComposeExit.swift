import ArgumentParser

/// Documented exit codes of `herdlens compose` (README, "Exit codes").
enum ComposeExit {
    /// Every frame was written.
    static let ok = ExitCode(0)
    /// Unexpected internal failure.
    static let internalError = ExitCode(1)
    /// An input image is not a JPEG/PNG we can decode (empty, truncated, corrupt, too large...).
    static let badImage = ExitCode(3)
    /// The annotations file is not valid JSON or breaks the annotation model.
    static let badAnnotations = ExitCode(4)
    /// A file could not be read or written.
    static let ioError = ExitCode(5)
    /// No usable font (install fonts-dejavu-core or set HERDLENS_FONT).
    static let fontError = ExitCode(6)
    // Usage errors (bad flags) exit 64, as swift-argument-parser does.
}
