/// Turns a syntax tree into a `Program`: resolves every name to a slot, function or global, checks methods,
/// arities, types after `is`, match paths and recursion, and reports each problem with its position.
struct Checker {
    /// A lexical scope: the service block or a match block.
    final class Scope {
        let parent: Scope?
        var functions: [String: Int] = [:]
        var wildcards: [String: Int] = [:]
        /// The next free binding slot; slots number the match variables along a chain of nested matches.
        let nextSlot: Int

        init(parent: Scope?, nextSlot: Int) {
            self.parent = parent
            self.nextSlot = nextSlot
        }

        func function(named name: String) -> Int? { functions[name] ?? parent?.function(named: name) }
        func wildcard(named name: String) -> Int? { wildcards[name] ?? parent?.wildcard(named: name) }
        var allWildcardNames: [String] { Array(wildcards.keys) + (parent?.allWildcardNames ?? []) }
        var allFunctionNames: [String] { Array(functions.keys) + (parent?.allFunctionNames ?? []) }
    }

    /// What an expression can see besides its scope: the enclosing function's parameters and earlier lets.
    struct Context {
        var scope: Scope
        var locals: [String: Int] = [:]
        var function: Int?
    }

    var service: RulesService = .firestore
    var diagnostics: [RulesDiagnostic] = []
    var declarations: [(syntax: FunctionSyntax, scope: Scope)] = []
    var calls: [Set<Int>] = []
    /// Functions the parser could not read: calls to them are not reported again.
    var functionsThatFailedToParse: Set<String> = []

    mutating func report(_ message: String, at position: SourcePosition) {
        guard diagnostics.count < Parser.maximumDiagnostics else { return }
        diagnostics.append(RulesDiagnostic(line: Int(position.line), column: Int(position.column), message: message))
    }

    mutating func check(_ file: FileSyntax) -> Program {
        if let (name, position) = file.service {
            if let known = RulesService(rawValue: name) {
                service = known
            } else {
                report("unknown service '\(name)'; expected cloud.firestore or firebase.storage", at: position)
            }
        }
        let root = Scope(parent: nil, nextSlot: 0)
        declareFunctions(file.body.functions, in: root)
        let matches = file.body.matches.map { checkMatch($0, parent: root) }
        var functions: [CompiledFunction] = []
        for index in declarations.indices {
            functions.append(checkFunction(index))
        }
        checkRecursion()
        return Program(service: service, functions: functions, matches: matches)
    }

    mutating func declareFunctions(_ syntax: [FunctionSyntax], in scope: Scope) {
        for function in syntax {
            if let existing = scope.functions[function.name] {
                let first = declarations[existing].syntax.position
                report("function '\(function.name)' is already declared at \(first) in this block", at: function.position)
                continue
            }
            scope.functions[function.name] = declarations.count
            declarations.append((function, scope))
            calls.append([])
        }
    }

    mutating func checkMatch(_ match: MatchSyntax, parent: Scope) -> CompiledMatch {
        var slot = parent.nextSlot
        var pattern: [PatternSegment] = []
        var names: [String: Int] = [:]
        var sawRecursive = false
        for segment in match.segments {
            switch segment {
            case .literal(let text):
                pattern.append(.literal(text))
            case .single(let name, let position), .recursive(let name, let position):
                if names[name] != nil {
                    report("the match path uses the variable '\(name)' twice", at: position)
                }
                names[name] = slot
                if case .recursive = segment {
                    if sawRecursive {
                        report("a match path may have only one recursive wildcard {name=**}", at: position)
                    }
                    sawRecursive = true
                    pattern.append(.recursive(slot: slot))
                } else {
                    pattern.append(.single(slot: slot))
                }
                slot += 1
            }
        }
        let scope = Scope(parent: parent, nextSlot: slot)
        scope.wildcards = names
        declareFunctions(match.body.functions, in: scope)
        let allows = match.body.allows.map { checkAllow($0, scope: scope) }
        let children = match.body.matches.map { checkMatch($0, parent: scope) }
        return CompiledMatch(pattern: pattern, allows: allows, children: children)
    }

    mutating func checkAllow(_ allow: AllowSyntax, scope: Scope) -> CompiledAllow {
        var methods: UInt8 = 0
        for (name, position) in allow.methods {
            switch name {
            case "read": methods |= RulesMethod.get.bit | RulesMethod.list.bit
            case "write": methods |= RulesMethod.create.bit | RulesMethod.update.bit | RulesMethod.delete.bit
            default:
                if let method = RulesMethod(rawValue: name) {
                    methods |= method.bit
                } else {
                    report(
                        "unknown method '\(name)' in allow; expected get, list, create, update, delete, read or write"
                            + suggestion(for: name, among: ["get", "list", "create", "update", "delete", "read", "write"]),
                        at: position)
                }
            }
        }
        var context = Context(scope: scope)
        let condition = allow.condition.map { check($0, &context) }
        let label = "line \(allow.position.line): allow " + allow.methods.map(\.name).joined(separator: ", ")
        return CompiledAllow(methods: methods, condition: condition, label: label)
    }

    mutating func checkFunction(_ index: Int) -> CompiledFunction {
        let (syntax, scope) = declarations[index]
        var context = Context(scope: scope, function: index)
        for (slot, parameter) in syntax.parameters.enumerated() {
            if context.locals[parameter.name] != nil {
                report("the parameter '\(parameter.name)' appears twice", at: parameter.position)
            }
            context.locals[parameter.name] = slot
        }
        var lets: [Node] = []
        for (offset, binding) in syntax.lets.enumerated() {
            lets.append(check(binding.value, &context))
            if context.locals[binding.name] != nil {
                report("'\(binding.name)' is already defined in this function", at: binding.position)
            }
            context.locals[binding.name] = syntax.parameters.count + offset
        }
        let body = check(syntax.body, &context)
        return CompiledFunction(name: syntax.name, parameterCount: syntax.parameters.count, lets: lets, body: body)
    }

    /// Reports each cycle in the call graph once, at the function where it closes. Iterative, so that a long
    /// chain of functions cannot exhaust the stack.
    mutating func checkRecursion() {
        var state = [UInt8](repeating: 0, count: declarations.count)  // 0 new, 1 on the path, 2 done
        for root in declarations.indices where state[root] == 0 {
            var path: [(function: Int, callees: [Int], next: Int)] = [(root, calls[root].sorted(), 0)]
            state[root] = 1
            while let top = path.last {
                guard top.next < top.callees.count else {
                    state[top.function] = 2
                    path.removeLast()
                    continue
                }
                path[path.count - 1].next += 1
                let callee = top.callees[top.next]
                if state[callee] == 1 {
                    let start = path.firstIndex { $0.function == callee }!
                    let names = path[start...].map { declarations[$0.function].syntax.name } + [declarations[callee].syntax.name]
                    let syntax = declarations[callee].syntax
                    report(
                        "function '\(syntax.name)' is recursive (\(names.joined(separator: " → "))); rules do not allow recursion",
                        at: syntax.position)
                } else if state[callee] == 0 {
                    state[callee] = 1
                    path.append((callee, calls[callee].sorted(), 0))
                }
            }
        }
    }
}

/// `; did you mean 'x'?` when a known name is close to the unknown one, else empty.
func suggestion(for name: String, among candidates: some Sequence<String>) -> String {
    var best: (String, Int)?
    for candidate in candidates {
        let distance = editDistance(name, candidate)
        if distance <= max(1, name.count / 3), distance < (best?.1 ?? Int.max) { best = (candidate, distance) }
    }
    return best.map { "; did you mean '\($0.0)'?" } ?? ""
}

func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.unicodeScalars), b = Array(b.unicodeScalars)
    guard a.count < 64, b.count < 64 else { return Int.max }
    var previous = Array(0...b.count)
    for i in 1...max(a.count, 1) where !a.isEmpty {
        var row = [i] + Array(repeating: 0, count: b.count)
        for j in 1...max(b.count, 1) where !b.isEmpty {
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = row
    }
    return a.isEmpty ? b.count : previous[b.count]
}
