/// Name resolution and checks inside expressions.
extension Checker {
    static let globalNames = ["request", "resource", "database", "math", "timestamp", "duration", "hashing", "latlng"]
        + ["get", "exists", "getAfter", "existsAfter", "debug", "string", "int", "float", "path"]

    mutating func check(_ expression: ExprSyntax, _ context: inout Context) -> Node {
        let position = expression.position
        switch expression.kind {
        case .null: return .constant(.null)
        case .bool(let b): return .constant(.bool(b))
        case .integer(let i): return .constant(.int(i))
        case .float(let d): return .constant(.float(d))
        case .string(let s): return .constant(.string(s))
        case .bytes(let b): return .constant(.bytes(b))
        case .identifier(let name): return resolve(name, at: position, context)
        case .list(let items):
            let nodes = items.map { check($0, &context) }
            if let values = constants(nodes) { return .constant(.list(values)) }
            return .list(nodes, position)
        case .map(let entries):
            return .map(entries.map { (check($0.key, &context), check($0.value, &context)) }, position)
        case .path(let segments):
            let parts = segments.map { segment in
                segment.map { part -> PathPart in
                    switch part {
                    case .text(let text): .text(text)
                    case .interpolation(let inner): .interpolation(check(inner, &context))
                    }
                }
            }
            return .path(parts, position)
        case .unary(let op, let operand):
            return .unary(op, check(operand, &context), position)
        case .binary(let op, let left, let right):
            return .binary(op, check(left, &context), check(right, &context), position)
        case .ternary(let condition, let a, let b):
            return .ternary(check(condition, &context), check(a, &context), check(b, &context), position)
        case .member(let target, let name):
            if case .identifier("request") = target.kind, isGlobal("request", context) {
                guard let field = RequestField(rawValue: name) else {
                    report(
                        "request has no field '\(name)'; its fields are auth, method, path, time, resource and query"
                            + suggestion(for: name, among: RequestField.allCases.map(\.rawValue)),
                        at: position)
                    return .constant(.null)
                }
                return .requestField(field)
            }
            return .member(check(target, &context), name, position)
        case .index(let target, let index):
            return .index(check(target, &context), check(index, &context), position)
        case .slice(let target, let start, let end):
            return .slice(check(target, &context), start.map { check($0, &context) }, end.map { check($0, &context) }, position)
        case .isType(let operand, let typeName):
            let node = check(operand, &context)
            guard let type = RulesType(rawValue: typeName) else {
                report(
                    "unknown type '\(typeName)' after 'is'; expected one of "
                        + RulesType.allCases.map(\.rawValue).joined(separator: ", ")
                        + suggestion(for: typeName, among: RulesType.allCases.map(\.rawValue)),
                    at: position)
                return .constant(.null)
            }
            return .isType(node, type, position)
        case .call(let target, let name, let arguments):
            return checkCall(target: target, name: name, arguments: arguments, at: position, &context)
        }
    }

    func constants(_ nodes: [Node]) -> [RulesValue]? {
        var values: [RulesValue] = []
        values.reserveCapacity(nodes.count)
        for node in nodes {
            guard case .constant(let value) = node else { return nil }
            values.append(value)
        }
        return values
    }

    /// Whether `name` means the global of that name here, not a local or match variable that hides it.
    func isGlobal(_ name: String, _ context: Context) -> Bool {
        context.locals[name] == nil && context.scope.wildcard(named: name) == nil
    }

    mutating func resolve(_ name: String, at position: SourcePosition, _ context: Context) -> Node {
        if let slot = context.locals[name] { return .local(slot) }
        if let slot = context.scope.wildcard(named: name) { return .wildcard(slot) }
        switch name {
        case "request": return .request
        case "resource": return .resource
        case "database" where service == .firestore: return .constant(.string("(default)"))
        default: break
        }
        if Builtin.namespaces.contains(name) {
            report("'\(name)' is a namespace of functions; call one of them, such as \(name).\(exampleFunction(in: name))", at: position)
        } else if Builtin(rawValue: name) != nil || context.scope.function(named: name) != nil {
            report("'\(name)' is a function; call it with arguments: \(name)(…)", at: position)
        } else {
            let known = Array(context.locals.keys) + context.scope.allWildcardNames + Checker.globalNames
            report("unknown name '\(name)'" + suggestion(for: name, among: known), at: position)
        }
        return .constant(.null)
    }

    func exampleFunction(in namespace: String) -> String {
        Builtin.allCases.first { $0.rawValue.hasPrefix(namespace + ".") }.map { String($0.rawValue.dropFirst(namespace.count + 1)) + "(…)" } ?? "…"
    }

    mutating func checkCall(
        target: ExprSyntax?, name: String, arguments: [ExprSyntax], at position: SourcePosition, _ context: inout Context
    ) -> Node {
        let nodes = arguments.map { check($0, &context) }
        guard let target else {
            if let function = context.scope.function(named: name) {
                let expected = declarations[function].syntax.parameters.count
                if nodes.count != expected {
                    report("function '\(name)' takes \(plural(expected, "argument")), but \(nodes.count) were given", at: position)
                }
                if let caller = context.function { calls[caller].insert(function) }
                return .call(function: function, arguments: nodes, position)
            }
            if let builtin = Builtin(rawValue: name) {
                return checkBuiltin(builtin, nodes, at: position)
            }
            if functionsThatFailedToParse.contains(name) { return .constant(.null) }
            let known = context.scope.allFunctionNames + Builtin.allCases.map(\.rawValue)
            report("unknown function '\(name)'" + suggestion(for: name, among: known), at: position)
            return .constant(.null)
        }
        if case .identifier(let namespace) = target.kind, Builtin.namespaces.contains(namespace), isGlobal(namespace, context) {
            guard let builtin = Builtin(rawValue: namespace + "." + name) else {
                let members = Builtin.allCases.map(\.rawValue).filter { $0.hasPrefix(namespace + ".") }
                report(
                    "unknown function '\(namespace).\(name)'; \(namespace) has "
                        + members.map { String($0.dropFirst(namespace.count + 1)) }.joined(separator: ", ")
                        + suggestion(for: namespace + "." + name, among: members),
                    at: position)
                return .constant(.null)
            }
            return checkBuiltin(builtin, nodes, at: position)
        }
        let receiver = check(target, &context)
        guard let method = Method(rawValue: name) else {
            report("unknown method '\(name)'" + suggestion(for: name, among: Method.allCases.map(\.rawValue)), at: position)
            return .constant(.null)
        }
        guard method.arity.contains(nodes.count) else {
            let expected = method.arity.lowerBound == method.arity.upperBound
                ? plural(method.arity.lowerBound, "argument")
                : "\(method.arity.lowerBound) to \(plural(method.arity.upperBound, "argument"))"
            report("method '\(name)' takes \(expected), but \(nodes.count) were given", at: position)
            return .constant(.null)
        }
        var regex: CompiledRegex?
        if method.takesPattern, case .constant(.string(let pattern)) = nodes.first {
            do {
                regex = try CompiledRegex(pattern)
            } catch {
                report("invalid regular expression '\(pattern)' in \(name)()", at: arguments[0].position)
            }
        }
        return .method(receiver, method, nodes, regex, position)
    }

    mutating func checkBuiltin(_ builtin: Builtin, _ arguments: [Node], at position: SourcePosition) -> Node {
        guard arguments.count == builtin.arity else {
            report("\(builtin.rawValue)() takes \(plural(builtin.arity, "argument")), but \(arguments.count) were given", at: position)
            return .constant(.null)
        }
        return .builtin(builtin, arguments, position)
    }
}

func plural(_ count: Int, _ noun: String) -> String { count == 1 ? "1 \(noun)" : "\(count) \(noun)s" }
