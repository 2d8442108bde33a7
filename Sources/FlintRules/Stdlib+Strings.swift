import FlintCore

/// Method dispatch, and the methods of strings and bytes.
extension Evaluation {
    func callMethod(_ method: Method, on target: RulesValue, _ arguments: [RulesValue], regex: CompiledRegex?, at position: SourcePosition) throws(EvalError) -> RulesValue {
        let result: RulesValue?
        switch target {
        case .string(let s): result = try stringMethod(method, s, arguments, regex: regex, at: position)
        case .bytes(let b): result = bytesMethod(method, b)
        case .list(let items): result = try listMethod(method, items, arguments, at: position)
        case .map(let fields): result = try mapMethod(method, fields, arguments, at: position)
        case .set(let items): result = try setMethod(method, items, arguments, at: position)
        case .mapDiff(let diff): result = diffMethod(method, diff)
        case .timestamp(let t): result = try timestampMethod(method, t, at: position)
        case .duration(let d): result = durationMethod(method, d)
        case .path(let p): result = try pathMethod(method, p, arguments, at: position)
        case .latlng(let lat, let lng): result = try latlngMethod(method, lat, lng, arguments, at: position)
        case .null: throw EvalError("null value has no method '\(method.rawValue)'", at: position)
        default: result = nil
        }
        guard let result else { throw EvalError("\(target.typeName) value has no method '\(method.rawValue)'", at: position) }
        return result
    }

    func argument(_ arguments: [RulesValue], _ index: Int, string method: Method, at position: SourcePosition) throws(EvalError) -> String {
        guard case .string(let s) = arguments[index] else {
            throw EvalError("\(method.rawValue)() needs a string argument, not \(arguments[index].typeName)", at: position)
        }
        return s
    }

    func stringMethod(_ method: Method, _ s: String, _ arguments: [RulesValue], regex precompiled: CompiledRegex?, at position: SourcePosition) throws(EvalError) -> RulesValue? {
        switch method {
        case .size: return .int(Int64(s.unicodeScalars.count))
        case .lower: return .string(s.lowercased())
        case .upper: return .string(s.uppercased())
        case .trim:
            let scalars = s.unicodeScalars
            let isSpace: (Unicode.Scalar) -> Bool = { $0.properties.isWhitespace }
            guard let first = scalars.firstIndex(where: { !isSpace($0) }) else { return .string("") }
            let last = scalars.lastIndex(where: { !isSpace($0) })!
            return .string(String(scalars[first...last]))
        case .toUtf8: return .bytes(Array(s.utf8))
        case .matches:
            let regex = try self.regex(try argument(arguments, 0, string: method, at: position), precompiled, at: position)
            return .bool(s.wholeMatch(of: regex) != nil)
        case .split:
            let regex = try self.regex(try argument(arguments, 0, string: method, at: position), precompiled, at: position)
            var pieces: [RulesValue] = []
            var start = s.startIndex
            for match in s.matches(of: regex) where !match.range.isEmpty {
                pieces.append(.string(String(s[start..<match.range.lowerBound])))
                start = match.range.upperBound
            }
            pieces.append(.string(String(s[start...])))
            return .list(pieces)
        case .replace:
            let regex = try self.regex(try argument(arguments, 0, string: method, at: position), precompiled, at: position)
            let replacement = try argument(arguments, 1, string: method, at: position)
            var out = ""
            var start = s.startIndex
            for match in s.matches(of: regex) {
                out += s[start..<match.range.lowerBound]
                out += replacement
                start = match.range.upperBound
                guard out.utf8.count <= Evaluation.maximumStringBytes else {
                    throw EvalError("replace() would make a string longer than \(Evaluation.maximumStringBytes) bytes", at: position)
                }
            }
            out += s[start...]
            return .string(out)
        default: return nil
        }
    }

    func bytesMethod(_ method: Method, _ b: [UInt8]) -> RulesValue? {
        switch method {
        case .size: .int(Int64(b.count))
        case .toBase64: .string(Base64.encode(b))
        case .toHexString: .string(b.map { byte in String(byte >> 4, radix: 16) + String(byte & 15, radix: 16) }.joined().uppercased())
        default: nil
        }
    }

    /// The regex for a pattern: compiled at compile time for literals, once per evaluation for computed patterns.
    func regex(_ pattern: String, _ precompiled: CompiledRegex?, at position: SourcePosition) throws(EvalError) -> Regex<AnyRegexOutput> {
        if let precompiled { return precompiled.regex }
        if let cached = regexes[pattern] { return cached.regex }
        do {
            let compiled = try CompiledRegex(pattern)
            regexes[pattern] = compiled
            return compiled.regex
        } catch {
            throw EvalError("invalid regular expression '\(pattern)'", at: position)
        }
    }

    func pathMethod(_ method: Method, _ p: RulesPath, _ arguments: [RulesValue], at position: SourcePosition) throws(EvalError) -> RulesValue? {
        guard method == .bind else { return nil }
        guard case .map(let bindings) = arguments[0] else {
            throw EvalError("bind() needs a map, not \(arguments[0].typeName)", at: position)
        }
        var segments: [String] = []
        for segment in p.segments {
            guard segment.hasPrefix("{"), segment.hasSuffix("}"), segment.count > 2 else {
                segments.append(segment)
                continue
            }
            let name = String(segment.dropFirst().dropLast())
            guard let value = bindings[name] else {
                segments.append(segment)
                continue
            }
            if case .path(let inner) = value { segments += inner.segments } else { segments.append(try pathText(value, at: position)) }
        }
        return .path(RulesPath(segments: segments))
    }
}
