/// What became of an uploaded frame.
public enum IngestOutcome: Sendable, Hashable {
    /// Processed and broadcast.
    case accepted
    /// This seq was already processed; nothing was done again.
    case duplicate
}
