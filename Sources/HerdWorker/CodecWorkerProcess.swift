import CHerdWorker
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One running worker process and the parent's ends of its pipes. Used only from its slot's queue.
final class CodecWorkerProcess {
    let pid: pid_t
    let hello: WorkerHello
    private let toChild: Int32
    private let fromChild: Int32
    private let directory: String
    private var reaped = false

    private init(pid: pid_t, toChild: Int32, fromChild: Int32, directory: String, hello: WorkerHello) {
        self.pid = pid
        self.toChild = toChild
        self.fromChild = fromChild
        self.directory = directory
        self.hello = hello
    }

    deinit {
        close(toChild)
        close(fromChild)
        if !reaped {
            kill(pid, SIGKILL)
            var kind: Int32 = 0, value: Int32 = 0
            _ = herdworker_reap(pid, 1, &kind, &value)
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Starts a worker in a fresh private directory and waits for its hello.
    static func spawn(_ configuration: CodecWorkerPool.Configuration) throws(CodecWorkerError) -> CodecWorkerProcess {
        var template = Array((configuration.workingDirectoryParent + "/herdlens-worker-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw .unavailable("cannot make a worker directory: errno \(errno)") }
        let directory = String(cString: made)
        let arguments = [
            configuration.executable, "--parent", "\(getpid())", "--memory-mb", "\(configuration.memoryLimitMB)",
            "--max-pixels", "\(configuration.limits.maxPixels)", "--max-bytes", "\(configuration.limits.maxBytes)",
        ]
        var environment = ["SWIFT_BACKTRACE=enable=no"]
        if let font = ProcessInfo.processInfo.environment["HERDLENS_FONT"] { environment.append("HERDLENS_FONT=\(font)") }
        var toChild: Int32 = -1, fromChild: Int32 = -1, pid: pid_t = 0
        let rc = withCStrings(arguments) { argv in
            withCStrings(environment) { envp in
                herdworker_spawn(configuration.executable, argv, envp, directory, 1 << 20, &toChild, &fromChild, &pid)
            }
        }
        guard rc == 0 else {
            try? FileManager.default.removeItem(atPath: directory)
            throw .unavailable("cannot start \(configuration.executable): \(String(cString: strerror(rc)))")
        }
        do {
            let message = try WorkerIO.read(from: fromChild, deadline: .now + configuration.startDeadline)
            guard message.op == .hello, let hello = try? JSONDecoder().decode(WorkerHello.self, from: Data(message.json)) else {
                throw WorkerIOError.malformed
            }
            // The worker has made the empty directory its working directory and is confined; it never
            // needs the name again. Removed now, it is not left behind when the server is killed.
            rmdir(directory)
            return CodecWorkerProcess(pid: pid, toChild: toChild, fromChild: fromChild, directory: directory, hello: hello)
        } catch {
            // Adopt what we have so deinit kills, reaps and cleans up.
            let failed = CodecWorkerProcess(
                pid: pid, toChild: toChild, fromChild: fromChild, directory: directory,
                hello: WorkerHello(pid: pid, confinement: WorkerConfinement(
                    noNewPrivileges: false, landlockABI: 0, seccomp: false, memoryLimitBytes: 0, maxOpenFiles: 0)))
            let ending = failed.end()
            throw .unavailable("codec worker did not start (\(error); \(ending))")
        }
    }

    /// Sends `request` and waits for the reply with the same id until `deadline`.
    func exchange(_ request: WorkerMessage, deadline: ContinuousClock.Instant) throws(WorkerIOError) -> WorkerMessage {
        try WorkerIO.write(request, to: toChild, deadline: deadline)
        while true {
            let reply = try WorkerIO.read(from: fromChild, deadline: deadline)
            if reply.id == request.id { return reply }
        }
    }

    /// Kills the worker (if it still runs) and says how it ended: "signal 11 (SIGSEGV)", "exit 71".
    func end() -> String {
        guard !reaped else { return "ended" }
        var kind: Int32 = 0, value: Int32 = 0
        if herdworker_reap(pid, 0, &kind, &value) == 0, kind == 0 {
            kill(pid, SIGKILL)
            _ = herdworker_reap(pid, 1, &kind, &value)
            reaped = true
            return "killed"
        }
        reaped = true
        if kind == 2 { return "signal \(value) (\(String(cString: strsignal(value))))" }
        return "exit \(value)"
    }

    /// How the worker ended after its pipe closed: it is dying, so wait for it (briefly).
    func reapAfterClose() -> String {
        let deadline = ContinuousClock.now + .seconds(2)
        while ContinuousClock.now < deadline {
            var kind: Int32 = 0, value: Int32 = 0
            guard herdworker_reap(pid, 0, &kind, &value) == 0 else { break }
            if kind != 0 {
                reaped = true
                return kind == 2 ? "signal \(value) (\(String(cString: strsignal(value))))" : "exit \(value)"
            }
            usleep(1000)
        }
        return end()
    }
}

/// Calls `body` with a NULL-terminated C array of `strings`.
private func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
    let pointers = strings.map { strdup($0) } + [nil]
    defer { pointers.forEach { free($0) } }
    return body(pointers)
}
