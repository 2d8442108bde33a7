/// Splits a byte stream into lines for NDJSON: ends a line at `\n` (dropping a `\r` before it), numbers the lines
/// from 1, and holds at most one unfinished line, never more than `maximumLineBytes` of it.
struct NDJSONLines {
    /// The longest line accepted, without its line break.
    let maximumLineBytes: Int
    private var partial: [UInt8] = []
    /// How many lines have been completed.
    private(set) var count = 0

    init(maximumLineBytes: Int) {
        self.maximumLineBytes = maximumLineBytes
    }

    /// A line too long to hold: its number.
    struct LineTooLong: Error {
        var line: Int
    }

    /// Takes the next bytes of the stream; returns the lines they complete, with their numbers.
    mutating func append(_ bytes: some Collection<UInt8>) throws(LineTooLong) -> [(number: Int, bytes: [UInt8])] {
        var lines: [(number: Int, bytes: [UInt8])] = []
        var rest = bytes[...]
        while let newline = rest.firstIndex(of: UInt8(ascii: "\n")) {
            partial.append(contentsOf: rest[..<newline])
            rest = rest[rest.index(after: newline)...]
            if partial.last == UInt8(ascii: "\r") { partial.removeLast() }
            count += 1
            guard partial.count <= maximumLineBytes else { throw LineTooLong(line: count) }
            lines.append((count, partial))
            partial.removeAll(keepingCapacity: true)
        }
        partial.append(contentsOf: rest)
        guard partial.count <= maximumLineBytes + 1 else { throw LineTooLong(line: count + 1) }
        return lines
    }

    /// Ends the stream: the last line when the stream did not end with a line break.
    mutating func finish() throws(LineTooLong) -> (number: Int, bytes: [UInt8])? {
        guard !partial.isEmpty else { return nil }
        if partial.last == UInt8(ascii: "\r") { partial.removeLast() }
        count += 1
        guard partial.count <= maximumLineBytes else { throw LineTooLong(line: count) }
        defer { partial = [] }
        return (count, partial)
    }
}
