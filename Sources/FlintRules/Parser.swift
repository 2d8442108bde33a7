/// Reads a rules file into a syntax tree by recursive descent, recovering at the next `;` or `}` after an error so
/// that one compile reports several problems.
struct Parser {
    /// The deepest an expression may nest; deeper input gets a diagnostic instead of exhausting the stack.
    static let maximumExpressionDepth = 100
    /// The deepest `match` blocks may nest.
    static let maximumMatchDepth = 32
    /// After this many diagnostics the compiler stops reporting.
    static let maximumDiagnostics = 50

    /// Thrown after a diagnostic has been recorded, to unwind to the statement being parsed.
    struct Failure: Error {}

    var lexer: Lexer
    var current: Token
    var diagnostics: [RulesDiagnostic] = []
    var nesting = 0
    /// Names of functions whose declaration had an error, so that the checker does not also report their calls.
    var functionsThatFailedToParse: Set<String> = []

    init(_ source: String) {
        lexer = Lexer(source)
        current = Token(kind: .end, position: .none, start: 0, end: 0)
        current = lexer.next()
    }

    mutating func advance() { current = lexer.next() }

    mutating func report(_ message: String, at position: SourcePosition) {
        guard diagnostics.count < Parser.maximumDiagnostics else { return }
        diagnostics.append(RulesDiagnostic(line: Int(position.line), column: Int(position.column), message: message))
    }

    /// Records a problem at the current token (its own message when the lexer could not read it) and returns the
    /// failure to throw.
    mutating func fail(_ message: String) -> Failure {
        if case .invalid(let lexerMessage) = current.kind {
            report(lexerMessage, at: current.position)
        } else {
            report(message, at: current.position)
        }
        return Failure()
    }

    mutating func expect(_ symbol: Symbol, _ context: String) throws(Failure) {
        guard current.isSymbol(symbol) else { throw fail("expected '\(symbol.rawValue)' \(context), found \(current.display)") }
        advance()
    }

    mutating func expectIdentifier(_ context: String) throws(Failure) -> (String, SourcePosition) {
        guard let name = current.identifier else { throw fail("expected \(context), found \(current.display)") }
        let position = current.position
        advance()
        return (name, position)
    }

    /// Skips to a point where parsing can resume: past the next `;`, or before a `}` closing the current block,
    /// or before `match`, `allow` or `function` at the same depth.
    mutating func synchronize() {
        var depth = 0
        while true {
            switch current.kind {
            case .end: return
            case .symbol(.semicolon) where depth == 0:
                advance()
                return
            case .symbol(.leftBrace): depth += 1
            case .symbol(.rightBrace):
                if depth == 0 { return }
                depth -= 1
            case .identifier("match"), .identifier("allow"), .identifier("function"), .identifier("service"):
                if depth == 0 { return }
            default: break
            }
            advance()
        }
    }

    // MARK: Declarations

    mutating func parseFile() -> FileSyntax {
        var file = FileSyntax(version: nil, service: nil, body: BlockSyntax())
        var sawService = false
        while true {
            switch current.kind {
            case .end:
                if !sawService {
                    report(
                        "missing 'service': a rules file declares 'service cloud.firestore { … }' or 'service firebase.storage { … }'",
                        at: current.position)
                }
                return file
            case .identifier("rules_version"):
                do throws(Failure) {
                    try parseVersion(into: &file)
                } catch {
                    synchronize()
                }
            case .identifier("service"):
                let position = current.position
                advance()
                if sawService { report("a rules file has one service; this is a second", at: position) }
                do throws(Failure) {
                    let (name, block) = try parseService()
                    if !sawService {
                        file.service = (name, position)
                        file.body = block
                    }
                } catch {
                    synchronize()
                    if current.isSymbol(.rightBrace) { advance() }
                }
                sawService = true
            default:
                _ = fail("expected 'service' or 'rules_version' at the top level, found \(current.display)")
                advance()
                synchronize()
                if current.isSymbol(.rightBrace) { advance() }
            }
        }
    }

    mutating func parseVersion(into file: inout FileSyntax) throws(Failure) {
        advance()
        try expect(.assign, "after 'rules_version'")
        guard case .string(let value) = current.kind else {
            throw fail("expected the version as a string, such as rules_version = '2';")
        }
        if value != "1" && value != "2" {
            report("unknown rules_version '\(value)'; expected '2' (or '1')", at: current.position)
        }
        if file.version != nil { report("rules_version is set twice", at: current.position) }
        file.version = (value, current.position)
        advance()
        try expect(.semicolon, "after the rules_version")
    }

    mutating func parseService() throws(Failure) -> (String, BlockSyntax) {
        var (name, _) = try expectIdentifier("a service name, cloud.firestore or firebase.storage")
        while current.isSymbol(.dot) {
            advance()
            let (part, _) = try expectIdentifier("a service name, cloud.firestore or firebase.storage")
            name += "." + part
        }
        let open = current.position
        try expect(.leftBrace, "after the service name")
        return (name, parseBlock(inMatch: false, depth: 0, openedAt: open))
    }

    /// Parses statements up to and including the `}` that closes the block.
    mutating func parseBlock(inMatch: Bool, depth: Int, openedAt open: SourcePosition) -> BlockSyntax {
        var block = BlockSyntax()
        while true {
            if current.isSymbol(.rightBrace) {
                advance()
                return block
            }
            if current.kind == .end {
                report("missing '}' to close the block opened at \(open)", at: current.position)
                return block
            }
            do throws(Failure) {
                switch current.kind {
                case .identifier("match"):
                    block.matches.append(try parseMatch(depth: depth + 1))
                case .identifier("allow"):
                    if !inMatch { report("'allow' must be inside a match block", at: current.position) }
                    block.allows.append(try parseAllow())
                case .identifier("function"):
                    block.functions.append(try parseFunction())
                default:
                    throw fail("expected 'match', 'allow' or 'function', found \(current.display)")
                }
            } catch {
                synchronize()
            }
        }
    }

    mutating func parseMatch(depth: Int) throws(Failure) -> MatchSyntax {
        let position = current.position
        guard depth <= Parser.maximumMatchDepth else {
            advance()
            throw fail("match blocks nest more than \(Parser.maximumMatchDepth) levels deep")
        }
        // The path is scanned from the raw bytes after 'match': segments are not tokens.
        let segments: [MatchSegmentSyntax]
        switch scanMatchPath() {
        case .success(let scanned): segments = scanned
        case .failure(let problem):
            report(problem.message, at: problem.position)
            advance()
            throw Failure()
        }
        advance()
        let open = current.position
        try expect(.leftBrace, "after the match path")
        let body = parseBlock(inMatch: true, depth: depth, openedAt: open)
        return MatchSyntax(segments: segments, position: position, body: body)
    }

    mutating func parseAllow() throws(Failure) -> AllowSyntax {
        let position = current.position
        advance()
        var methods: [(String, SourcePosition)] = []
        repeat {
            if !methods.isEmpty { advance() }
            guard let name = current.identifier, name != "if" else {
                throw fail("expected a method after 'allow': get, list, create, update, delete, read or write")
            }
            methods.append((name, current.position))
            advance()
        } while current.isSymbol(.comma)
        var condition: ExprSyntax?
        if current.isSymbol(.colon) {
            advance()
            guard current.isKeyword("if") else { throw fail("expected 'if' after ':' in an allow statement") }
            advance()
            condition = try parseExpression()
        } else if current.isKeyword("if") {
            throw fail("expected ':' before 'if' in an allow statement")
        }
        if current.isSymbol(.semicolon) {
            advance()
        } else if !current.isSymbol(.rightBrace) {
            throw fail("expected ';' after the allow statement, found \(current.display)")
        }
        return AllowSyntax(methods: methods, condition: condition, position: position)
    }

    mutating func parseFunction() throws(Failure) -> FunctionSyntax {
        advance()
        let (name, position) = try expectIdentifier("a function name after 'function'")
        do throws(Failure) {
            return try parseFunctionRest(name: name, position: position)
        } catch {
            functionsThatFailedToParse.insert(name)
            throw error
        }
    }

    mutating func parseFunctionRest(name: String, position: SourcePosition) throws(Failure) -> FunctionSyntax {
        try expect(.leftParen, "after the function name")
        var parameters: [(String, SourcePosition)] = []
        if !current.isSymbol(.rightParen) {
            repeat {
                if !parameters.isEmpty { advance() }
                parameters.append(try expectIdentifier("a parameter name"))
            } while current.isSymbol(.comma)
        }
        try expect(.rightParen, "after the parameters")
        try expect(.leftBrace, "to open the function body")
        var lets: [(String, SourcePosition, ExprSyntax)] = []
        while current.isKeyword("let") {
            advance()
            let (letName, letPosition) = try expectIdentifier("a variable name after 'let'")
            try expect(.assign, "after the let name")
            let value = try parseExpression()
            try expect(.semicolon, "after the let value")
            lets.append((letName, letPosition, value))
        }
        guard current.isKeyword("return") else {
            throw fail("expected 'return <expression>;' to end the function body, found \(current.display)")
        }
        advance()
        let body = try parseExpression()
        if current.isSymbol(.semicolon) { advance() }
        try expect(.rightBrace, "to close the function body")
        return FunctionSyntax(name: name, position: position, parameters: parameters, lets: lets, body: body)
    }
}
