/// What a `Range` header asks of a representation of `size` bytes (RFC 9110 §14): single ranges only.
enum ByteRange: Equatable {
    /// Send everything (no `Range`, one this server ignores, or several ranges).
    case whole
    /// Send these bytes with 206.
    case part(Range<Int64>)
    /// 416: no byte of the range exists.
    case unsatisfiable

    /// Parses `bytes=first-last`, `bytes=first-` and `bytes=-suffix`.
    ///
    /// A header that is not a valid byte-range set is ignored (§14.2: a server MAY ignore `Range`); so is a set of
    /// several ranges, answered whole rather than as multipart/byteranges.
    init(header: String?, size: Int64) {
        guard let header else {
            self = .whole
            return
        }
        let trimmed = header.drop(while: { $0 == " " })
        guard trimmed.lowercased().hasPrefix("bytes=") else {
            self = .whole
            return
        }
        let spec = trimmed.dropFirst("bytes=".count).filter { $0 != " " && $0 != "\t" }
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else {
            self = .whole
            return
        }
        let firstText = spec[..<dash]
        let lastText = spec[spec.index(after: dash)...]
        guard firstText.allSatisfy(\.isASCIIDigit), lastText.allSatisfy(\.isASCIIDigit), firstText.count <= 18, lastText.count <= 18 else {
            self = .whole
            return
        }
        if firstText.isEmpty {
            // A suffix: the last N bytes.
            guard let suffix = Int64(lastText) else {
                self = .whole
                return
            }
            guard suffix > 0, size > 0 else {
                self = .unsatisfiable
                return
            }
            self = .part(max(0, size - suffix)..<size)
            return
        }
        guard let first = Int64(firstText) else {
            self = .whole
            return
        }
        if let last = Int64(lastText), last < first {
            self = .whole  // invalid: ignored (§14.1.1)
            return
        }
        guard first < size else {
            self = .unsatisfiable
            return
        }
        let last = lastText.isEmpty ? size - 1 : Int64(lastText) ?? size - 1
        self = .part(first..<(min(last, size - 1) + 1))
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
