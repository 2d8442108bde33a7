/// Expressions, by precedence climbing from the loosest operator to the tightest:
/// `?:`, `||`, `&&`, relations (`== != < <= > >= in is`), `+ -`, `* / %`, unary `! -`, then postfix `.x .f() [i] [i:j]`.
extension Parser {
    static let reservedWords: Set<String> = ["if", "allow", "match", "function", "let", "return", "service", "in", "is"]

    mutating func parseExpression() throws(Failure) -> ExprSyntax {
        nesting += 1
        defer { nesting -= 1 }
        guard nesting <= Parser.maximumExpressionDepth else { throw tooDeep() }
        return try parseTernary()
    }

    mutating func tooDeep() -> Failure {
        fail("the expression nests too deeply; at most \(Parser.maximumExpressionDepth) levels are allowed")
    }

    /// Makes a node, refusing trees deeper than the limit (long operator chains build deep trees without recursion).
    mutating func make(_ kind: ExprKind, at position: SourcePosition) throws(Failure) -> ExprSyntax {
        let node = ExprSyntax(kind, at: position)
        guard node.depth <= Parser.maximumExpressionDepth else { throw tooDeep() }
        return node
    }

    mutating func parseTernary() throws(Failure) -> ExprSyntax {
        let condition = try parseOr()
        guard current.isSymbol(.question) else { return condition }
        let position = current.position
        advance()
        let whenTrue = try parseExpression()
        try expect(.colon, "in a conditional expression 'a ? b : c'")
        let whenFalse = try parseExpression()
        return try make(.ternary(condition, whenTrue, whenFalse), at: position)
    }

    mutating func parseOr() throws(Failure) -> ExprSyntax {
        var left = try parseAnd()
        while current.isSymbol(.or) {
            let position = current.position
            advance()
            left = try make(.binary(.or, left, try parseAnd()), at: position)
        }
        return left
    }

    mutating func parseAnd() throws(Failure) -> ExprSyntax {
        var left = try parseRelation()
        while current.isSymbol(.and) {
            let position = current.position
            advance()
            left = try make(.binary(.and, left, try parseRelation()), at: position)
        }
        return left
    }

    mutating func parseRelation() throws(Failure) -> ExprSyntax {
        var left = try parseAdditive()
        while true {
            let position = current.position
            let op: BinaryOperator
            switch current.kind {
            case .symbol(.equal): op = .equal
            case .symbol(.notEqual): op = .notEqual
            case .symbol(.less): op = .less
            case .symbol(.lessEqual): op = .lessEqual
            case .symbol(.greater): op = .greater
            case .symbol(.greaterEqual): op = .greaterEqual
            case .identifier("in"): op = .in
            case .identifier("is"):
                advance()
                guard let typeName = current.identifier else {
                    throw fail("expected a type name after 'is', such as string, int, map or list")
                }
                let typePosition = current.position
                advance()
                left = try make(.isType(left, typeName), at: typePosition)
                continue
            case .symbol(.assign):
                throw fail("'=' assigns only in 'let'; use '==' to compare")
            default:
                return left
            }
            advance()
            left = try make(.binary(op, left, try parseAdditive()), at: position)
        }
    }

    mutating func parseAdditive() throws(Failure) -> ExprSyntax {
        var left = try parseMultiplicative()
        while true {
            let op: BinaryOperator
            switch current.kind {
            case .symbol(.plus): op = .add
            case .symbol(.minus): op = .subtract
            default: return left
            }
            let position = current.position
            advance()
            left = try make(.binary(op, left, try parseMultiplicative()), at: position)
        }
    }

    mutating func parseMultiplicative() throws(Failure) -> ExprSyntax {
        var left = try parseUnary()
        while true {
            let op: BinaryOperator
            switch current.kind {
            case .symbol(.star): op = .multiply
            case .symbol(.slash): op = .divide
            case .symbol(.percent): op = .remainder
            default: return left
            }
            let position = current.position
            advance()
            left = try make(.binary(op, left, try parseUnary()), at: position)
        }
    }

    mutating func parseUnary() throws(Failure) -> ExprSyntax {
        let op: UnaryOperator
        switch current.kind {
        case .symbol(.bang): op = .not
        case .symbol(.minus): op = .negate
        default: return try parsePostfix()
        }
        let position = current.position
        advance()
        nesting += 1
        defer { nesting -= 1 }
        guard nesting <= Parser.maximumExpressionDepth else { throw tooDeep() }
        let operand = try parseUnary()
        if op == .negate {
            // Fold literals, so that constants such as -1 stay constants.
            switch operand.kind {
            case .integer(let i): return ExprSyntax(.integer(-i), at: position)
            case .float(let d): return ExprSyntax(.float(-d), at: position)
            default: break
            }
        }
        return try make(.unary(op, operand), at: position)
    }

    mutating func parsePostfix() throws(Failure) -> ExprSyntax {
        var expression = try parsePrimary()
        while true {
            switch current.kind {
            case .symbol(.dot):
                advance()
                // Any identifier may follow a dot, keywords included (`resource.data.in`).
                let (name, position) = try expectIdentifier("a field or method name after '.'")
                if current.isSymbol(.leftParen) {
                    let arguments = try parseArguments()
                    expression = try make(.call(target: expression, name: name, arguments: arguments), at: position)
                } else {
                    expression = try make(.member(expression, name), at: position)
                }
            case .symbol(.leftBracket):
                let position = current.position
                advance()
                var start: ExprSyntax?
                if !current.isSymbol(.colon) { start = try parseExpression() }
                if current.isSymbol(.colon) {
                    advance()
                    var end: ExprSyntax?
                    if !current.isSymbol(.rightBracket) { end = try parseExpression() }
                    try expect(.rightBracket, "to close the range [i:j]")
                    expression = try make(.slice(expression, start, end), at: position)
                } else {
                    try expect(.rightBracket, "to close the index")
                    // start is set: the colon branch handles a missing one.
                    expression = try make(.index(expression, start!), at: position)
                }
            case .symbol(.leftParen):
                throw fail("only named functions and methods can be called")
            default:
                return expression
            }
        }
    }

    mutating func parseArguments() throws(Failure) -> [ExprSyntax] {
        try expect(.leftParen, "to open the arguments")
        var arguments: [ExprSyntax] = []
        while !current.isSymbol(.rightParen) {
            arguments.append(try parseExpression())
            guard current.isSymbol(.comma) else { break }
            advance()
        }
        try expect(.rightParen, "to close the arguments")
        return arguments
    }

    mutating func parsePrimary() throws(Failure) -> ExprSyntax {
        let position = current.position
        switch current.kind {
        case .integer(let i):
            advance()
            return ExprSyntax(.integer(i), at: position)
        case .float(let d):
            advance()
            return ExprSyntax(.float(d), at: position)
        case .string(let s):
            advance()
            return ExprSyntax(.string(s), at: position)
        case .bytes(let b):
            advance()
            return ExprSyntax(.bytes(b), at: position)
        case .identifier("true"):
            advance()
            return ExprSyntax(.bool(true), at: position)
        case .identifier("false"):
            advance()
            return ExprSyntax(.bool(false), at: position)
        case .identifier("null"):
            advance()
            return ExprSyntax(.null, at: position)
        case .identifier(let name):
            guard !Parser.reservedWords.contains(name) else {
                throw fail("expected an expression, found '\(name)'")
            }
            advance()
            if current.isSymbol(.leftParen) {
                let arguments = try parseArguments()
                return try make(.call(target: nil, name: name, arguments: arguments), at: position)
            }
            return ExprSyntax(.identifier(name), at: position)
        case .symbol(.leftParen):
            advance()
            let inner = try parseExpression()
            try expect(.rightParen, "to close the parenthesis")
            return inner
        case .symbol(.leftBracket):
            advance()
            var items: [ExprSyntax] = []
            while !current.isSymbol(.rightBracket) {
                items.append(try parseExpression())
                guard current.isSymbol(.comma) else { break }
                advance()
            }
            try expect(.rightBracket, "to close the list")
            return try make(.list(items), at: position)
        case .symbol(.leftBrace):
            advance()
            var entries: [(key: ExprSyntax, value: ExprSyntax)] = []
            while !current.isSymbol(.rightBrace) {
                let key = try parseExpression()
                try expect(.colon, "between a map key and its value")
                entries.append((key, try parseExpression()))
                guard current.isSymbol(.comma) else { break }
                advance()
            }
            try expect(.rightBrace, "to close the map")
            return try make(.map(entries), at: position)
        case .symbol(.slash):
            return try parsePath()
        default:
            throw fail("expected an expression, found \(current.display)")
        }
    }
}
