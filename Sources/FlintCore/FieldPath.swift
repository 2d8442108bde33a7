/// A path to a field inside a document: `address.city`, or `` `odd.name`.x `` with backticks around a
/// segment that is not a plain identifier. `__name__` is the document's own name.
public struct FieldPath: Sendable, Hashable, CustomStringConvertible {
    /// The field names from the top of the document down.
    public let segments: [String]

    /// The document's name, usable in filters, ordering and cursors.
    public static let documentName = FieldPath(unchecked: ["__name__"])

    /// Whether this is `__name__`.
    public var isDocumentName: Bool { segments.count == 1 && segments[0] == "__name__" }

    init(unchecked segments: [String]) { self.segments = segments }

    /// Makes a path from names already known to be valid field names, such as the keys of a stored document.
    public init(uncheckedSegments segments: [String]) { self.segments = segments }

    /// Makes a path from field names, checking each.
    public init(segments: [String]) throws(FlintError) {
        guard !segments.isEmpty else { throw .invalidArgument("a field path is empty") }
        guard segments.count <= Value.maximumDepth else {
            throw .invalidArgument("the field path has \(segments.count) levels; at most \(Value.maximumDepth) are allowed")
        }
        if segments != ["__name__"] {
            for segment in segments { try FieldPath.validateFieldName(segment, in: "field path") }
        }
        self.segments = segments
    }

    /// Parses the dotted form: `a.b.c`, with `` ` `` around segments that hold dots or other characters,
    /// and `\` escaping a backtick or backslash inside them.
    public init(_ text: String) throws(FlintError) {
        var segments: [String] = []
        var current: [UInt8] = []
        var quoted = false
        var justClosedQuote = false
        var bytes = Array(text.utf8).makeIterator()
        while let b = bytes.next() {
            if quoted {
                switch b {
                case UInt8(ascii: "\\"):
                    guard let next = bytes.next() else { throw .invalidArgument("field path \"\(text)\" ends in an escape") }
                    current.append(next)
                case UInt8(ascii: "`"):
                    quoted = false
                    justClosedQuote = true
                default: current.append(b)
                }
                continue
            }
            switch b {
            case UInt8(ascii: "`"):
                guard current.isEmpty, !justClosedQuote else {
                    throw .invalidArgument("field path \"\(text)\": a backtick may only open a whole segment")
                }
                quoted = true
            case UInt8(ascii: "."):
                segments.append(String(decoding: current, as: UTF8.self))
                current = []
                justClosedQuote = false
            default:
                guard !justClosedQuote else {
                    throw .invalidArgument("field path \"\(text)\": expected '.' after a quoted segment")
                }
                current.append(b)
            }
        }
        guard !quoted else { throw .invalidArgument("field path \"\(text)\" has an unclosed backtick") }
        segments.append(String(decoding: current, as: UTF8.self))
        if segments.contains("") { throw .invalidArgument("field path \"\(text)\" has an empty segment") }
        try self.init(segments: segments)
    }

    /// The dotted form, with backticks where a segment needs them; `FieldPath(description)` gives this path back.
    public var description: String {
        segments.map { segment in
            FieldPath.isSimple(segment)
                ? segment
                : "`" + segment.replacingBackslashesAndBackticks() + "`"
        }.joined(separator: ".")
    }

    static func isSimple(_ s: String) -> Bool {
        guard let first = s.utf8.first, first == UInt8(ascii: "_") || (first | 0x20 >= 97 && first | 0x20 <= 122) else {
            return false
        }
        return s.utf8.allSatisfy { c in
            c == UInt8(ascii: "_") || (c >= 48 && c <= 57) || (c | 0x20 >= 97 && c | 0x20 <= 122)
        }
    }

    /// Whether `other` is this path or lies below it.
    public func isPrefix(of other: FieldPath) -> Bool {
        other.segments.count >= segments.count && Array(other.segments.prefix(segments.count)) == segments
    }

    /// Checks a field name (a map key): not empty, not reserved, at most 1500 bytes.
    public static func validateFieldName(_ name: String, in context: String) throws(FlintError) {
        if name.isEmpty { throw .invalidArgument("\(context): a field name is empty") }
        if name.utf8.count > 1500 { throw .invalidArgument("\(context): a field name is longer than 1500 bytes") }
        // Indexed field paths are stored as text, which ends at a NUL: queries on such a field would go wrong.
        if name.utf8.contains(0) { throw .invalidArgument("\(context): a field name must not contain the NUL character (U+0000)") }
        if name.utf8.count >= 4, name.hasPrefix("__"), name.hasSuffix("__") {
            throw .invalidArgument("\(context): field names of the form __name__ are reserved: \"\(name)\"")
        }
    }
}

extension String {
    /// Scalar by scalar, not Character by Character: a combining mark after a backtick makes one Character
    /// that is not equal to "`", yet the parser, reading bytes, still sees the backtick.
    fileprivate func replacingBackslashesAndBackticks() -> String {
        var out = String.UnicodeScalarView()
        for scalar in unicodeScalars {
            if scalar == "\\" || scalar == "`" { out.append("\\") }
            out.append(scalar)
        }
        return String(out)
    }
}
