/// What a codec worker enforces on itself, as it reported after starting (see docs/security.md).
public struct WorkerConfinement: Codable, Sendable, Hashable {
    /// `PR_SET_NO_NEW_PRIVS`: no setuid or file-capability gain, a precondition of seccomp.
    public var noNewPrivileges: Bool
    /// Landlock ABI version whose every filesystem right is withheld (0: the kernel has no Landlock).
    public var landlockABI: Int
    /// A seccomp filter refuses sockets, exec, fork, ptrace, opening and changing files.
    public var seccomp: Bool
    /// `RLIMIT_AS` in bytes (0: none).
    public var memoryLimitBytes: Int64
    /// `RLIMIT_NOFILE`.
    public var maxOpenFiles: Int

    public init(
        noNewPrivileges: Bool, landlockABI: Int, seccomp: Bool, memoryLimitBytes: Int64, maxOpenFiles: Int
    ) {
        self.noNewPrivileges = noNewPrivileges
        self.landlockABI = landlockABI
        self.seccomp = seccomp
        self.memoryLimitBytes = memoryLimitBytes
        self.maxOpenFiles = maxOpenFiles
    }

    /// One line for the log.
    public var summary: String {
        let landlock = landlockABI > 0 ? "landlock abi \(landlockABI)" : "landlock unavailable"
        let memory = memoryLimitBytes > 0 ? "\(memoryLimitBytes / (1024 * 1024)) MiB" : "unlimited"
        return "no_new_privs=\(noNewPrivileges) \(landlock) seccomp=\(seccomp) memory=\(memory) files=\(maxOpenFiles)"
    }
}

/// What a worker could still do under its confinement when probed (all false when it holds).
public struct WorkerProbe: Codable, Sendable, Hashable {
    /// Opened an existing file for reading.
    public var readFile: Bool
    /// Created a network socket.
    public var openedSocket: Bool
    /// Created a file in its working directory.
    public var createdFile: Bool
}

/// One variant of a frame a viewer may ask for: with or without the overlay, scaled to fit a width.
public struct VariantSpec: Codable, Sendable, Hashable {
    public var overlay: Bool
    public var maxWidth: Int

    public init(overlay: Bool, maxWidth: Int) {
        self.overlay = overlay
        self.maxWidth = maxWidth
    }
}
