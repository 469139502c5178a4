import Crypto
import Dispatch
import Foundation
import HerdProtocol
import Logging
import Synchronization

/// Evidence recording for every stream: sessions of hash-chained, CRC-framed records in segment files,
/// a group commit per stream (the ack waits for it), signed checkpoints, an index (`RecordingIndex`),
/// crash recovery at start, retention and the storage guard. Thread-safe; blocking work runs on each
/// stream's Dispatch queue, never on the caller's.
public final class Recorder: Sendable {
    let core: RecorderCore
    public var configuration: RecorderConfiguration { core.configuration }
    public var index: any RecordingIndex { core.index }
    public var key: RecordingKey { core.key }
    var logger: Logger { core.logger }
    var events: RecorderEvents { core.events }
    private let streams = Mutex<[String: StreamRecorder]>([:])
    private let stopped = Atomic<Bool>(false)
    private let housekeepingQueue = DispatchQueue(label: "herdlens.recorder.housekeeping")
    /// What recovery did at start (for the log and the tests).
    public let recovery: RecoveryReport

    public static let software = "herdlens-recorder/1"

    /// Opens (or creates) the recordings, loads or creates the signing key, and recovers what a crash
    /// left: torn tails cut, the index completed from the segments past its last commit, open sessions
    /// closed with reason `recovered`.
    public init(configuration: RecorderConfiguration, logger: Logger, events: RecorderEvents = RecorderEvents()) throws(RecordingError) {
        try configuration.validate()
        do {
            try FileManager.default.createDirectory(atPath: configuration.directory, withIntermediateDirectories: true)
        } catch {
            throw .storage("cannot create \(configuration.directory): \(error)")
        }
        let key = try RecordingKey.loadOrCreate(path: configuration.keyPath)
        let index = try SQLiteRecordingIndex(path: configuration.directory + "/index.sqlite")
        core = RecorderCore(configuration: configuration, index: index, key: key, logger: logger, events: events)
        let started = ContinuousClock.now
        var report = try RecoveryWorker(directory: configuration.directory, index: index, key: key, logger: logger).run()
        report.duration = ContinuousClock.now - started
        recovery = report
        core.bytesUsed.store(try index.totalBytes(), ordering: .relaxed)
        if report.sessionsClosed > 0 || report.recordsRecovered > 0 || report.bytesTruncated > 0 {
            logger.notice("recording recovered after an unclean stop", metadata: [
                "herd.sessions.closed": "\(report.sessionsClosed)", "herd.records.recovered": "\(report.recordsRecovered)",
                "herd.bytes.truncated": "\(report.bytesTruncated)", "herd.duration": "\(report.duration)",
            ])
        }
        checkStorage()
    }

    func sessionDirectory(stream: String, id: String) -> String { core.sessionDirectory(stream: stream, id: id) }

    static func newSessionID(at micros: Int64) -> String {
        let t = Micros.text(micros)  // 2026-12-02T00:30:00.123Z
        let compact = t.prefix(19).replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "")
        var random = SystemRandomNumberGenerator()
        return "s-\(compact)Z-\(Hex.encode((0..<5).map { _ in UInt8.random(in: 0...255, using: &random) }))"
    }

    private func recorder(for stream: String) -> StreamRecorder {
        streams.withLock { map in
            if let r = map[stream] { return r }
            let r = StreamRecorder(stream: stream, core: core)
            map[stream] = r
            return r
        }
    }

    private func run<T: Sendable>(_ stream: String, _ body: @escaping @Sendable (StreamRecorder) -> T) async -> T {
        let r = recorder(for: stream)
        return await withCheckedContinuation { c in r.queue.async { c.resume(returning: body(r)) } }
    }

    // MARK: ingest

    /// Deduplicates and appends a frame (with its annotations) in arrival order. Wait on the returned
    /// durability before acknowledging.
    public func admit(_ frame: FrameSubmission) async -> Admission {
        guard !stopped.load(ordering: .relaxed) else { return .refused(.shuttingDown()) }
        return await run(frame.stream.rawValue) { $0.admit(frame) }
    }

    /// A telemetry message as received.
    public func telemetry(stream: StreamID, message: [UInt8], receivedAt: Timestamp) {
        guard !stopped.load(ordering: .relaxed) else { return }
        let meta = Meta.encode(TelemetryMeta(receivedAt: receivedAt.text))
        let r = recorder(for: stream.rawValue)
        r.queue.async { r.append(.telemetry, meta: meta, blobs: [message], openIfNeeded: true) }
    }

    /// A refused frame or message, recorded in the open session (if any) so gaps are explained.
    public func refusal(stream: StreamID, seq: UInt64?, code: String, message: String) {
        let meta = Meta.encode(RefusalMeta(receivedAt: Timestamp.now().text, seq: seq, code: code, message: message))
        let r = recorder(for: stream.rawValue)
        r.queue.async { r.append(.refusal, meta: meta, openIfNeeded: false) }
    }

    /// Anything else worth keeping in the open session (a codec fault after the ack, a session message).
    public func event(stream: StreamID, event: String, seq: UInt64? = nil, detail: String? = nil) {
        let meta = Meta.encode(EventMeta(at: Timestamp.now().text, event: event, seq: seq, detail: detail))
        let r = recorder(for: stream.rawValue)
        r.queue.async { r.append(.event, meta: meta, openIfNeeded: false) }
    }

    // MARK: sessions

    /// Opens a session on `stream` (the open one closes first, unless it carries the same consignment id).
    public func startSession(stream: StreamID, consignment: Consignment?, openedBy: String) async throws(RecordingError) -> SessionRow {
        guard !stopped.load(ordering: .relaxed) else { throw .shuttingDown() }
        return try await run(stream.rawValue) { r in Result { () throws(RecordingError) in try r.start(consignment: consignment, openedBy: openedBy) } }.get()
    }

    /// Ends the open session of `stream`; nil when none was open.
    public func endSession(stream: StreamID, reason: String) async throws(RecordingError) -> SessionRow? {
        try await run(stream.rawValue) { r in Result { () throws(RecordingError) in try r.end(reason: reason) } }.get()
    }

    public func setHold(_ id: String, _ hold: Bool) async throws(RecordingError) {
        try await onHousekeeping { () throws(RecordingError) in try self.index.setHold(id, hold) }
        // An open session's live row carries the hold too (so a full disk does not stop it).
        if let row = try await onHousekeeping({ () throws(RecordingError) in try self.index.session(id) }), row.isOpen {
            await run(row.stream) { r in if r.current?.row.id == id { r.current?.row.hold = hold } }
        }
        checkStorage()
    }

    /// Index reads, off the caller's thread.
    public func onHousekeeping<T: Sendable>(_ body: @escaping @Sendable () throws(RecordingError) -> T) async throws(RecordingError) -> T {
        let result: Result<T, RecordingError> = await withCheckedContinuation { c in
            housekeepingQueue.async { c.resume(returning: Result { () throws(RecordingError) in try body() }) }
        }
        return try result.get()
    }

    /// Closes every open session (reason `shutdown`) and commits.
    public func shutdown() async {
        stopped.store(true, ordering: .relaxed)
        let all = streams.withLock { Array($0.values) }
        for r in all { await withCheckedContinuation { c in r.queue.async { r.closeAll(reason: "shutdown"); c.resume() } } }
    }

    // MARK: housekeeping

    /// Idle sessions, checkpoints, retention and the storage check; the server calls it every second.
    public func housekeeping() async {
        let all = streams.withLock { Array($0.values) }
        for r in all { await withCheckedContinuation { c in r.queue.async { r.housekeeping(); c.resume() } } }
    }

    /// Purges what retention allows and re-evaluates the storage guard.
    public func retention() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            housekeepingQueue.async { [self] in
                purge()
                checkStorage()
                c.resume()
            }
        }
    }

    private func purge() {
        do throws(RecordingError) {
            let now = Micros.now()
            var used = core.bytesUsed.load(ordering: .relaxed)
            for row in try index.purgeCandidates(limit: 10_000) {
                let days = configuration.streamRetentionDays[row.stream] ?? configuration.retentionDays
                let expired = now - (row.endedAtMicros ?? now) > Int64(days * 86_400 * 1_000_000)
                let overSize = configuration.maxBytes > 0 && used > configuration.maxBytes
                let lowSpace = freeBytes() < configuration.minFreeBytes
                guard expired || overSize || lowSpace else { continue }
                // The directory is moved aside before the row goes: recovery rebuilds any `s-…` directory
                // the index lacks, so a crash between the two must not leave one behind (a purged session
                // would come back). `.purge-…` directories are removed here or by the next recovery.
                let directory = sessionDirectory(stream: row.stream, id: row.id)
                let aside = Self.purgeName(directory)
                if rename(directory, aside) != 0 && errno != ENOENT {
                    logger.error("a session to purge could not be moved aside; kept", metadata: [
                        "herd.session": "\(row.id)", "herd.error": "\(String(cString: strerror(errno)))",
                    ])
                    continue
                }
                try index.deleteSession(row.id)
                try? FileManager.default.removeItem(atPath: aside)
                used -= row.bytes
                core.bytesUsed.subtract(row.bytes, ordering: .relaxed)
                events.purged(row.id, row.bytes)
                logger.notice("session purged", metadata: [
                    "herd.session": "\(row.id)", "herd.stream": "\(row.stream)", "herd.bytes": "\(row.bytes)",
                    "herd.reason": "\(expired ? "age" : overSize ? "size" : "freeSpace")",
                ])
            }
        } catch {
            logger.error("retention failed", metadata: ["herd.error": "\(error)"])
        }
    }

    /// Where a session directory goes while it is purged: beside it, named so recovery never takes it
    /// for a session (`.purge-s-…`).
    static func purgeName(_ sessionDirectory: String) -> String {
        let url = URL(fileURLWithPath: sessionDirectory)
        return url.deletingLastPathComponent().appendingPathComponent(".purge-" + url.lastPathComponent).path
    }

    /// Free bytes on the recordings' file system.
    public func freeBytes() -> Int64 {
        var st = statvfs()
        guard statvfs(configuration.directory, &st) == 0 else { return 0 }
        return Int64(st.f_bavail) * Int64(st.f_frsize)
    }

    private func checkStorage() {
        let full = (configuration.maxBytes > 0 && core.bytesUsed.load(ordering: .relaxed) >= configuration.maxBytes)
            || freeBytes() < configuration.minFreeBytes
        let was = core.storageFull.exchange(full, ordering: .relaxed)
        if was != full {
            if full {
                logger.error("recording storage full: unheld streams are refused storageFull until space returns")
            } else {
                logger.notice("recording storage available again")
            }
        }
    }

    // MARK: state for the streams and metrics

    public var isStorageFull: Bool { core.storageFull.load(ordering: .relaxed) }
    public var recordedBytes: Int64 { core.bytesUsed.load(ordering: .relaxed) }
    public var sessionsOpen: Int { core.openCount.load(ordering: .relaxed) }

    /// Whether the recorder can write (index and directory): for `/readyz`.
    public func checkWritable() throws(RecordingError) {
        try index.check()
        let probe = configuration.directory + "/.probe"
        let fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SegmentFile.errnoError("cannot write in \(configuration.directory)") }
        close(fd)
        unlink(probe)
        if isStorageFull { throw .storageFull("recording storage full (\(freeBytes()) bytes free, \(recordedBytes) recorded)") }
        if let lagging = core.indexLagging { throw .storage("the recording index cannot be written: \(lagging.message)") }
    }

    // MARK: reading

    /// Checks a session's chain, CRCs and signatures (see `Verifier`).
    public func verify(session id: String) async throws(RecordingError) -> VerifyReport {
        try await onHousekeeping { () throws(RecordingError) in
            // The frames first, then the row: the row's commit point is then at or past every listed frame.
            let frames = try self.index.frames(session: id)
            guard let row = try self.index.session(id) else { throw .notFound("no session \(id)") }
            let trusted = TrustedKeys.load(dataDirectory: self.configuration.dataDirectory, current: self.key)
            return Verifier(trusted: trusted).verify(
                directory: self.sessionDirectory(stream: row.stream, id: id), session: id, indexed: frames,
                closed: !row.isOpen, upTo: row.isOpen ? (row.segment, row.segmentOffset) : nil)
        }
    }
}

/// What every stream's recorder shares with the `Recorder`: configuration, index, key, counters. A
/// class of its own so that stream queues outliving a dropped `Recorder` (a timer still pending) keep
/// what they use alive, and no reference cycle keeps the `Recorder` alive.
final class RecorderCore: Sendable {
    let configuration: RecorderConfiguration
    let index: any RecordingIndex
    let key: RecordingKey
    let logger: Logger
    let events: RecorderEvents
    let storageFull = Atomic<Bool>(false)
    let bytesUsed = Atomic<Int64>(0)
    let openCount = Atomic<Int>(0)
    private let indexError = Mutex<RecordingError?>(nil)

    init(configuration: RecorderConfiguration, index: any RecordingIndex, key: RecordingKey, logger: Logger, events: RecorderEvents) {
        self.configuration = configuration
        self.index = index
        self.key = key
        self.logger = logger
        self.events = events
    }

    func sessionDirectory(stream: String, id: String) -> String { configuration.directory + "/" + stream + "/" + id }
    var isStorageFull: Bool { storageFull.load(ordering: .relaxed) }
    func noteStorageFull() { storageFull.store(true, ordering: .relaxed) }
    func addBytes(_ n: Int64) { bytesUsed.add(n, ordering: .relaxed) }
    func sessionOpened() { events.sessionsOpen(openCount.add(1, ordering: .relaxed).newValue) }
    func sessionClosed() { events.sessionsOpen(openCount.subtract(1, ordering: .relaxed).newValue) }
    func noteIndexLagging(_ error: RecordingError) { indexError.withLock { $0 = error } }
    func noteIndexCaughtUp() { indexError.withLock { $0 = nil } }
    var indexLagging: RecordingError? { indexError.withLock { $0 } }
}
