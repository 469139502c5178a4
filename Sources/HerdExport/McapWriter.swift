import Foundation
import HerdRecording

/// An MCAP file (https://mcap.dev/spec) written front to back: schemas and channels up front, messages
/// in uncompressed chunks of about `chunkSize` bytes each followed by its message indexes, then a summary
/// section (schemas, channels, statistics, chunk indexes) with summary offsets and the footer. What is
/// kept in memory is one chunk plus one small index entry per chunk.
final class McapWriter {
    private let sink: ExportSink
    private var offset: Int64 = 0
    private var out: [UInt8] = []
    private var schemas: [[UInt8]] = []
    private var channels: [[UInt8]] = []
    private var chunk: [UInt8] = []
    private var chunkIndex: [UInt16: [(UInt64, UInt64)]] = [:]
    private var chunkStart: UInt64 = .max
    private var chunkEnd: UInt64 = 0
    private var chunkIndexes: [[UInt8]] = []
    private var counts: [UInt16: UInt64] = [:]
    private var sequence: [UInt16: UInt32] = [:]
    private var messageCount: UInt64 = 0
    private var firstTime: UInt64 = .max
    private var lastTime: UInt64 = 0
    let chunkSize: Int

    static let magic: [UInt8] = [0x89, 0x4D, 0x43, 0x41, 0x50, 0x30, 0x0D, 0x0A]

    init(sink: ExportSink, profile: String = "", library: String = "herdlens", chunkSize: Int = 4 << 20) throws {
        self.sink = sink
        self.chunkSize = chunkSize
        chunk.reserveCapacity(chunkSize + (1 << 20))
        try emit(Self.magic)
        var header = [UInt8]()
        header.mcapString(profile)
        header.mcapString(library)
        try record(0x01, header)
    }

    var bytesWritten: Int64 { offset }

    private func emit(_ bytes: [UInt8]) throws {
        out.append(contentsOf: bytes)
        offset += Int64(bytes.count)
        if out.count >= 1 << 20 { try drain() }
    }

    private func drain() throws {
        guard !out.isEmpty else { return }
        try out.withUnsafeBytes { try sink.write($0) }
        out.removeAll(keepingCapacity: true)
    }

    private func record(_ opcode: UInt8, _ body: [UInt8]) throws {
        var head = [UInt8]()
        head.append(opcode)
        head.le64(UInt64(body.count))
        try emit(head)
        try emit(body)
    }

    /// Registers a JSON-schema'd schema; returns its id (from 1).
    func addSchema(name: String, jsonSchema: String) throws -> UInt16 {
        let id = UInt16(schemas.count + 1)
        var body = [UInt8]()
        body.le16(id)
        body.mcapString(name)
        body.mcapString("jsonschema")
        let data = Array(jsonSchema.utf8)
        body.le32(UInt32(data.count))
        body.append(contentsOf: data)
        schemas.append(body)
        try record(0x03, body)
        return id
    }

    /// Registers a JSON channel on `topic`; returns its id (from 1).
    func addChannel(topic: String, schema: UInt16, metadata: [String: String] = [:]) throws -> UInt16 {
        let id = UInt16(channels.count + 1)
        var body = [UInt8]()
        body.le16(id)
        body.le16(schema)
        body.mcapString(topic)
        body.mcapString("json")
        var map = [UInt8]()
        for (k, v) in metadata.sorted(by: { $0.key < $1.key }) {
            map.mcapString(k)
            map.mcapString(v)
        }
        body.le32(UInt32(map.count))
        body.append(contentsOf: map)
        channels.append(body)
        try record(0x04, body)
        return id
    }

    /// One message: `logTime` the server's receive time, `publishTime` the device's capture time (ns).
    func add(channel: UInt16, logTime: UInt64, publishTime: UInt64, data: [UInt8]) throws {
        let seq = sequence[channel, default: 0]
        sequence[channel] = seq &+ 1
        chunkIndex[channel, default: []].append((logTime, UInt64(chunk.count)))
        chunk.append(0x05)
        chunk.le64(UInt64(2 + 4 + 8 + 8 + data.count))
        chunk.le16(channel)
        chunk.le32(seq)
        chunk.le64(logTime)
        chunk.le64(publishTime)
        chunk.append(contentsOf: data)
        chunkStart = min(chunkStart, logTime)
        chunkEnd = max(chunkEnd, logTime)
        firstTime = min(firstTime, logTime)
        lastTime = max(lastTime, logTime)
        counts[channel, default: 0] += 1
        messageCount += 1
        if chunk.count >= chunkSize { try flushChunk() }
    }

    private func flushChunk() throws {
        guard !chunk.isEmpty else { return }
        let chunkAt = UInt64(offset)
        var body = [UInt8]()
        body.le64(chunkStart)
        body.le64(chunkEnd)
        body.le64(UInt64(chunk.count))
        body.le32(chunk.withUnsafeBytes { CRC32.checksum($0) })
        body.mcapString("")
        body.le64(UInt64(chunk.count))
        var head = [UInt8]()
        head.append(0x06)
        head.le64(UInt64(body.count + chunk.count))
        try emit(head)
        try emit(body)
        try drain()
        try chunk.withUnsafeBytes { try sink.write($0) }
        offset += Int64(chunk.count)
        let chunkLength = UInt64(offset) - chunkAt
        // Message indexes, one per channel in the chunk.
        let indexesAt = UInt64(offset)
        var offsets = [UInt8]()
        for channel in chunkIndex.keys.sorted() {
            let entries = chunkIndex[channel]!
            offsets.le16(channel)
            offsets.le64(UInt64(offset))
            var body = [UInt8]()
            body.le16(channel)
            body.le32(UInt32(entries.count * 16))
            for (time, at) in entries {
                body.le64(time)
                body.le64(at)
            }
            try record(0x07, body)
        }
        var index = [UInt8]()
        index.le64(chunkStart)
        index.le64(chunkEnd)
        index.le64(chunkAt)
        index.le64(chunkLength)
        index.le32(UInt32(offsets.count))
        index.append(contentsOf: offsets)
        index.le64(UInt64(offset) - indexesAt)
        index.mcapString("")
        index.le64(UInt64(chunk.count))
        index.le64(UInt64(chunk.count))
        chunkIndexes.append(index)
        chunk.removeAll(keepingCapacity: true)
        chunkIndex.removeAll(keepingCapacity: true)
        chunkStart = .max
        chunkEnd = 0
    }

    /// The last chunk, data end, the summary section, summary offsets and the footer.
    func finish() throws {
        try flushChunk()
        var dataEnd = [UInt8]()
        dataEnd.le32(0)
        try record(0x0F, dataEnd)
        let summaryStart = UInt64(offset)
        var groups: [(UInt8, UInt64, UInt64)] = []
        func group(_ opcode: UInt8, _ bodies: [[UInt8]]) throws {
            guard !bodies.isEmpty else { return }
            let start = UInt64(offset)
            for body in bodies { try record(opcode, body) }
            groups.append((opcode, start, UInt64(offset) - start))
        }
        try group(0x03, schemas)
        try group(0x04, channels)
        var stats = [UInt8]()
        stats.le64(messageCount)
        stats.le16(UInt16(schemas.count))
        stats.le32(UInt32(channels.count))
        stats.le32(0)
        stats.le32(0)
        stats.le32(UInt32(chunkIndexes.count))
        stats.le64(messageCount == 0 ? 0 : firstTime)
        stats.le64(lastTime)
        var map = [UInt8]()
        for channel in counts.keys.sorted() {
            map.le16(channel)
            map.le64(counts[channel]!)
        }
        stats.le32(UInt32(map.count))
        stats.append(contentsOf: map)
        try group(0x0B, [stats])
        try group(0x08, chunkIndexes)
        let summaryOffsetStart = UInt64(offset)
        for (opcode, start, length) in groups {
            var body = [UInt8]()
            body.append(opcode)
            body.le64(start)
            body.le64(length)
            try record(0x0E, body)
        }
        var footer = [UInt8]()
        footer.le64(summaryStart)
        footer.le64(summaryOffsetStart)
        footer.le32(0)
        try record(0x02, footer)
        try emit(Self.magic)
        try drain()
    }
}

extension [UInt8] {
    mutating func mcapString(_ s: String) {
        let bytes = Array(s.utf8)
        le32(UInt32(bytes.count))
        append(contentsOf: bytes)
    }
}
