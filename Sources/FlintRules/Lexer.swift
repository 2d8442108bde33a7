/// A token of the rules language.
struct Token: Sendable {
    enum Kind: Sendable, Equatable {
        case identifier(String)
        case integer(Int64)
        case float(Double)
        case string(String)
        case bytes([UInt8])
        case symbol(Symbol)
        case end
        /// Text the lexer could not read; the message says why.
        case invalid(String)
    }

    var kind: Kind
    var position: SourcePosition
    /// Byte offsets of the token in the source.
    var start: Int
    var end: Int

    var identifier: String? {
        if case .identifier(let name) = kind { return name }
        return nil
    }

    func isSymbol(_ symbol: Symbol) -> Bool { kind == .symbol(symbol) }
    func isKeyword(_ word: String) -> Bool { kind == .identifier(word) }

    /// How the token reads in a message: `'}'`, `'allow'`, `the end of the file`.
    var display: String {
        switch kind {
        case .identifier(let name): "'\(name)'"
        case .integer(let i): "'\(i)'"
        case .float(let d): "'\(d)'"
        case .string: "a string"
        case .bytes: "a bytes literal"
        case .symbol(let s): "'\(s.rawValue)'"
        case .end: "the end of the file"
        case .invalid(let message): message
        }
    }
}

/// Punctuation and operators.
enum Symbol: String, Sendable {
    case leftBrace = "{", rightBrace = "}", leftParen = "(", rightParen = ")", leftBracket = "[", rightBracket = "]"
    case semicolon = ";", comma = ",", dot = ".", colon = ":", question = "?", bang = "!", assign = "="
    case equal = "==", notEqual = "!=", less = "<", lessEqual = "<=", greater = ">", greaterEqual = ">="
    case and = "&&", or = "||", plus = "+", minus = "-", star = "*", slash = "/", percent = "%"
}

/// Reads tokens from the source on demand, so that the parser can switch to raw scanning for paths.
struct Lexer {
    let bytes: [UInt8]
    private(set) var index = 0
    private var line = 1
    private var column = 1

    init(_ source: String) { bytes = Array(source.utf8) }

    var position: SourcePosition { SourcePosition(line: line, column: column) }

    func peek(_ offset: Int = 0) -> UInt8? {
        index + offset < bytes.count ? bytes[index + offset] : nil
    }

    /// Moves one byte on, keeping line and column (counted in Unicode scalars) right.
    mutating func advanceByte() {
        let byte = bytes[index]
        index += 1
        if byte == 0x0A {
            line += 1
            column = 1
        } else if byte & 0xC0 != 0x80 {
            column += 1
        }
    }

    /// Skips whitespace and comments; returns an error token for an unterminated block comment.
    mutating func skipTrivia() -> Token? {
        while let byte = peek() {
            switch byte {
            case 0x20, 0x09, 0x0A, 0x0D, 0x0C:
                advanceByte()
            case UInt8(ascii: "/") where peek(1) == UInt8(ascii: "/"):
                while let b = peek(), b != 0x0A { advanceByte() }
            case UInt8(ascii: "/") where peek(1) == UInt8(ascii: "*"):
                let start = index
                let at = position
                advanceByte()
                advanceByte()
                while true {
                    guard let b = peek() else {
                        return Token(kind: .invalid("a /* comment is never closed with */"), position: at, start: start, end: index)
                    }
                    if b == UInt8(ascii: "*"), peek(1) == UInt8(ascii: "/") {
                        advanceByte()
                        advanceByte()
                        break
                    }
                    advanceByte()
                }
            default:
                return nil
            }
        }
        return nil
    }

    mutating func next() -> Token {
        if let error = skipTrivia() { return error }
        let start = index
        let at = position
        guard let byte = peek() else { return Token(kind: .end, position: at, start: start, end: start) }
        let kind: Token.Kind
        if isIdentifierStart(byte) {
            if byte == UInt8(ascii: "b"), let q = peek(1), q == 0x27 || q == 0x22 {
                advanceByte()
                kind = lexString(bytes: true)
            } else {
                while let b = peek(), isIdentifierPart(b) { advanceByte() }
                kind = .identifier(String(decoding: bytes[start..<index], as: UTF8.self))
            }
        } else if isDigit(byte) {
            kind = lexNumber()
        } else if byte == 0x27 || byte == 0x22 {
            kind = lexString(bytes: false)
        } else {
            kind = lexSymbol()
        }
        return Token(kind: kind, position: at, start: start, end: index)
    }

    private mutating func lexSymbol() -> Token.Kind {
        let first = bytes[index]
        let pair: Symbol?
        switch (first, peek(1)) {
        case (UInt8(ascii: "="), UInt8(ascii: "=")): pair = .equal
        case (UInt8(ascii: "!"), UInt8(ascii: "=")): pair = .notEqual
        case (UInt8(ascii: "<"), UInt8(ascii: "=")): pair = .lessEqual
        case (UInt8(ascii: ">"), UInt8(ascii: "=")): pair = .greaterEqual
        case (UInt8(ascii: "&"), UInt8(ascii: "&")): pair = .and
        case (UInt8(ascii: "|"), UInt8(ascii: "|")): pair = .or
        default: pair = nil
        }
        if let pair {
            advanceByte()
            advanceByte()
            return .symbol(pair)
        }
        if first < 0x80, let symbol = Symbol(rawValue: String(UnicodeScalar(first))) {
            advanceByte()
            return .symbol(symbol)
        }
        // Skip the whole scalar so that the next token starts on a boundary.
        let start = index
        advanceByte()
        while let b = peek(), b & 0xC0 == 0x80 { advanceByte() }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        if first == UInt8(ascii: "&") || first == UInt8(ascii: "|") {
            return .invalid("'\(text)' is not an operator; did you mean '\(text)\(text)'?")
        }
        if first == UInt8(ascii: "$") {
            return .invalid("'$(' may appear only inside a path such as /databases/$(database)/documents")
        }
        return .invalid("unexpected character '\(text)'")
    }

    private mutating func lexNumber() -> Token.Kind {
        let start = index
        var isFloat = false
        while let b = peek(), isDigit(b) { advanceByte() }
        if peek() == UInt8(ascii: "."), let d = peek(1), isDigit(d) {
            isFloat = true
            advanceByte()
            while let b = peek(), isDigit(b) { advanceByte() }
        }
        if let e = peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            var look = 1
            if let s = peek(1), s == UInt8(ascii: "+") || s == UInt8(ascii: "-") { look = 2 }
            if let d = peek(look), isDigit(d) {
                isFloat = true
                for _ in 0..<look { advanceByte() }
                while let b = peek(), isDigit(b) { advanceByte() }
            }
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        if isFloat {
            guard let value = Double(text), value.isFinite else { return .invalid("the number \(text) is out of range") }
            return .float(value)
        }
        guard let value = Int64(text) else {
            return .invalid("the integer \(text) does not fit in 64 bits")
        }
        return .integer(value)
    }

    private mutating func lexString(bytes isBytes: Bool) -> Token.Kind {
        let quote = bytes[index]
        advanceByte()
        var out: [UInt8] = []
        while true {
            guard let b = peek(), b != 0x0A else { return .invalid("a string is not closed on its line") }
            advanceByte()
            if b == quote { break }
            guard b == UInt8(ascii: "\\") else {
                out.append(b)
                continue
            }
            guard let e = peek(), e != 0x0A else { return .invalid("a string is not closed on its line") }
            advanceByte()
            switch e {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "v"): out.append(0x0B)
            case UInt8(ascii: "a"): out.append(0x07)
            case UInt8(ascii: "\\"), 0x27, 0x22, UInt8(ascii: "`"), UInt8(ascii: "?"): out.append(e)
            case UInt8(ascii: "x"), UInt8(ascii: "u"), UInt8(ascii: "U"):
                let count = e == UInt8(ascii: "x") ? 2 : (e == UInt8(ascii: "u") ? 4 : 8)
                var value: UInt32 = 0
                for _ in 0..<count {
                    guard let h = peek(), let digit = hexValue(h) else {
                        return .invalid("\\\(UnicodeScalar(e)) needs \(count) hex digits")
                    }
                    advanceByte()
                    value = value << 4 | UInt32(digit)
                }
                if e == UInt8(ascii: "x") && isBytes {
                    out.append(UInt8(value))
                } else {
                    guard let scalar = Unicode.Scalar(value) else { return .invalid("\\\(UnicodeScalar(e)) escape is not a valid code point") }
                    out.append(contentsOf: Array(String(Character(scalar)).utf8))
                }
            default:
                // Unknown escapes stay as written, so regular expressions such as '\.' and '\d' read as intended.
                out.append(UInt8(ascii: "\\"))
                out.append(e)
            }
        }
        if isBytes { return .bytes(out) }
        guard let text = String(validating: out, as: UTF8.self) else { return .invalid("a string is not valid UTF-8") }
        return .string(text)
    }

    // MARK: Raw scanning, for match paths and path literals.

    /// Reads the longest run of bytes that may appear in a literal path segment.
    mutating func scanSegmentText(allowParens: Bool) -> String {
        let start = index
        while let b = peek() {
            if isSegmentByte(b) || (allowParens && (b == UInt8(ascii: "(") || b == UInt8(ascii: ")"))) {
                advanceByte()
            } else if b == UInt8(ascii: "("), bytes[index...].starts(with: Array("(default)".utf8)) {
                for _ in 0..<9 { advanceByte() }
            } else {
                break
            }
        }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    /// Reads an identifier at the current byte, or nil.
    mutating func scanIdentifier() -> String? {
        guard let b = peek(), isIdentifierStart(b) else { return nil }
        let start = index
        while let b = peek(), isIdentifierPart(b) { advanceByte() }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }
}

func isIdentifierStart(_ b: UInt8) -> Bool {
    (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z")) || b == UInt8(ascii: "_")
}

func isIdentifierPart(_ b: UInt8) -> Bool { isIdentifierStart(b) || isDigit(b) }

func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

/// Bytes of a literal path segment: letters, digits, `_`, non-ASCII bytes, and `- ~ % @ + .`.
func isSegmentByte(_ b: UInt8) -> Bool {
    if b >= 0x80 || isIdentifierPart(b) { return true }
    switch b {
    case UInt8(ascii: "-"), UInt8(ascii: "~"), UInt8(ascii: "%"), UInt8(ascii: "@"), UInt8(ascii: "+"), UInt8(ascii: "."):
        return true
    default:
        return false
    }
}

func hexValue(_ b: UInt8) -> UInt8? {
    switch b {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): b - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): b - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): b - UInt8(ascii: "A") + 10
    default: nil
    }
}
