#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import NIOCore

/// A progress line on standard error, redrawn in place at most ten times a second, only when standard error is a
/// terminal: nothing at all reaches a pipe or a file.
struct ProgressLine {
    let enabled: Bool
    let label: String
    /// The bytes expected, when known: then a bar and a percentage are drawn.
    let total: Int64?
    private var lastDrawn: ContinuousClock.Instant? = nil
    private var width = 0

    init(_ label: String, total: Int64? = nil, enabled: Bool = Terminal.isTerminal(Terminal.standardError)) {
        self.label = label
        self.total = total
        self.enabled = enabled
    }

    /// Redraws the line if a tenth of a second has passed (or `force`).
    mutating func update(bytes: Int64, documents: Int64? = nil, force: Bool = false) {
        guard enabled else { return }
        let now = ContinuousClock.now
        if !force, let lastDrawn, now - lastDrawn < .milliseconds(100) { return }
        lastDrawn = now
        var text = label + ": "
        if let total, total > 0 {
            let fraction = min(1, Double(bytes) / Double(total))
            let filled = Int(fraction * 24)
            text += "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: 24 - filled) + "] "
            text += "\(Int(fraction * 100))% " + formatBytes(bytes) + " of " + formatBytes(total)
        } else {
            text += formatBytes(bytes)
        }
        if let documents { text += ", \(documents) document\(documents == 1 ? "" : "s")" }
        // Spaces rather than an erase sequence: the line shrinks cleanly without any escape codes.
        let padding = String(repeating: " ", count: max(0, width - text.count))
        width = text.count
        Terminal.err("\r" + text + padding)
    }

    /// Ends the progress line (leaving the last state visible).
    mutating func finish(bytes: Int64, documents: Int64? = nil) {
        guard enabled else { return }
        update(bytes: bytes, documents: documents, force: true)
        Terminal.err("\n")
    }
}

/// A file read in chunks as `ByteBuffer`s, for streamed uploads; draws a progress line as it goes.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    /// An open descriptor, owned by the caller, who closes it after the upload.
    let descriptor: Int32
    let total: Int64?
    let label: String
    static let chunkSize = 256 * 1024

    func makeAsyncIterator() -> Iterator { Iterator(descriptor: descriptor, progress: ProgressLine(label, total: total)) }

    struct Iterator: AsyncIteratorProtocol {
        let descriptor: Int32
        var progress: ProgressLine
        var sent: Int64 = 0
        var done = false

        mutating func next() async throws -> ByteBuffer? {
            guard !done else { return nil }
            var buffer = ByteBuffer()
            buffer.reserveCapacity(FileChunks.chunkSize)
            while true {
                var result = 0
                let descriptor = self.descriptor
                buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: FileChunks.chunkSize) { pointer in
                    result = read(descriptor, pointer.baseAddress, FileChunks.chunkSize)
                    return Swift.max(0, result)
                }
                if result > 0 { break }
                if result < 0 {
                    if errno == EINTR { continue }
                    throw CLIError("cannot read the file: \(String(cString: strerror(errno)))")
                }
                done = true
                progress.finish(bytes: sent)
                return nil
            }
            sent += Int64(buffer.readableBytes)
            progress.update(bytes: sent)
            return buffer
        }
    }
}
