/// Paths are read from the raw bytes, not as tokens: a match path (`/users/{userId}/{rest=**}`) after `match`,
/// and a path literal (`/databases/$(database)/documents/users/$(uid)`) where an expression starts with `/`.
extension Parser {
    struct ScanProblem: Error {
        var message: String
        var position: SourcePosition
    }

    mutating func scanMatchPath() -> Result<[MatchSegmentSyntax], ScanProblem> {
        if let invalid = lexer.skipTrivia(), case .invalid(let message) = invalid.kind {
            return .failure(ScanProblem(message: message, position: invalid.position))
        }
        guard lexer.peek() == UInt8(ascii: "/") else {
            return .failure(ScanProblem(message: "expected a path starting with '/' after 'match'", position: lexer.position))
        }
        var segments: [MatchSegmentSyntax] = []
        while lexer.peek() == UInt8(ascii: "/") {
            lexer.advanceByte()
            let at = lexer.position
            if lexer.peek() == UInt8(ascii: "{") {
                lexer.advanceByte()
                guard let name = lexer.scanIdentifier() else {
                    return .failure(ScanProblem(message: "expected a variable name after '{' in the match path", position: lexer.position))
                }
                var recursive = false
                if lexer.peek() == UInt8(ascii: "=") {
                    lexer.advanceByte()
                    guard lexer.peek() == UInt8(ascii: "*"), lexer.peek(1) == UInt8(ascii: "*") else {
                        return .failure(ScanProblem(message: "expected '**' after '=' in {\(name)=**}", position: lexer.position))
                    }
                    lexer.advanceByte()
                    lexer.advanceByte()
                    recursive = true
                }
                guard lexer.peek() == UInt8(ascii: "}") else {
                    return .failure(ScanProblem(message: "expected '}' to close {\(name)", position: lexer.position))
                }
                lexer.advanceByte()
                segments.append(recursive ? .recursive(name, at) : .single(name, at))
            } else {
                let text = lexer.scanSegmentText(allowParens: true)
                guard !text.isEmpty else {
                    return .failure(ScanProblem(message: "expected a path segment after '/'", position: lexer.position))
                }
                segments.append(.literal(text))
            }
        }
        return .success(segments)
    }

    /// A path literal such as `/databases/$(database)/documents/users/$(request.auth.uid)`, read from the raw bytes
    /// after the current `/` token: its segments are text and `$(expression)` parts.
    mutating func parsePath() throws(Failure) -> ExprSyntax {
        let position = current.position
        var segments: [[PathPartSyntax]] = []
        while true {
            var parts: [PathPartSyntax] = []
            while true {
                if lexer.peek() == UInt8(ascii: "$"), lexer.peek(1) == UInt8(ascii: "(") {
                    let open = lexer.position
                    lexer.advanceByte()
                    lexer.advanceByte()
                    advance()
                    let inner = try parseExpression()
                    guard current.isSymbol(.rightParen) else {
                        throw fail("expected ')' to close '$(' opened at \(open), found \(current.display)")
                    }
                    // The lexer stands right after ')': go on reading the path's raw bytes.
                    parts.append(.interpolation(inner))
                } else {
                    let text = lexer.scanSegmentText(allowParens: false)
                    if text.isEmpty { break }
                    parts.append(.text(text))
                }
            }
            if parts.isEmpty {
                let at = lexer.position
                advance()
                report("expected a path segment after '/'", at: at)
                throw Failure()
            }
            segments.append(parts)
            guard lexer.peek() == UInt8(ascii: "/"), lexer.peek(1) != UInt8(ascii: "/"), lexer.peek(1) != UInt8(ascii: "*")
            else { break }
            lexer.advanceByte()
        }
        advance()
        return try make(.path(segments), at: position)
    }
}
