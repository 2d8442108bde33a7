import FlintCore

/// Reading values: fields, indices, ranges, type tests, paths, the request and resource objects, and documents.
extension Evaluation {
    func member(_ target: RulesValue, _ name: String, at position: SourcePosition) throws(EvalError) -> RulesValue {
        switch target {
        case .map(let fields):
            guard let value = fields[name] else { throw EvalError("no field '\(name)' in the map", at: position) }
            return value
        case .null:
            throw EvalError("null value has no field '\(name)'", at: position)
        default:
            throw EvalError("\(target.typeName) value has no field '\(name)'", at: position)
        }
    }

    func index(_ target: RulesValue, _ index: RulesValue, at position: SourcePosition) throws(EvalError) -> RulesValue {
        switch (target, index) {
        case (.map, .string(let key)):
            return try member(target, key, at: position)
        case (.list(let items), .int(let i)):
            guard i >= 0, i < items.count else { throw EvalError("index \(i) is out of range for a list of \(items.count)", at: position) }
            return items[Int(i)]
        case (.path(let p), .int(let i)):
            guard i >= 0, i < p.segments.count else { throw EvalError("index \(i) is out of range for a path of \(p.segments.count) segments", at: position) }
            return .string(p.segments[Int(i)])
        case (.string(let s), .int(let i)):
            let scalars = s.unicodeScalars
            guard i >= 0, i < scalars.count else { throw EvalError("index \(i) is out of range for a string of \(scalars.count) characters", at: position) }
            return .string(String(scalars[scalars.index(scalars.startIndex, offsetBy: Int(i))]))
        case (.null, _):
            throw EvalError("null value cannot be indexed", at: position)
        default:
            throw EvalError("\(target.typeName) value cannot be indexed by \(index.typeName)", at: position)
        }
    }

    func slice(_ target: RulesValue, _ start: RulesValue?, _ end: RulesValue?, at position: SourcePosition) throws(EvalError) -> RulesValue {
        func bound(_ value: RulesValue?, _ fallback: Int) throws(EvalError) -> Int {
            guard let value else { return fallback }
            guard case .int(let i) = value else { throw EvalError("a range [i:j] needs int bounds, not \(value.typeName)", at: position) }
            return Int(clamping: i)
        }
        let count: Int
        switch target {
        case .list(let items): count = items.count
        case .string(let s): count = s.unicodeScalars.count
        default: throw EvalError("\(target.typeName) value has no range [i:j]", at: position)
        }
        let from = try bound(start, 0)
        let to = try bound(end, count)
        guard from >= 0, to <= count, from <= to else {
            throw EvalError("the range [\(from):\(to)] is outside 0...\(count)", at: position)
        }
        switch target {
        case .list(let items): return .list(Array(items[from..<to]))
        case .string(let s):
            let scalars = s.unicodeScalars
            let lower = scalars.index(scalars.startIndex, offsetBy: from)
            let upper = scalars.index(lower, offsetBy: to - from)
            return .string(String(scalars[lower..<upper]))
        default: return .null
        }
    }

    func value(_ value: RulesValue, isOf type: RulesType) -> Bool {
        switch (type, value) {
        case (.string, .string), (.int, .int), (.float, .float), (.number, .int), (.number, .float), (.bool, .bool),
            (.map, .map), (.list, .list), (.timestamp, .timestamp), (.duration, .duration), (.path, .path),
            (.latlng, .latlng), (.bytes, .bytes), (.set, .set):
            true
        default: false
        }
    }

    /// Builds a path literal: text parts and interpolated strings or ints join into one segment; an interpolated
    /// path alone in its segment splices its segments in.
    func path(_ segments: [[PathPart]], _ frame: Frame?, at position: SourcePosition) async throws(EvalError) -> RulesValue {
        var result: [String] = []
        for segment in segments {
            if segment.count == 1, case .interpolation(let node) = segment[0] {
                let value = try await evaluate(node, frame)
                if case .path(let inner) = value {
                    result += inner.segments
                    continue
                }
                result.append(try pathText(value, at: position))
                continue
            }
            var text = ""
            for part in segment {
                switch part {
                case .text(let t): text += t
                case .interpolation(let node): text += try pathText(try await evaluate(node, frame), at: position)
                }
            }
            result.append(text)
        }
        return .path(RulesPath(segments: result))
    }

    func pathText(_ value: RulesValue, at position: SourcePosition) throws(EvalError) -> String {
        switch value {
        case .string(let s): return s
        case .int(let i): return String(i)
        default: throw EvalError("$(…) in a path needs a string, int or path, not \(value.typeName)", at: position)
        }
    }

    func requestField(_ field: RequestField) -> RulesValue {
        if let value = requestFields[field] { return value }
        let value: RulesValue
        switch field {
        case .auth:
            value = request.auth.map { auth in .map(["uid": .string(auth.uid), "token": RulesValue.map(auth.token)]) } ?? .null
        case .method: value = .string(request.method.rawValue)
        case .path: value = .path(RulesPath(segments: fullPath))
        case .time: value = .timestamp(request.time)
        case .resource: value = resourceObject(request.requestResource)
        case .query:
            if let query = request.query {
                var fields: [String: RulesValue] = [:]
                if let limit = query.limit { fields["limit"] = .int(limit) }
                if let offset = query.offset { fields["offset"] = .int(offset) }
                if let orderBy = query.orderBy { fields["orderBy"] = .string(orderBy) }
                value = .map(fields)
            } else {
                value = .null
            }
        }
        requestFields[field] = value
        return value
    }

    func requestObject() -> RulesValue {
        var fields: [String: RulesValue] = [:]
        for field in RequestField.allCases { fields[field.rawValue] = requestField(field) }
        return .map(fields)
    }

    func resourceObject(_ resource: RulesResource?) -> RulesValue {
        switch resource {
        case nil: return .null
        case .document(let path, let data): return documentObject(path, data)
        case .object(let name, let bucket, let properties):
            var fields = properties.mapValues(RulesValue.init)
            fields["name"] = .string(name)
            fields["bucket"] = .string(bucket)
            return .map(fields)
        }
    }

    func documentObject(_ path: DocumentPath, _ data: [String: Value]) -> RulesValue {
        .map([
            "data": RulesValue.map(data),
            "id": .string(path.id),
            "__name__": .path(RulesPath(segments: RulesPath.firestoreRoot + path.segments)),
        ])
    }

    /// Reads a document for get(), exists(), getAfter() or existsAfter(), charging the read budget.
    func readDocument(_ value: RulesValue, after: Bool, function: String, at position: SourcePosition) async throws(EvalError) -> (DocumentPath, [String: Value]?) {
        guard case .path(let path) = value else {
            throw EvalError("\(function)() needs a path such as /databases/$(database)/documents/users/$(uid), not \(value.typeName)", at: position)
        }
        let s = path.segments
        guard s.count > 3, s[0] == "databases", s[2] == "documents" else {
            throw EvalError("\(function)() reads documents under /databases/(default)/documents/; \(path) is not one", at: position)
        }
        guard s[1] == "(default)" else { throw EvalError("\(function)(): unknown database '\(s[1])'; only (default) exists", at: position) }
        let document: DocumentPath
        do {
            document = try DocumentPath(segments: Array(s.dropFirst(3)))
        } catch {
            throw EvalError("\(function)(): \(path) is not a document path: \(error.message)", at: position)
        }
        guard budget.charge(document) else {
            throw EvalError("\(function)() would read more than \(budget.limit) documents for this request", at: position)
        }
        if let cached = after ? documentsAfter[document] : documentsBefore[document] { return (document, cached) }
        let data: [String: Value]?
        do {
            data = after ? try await documents.documentAfter(at: document) : try await documents.document(at: document)
        } catch {
            throw EvalError("\(function)(): reading \(path) failed", at: position)
        }
        if after { documentsAfter[document] = .some(data) } else { documentsBefore[document] = .some(data) }
        return (document, data)
    }
}
