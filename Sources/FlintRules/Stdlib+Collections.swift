/// The methods of lists, maps, sets and map diffs.
extension Evaluation {
    /// The elements of a list or set argument, as a set.
    func elements(_ value: RulesValue, for method: Method, at position: SourcePosition) throws(EvalError) -> Set<RulesValue> {
        switch value {
        case .list(let items): return Set(items)
        case .set(let items): return items
        default: throw EvalError("\(method.rawValue)() needs a list or set, not \(value.typeName)", at: position)
        }
    }

    func checkCount(_ count: Int, at position: SourcePosition) throws(EvalError) {
        guard count <= Evaluation.maximumCollectionCount else {
            throw EvalError("the result would have more than \(Evaluation.maximumCollectionCount) elements", at: position)
        }
    }

    func listMethod(_ method: Method, _ items: [RulesValue], _ arguments: [RulesValue], at position: SourcePosition) throws(EvalError) -> RulesValue? {
        switch method {
        case .size: return .int(Int64(items.count))
        case .hasAll, .hasAny, .hasOnly:
            return try setMethod(method, Set(items), arguments, at: position)
        case .toSet: return .set(Set(items))
        case .concat:
            guard case .list(let other) = arguments[0] else { throw EvalError("concat() needs a list, not \(arguments[0].typeName)", at: position) }
            try checkCount(items.count + other.count, at: position)
            return .list(items + other)
        case .removeAll:
            let removed = try elements(arguments[0], for: method, at: position)
            return .list(items.filter { !removed.contains($0) })
        case .join:
            var separator = ""
            if let first = arguments.first {
                guard case .string(let s) = first else { throw EvalError("join() needs a string separator, not \(first.typeName)", at: position) }
                separator = s
            }
            var parts: [String] = []
            var bytes = 0
            for item in items {
                guard case .string(let s) = item else { throw EvalError("join() needs a list of strings; it holds \(item.typeName)", at: position) }
                parts.append(s)
                bytes += s.utf8.count + separator.utf8.count
                guard bytes <= Evaluation.maximumStringBytes + separator.utf8.count else {
                    throw EvalError("join() would make a string longer than \(Evaluation.maximumStringBytes) bytes", at: position)
                }
            }
            return .string(parts.joined(separator: separator))
        default: return nil
        }
    }

    func setMethod(_ method: Method, _ items: Set<RulesValue>, _ arguments: [RulesValue], at position: SourcePosition) throws(EvalError) -> RulesValue? {
        switch method {
        case .size: return .int(Int64(items.count))
        case .hasAll: return .bool(try elements(arguments[0], for: method, at: position).isSubset(of: items))
        case .hasAny: return .bool(!items.isDisjoint(with: try elements(arguments[0], for: method, at: position)))
        case .hasOnly: return .bool(items.isSubset(of: try elements(arguments[0], for: method, at: position)))
        case .difference: return .set(items.subtracting(try elements(arguments[0], for: method, at: position)))
        case .intersection: return .set(items.intersection(try elements(arguments[0], for: method, at: position)))
        case .union:
            let other = try elements(arguments[0], for: method, at: position)
            try checkCount(items.count + other.count, at: position)
            return .set(items.union(other))
        default: return nil
        }
    }

    func mapMethod(_ method: Method, _ fields: [String: RulesValue], _ arguments: [RulesValue], at position: SourcePosition) throws(EvalError) -> RulesValue? {
        switch method {
        case .size: return .int(Int64(fields.count))
        case .keys: return .list(sortedKeys(fields).map(RulesValue.string))
        case .values: return .list(sortedKeys(fields).map { fields[$0]! })
        case .diff:
            guard case .map(let other) = arguments[0] else { throw EvalError("diff() needs a map, not \(arguments[0].typeName)", at: position) }
            return .mapDiff(MapDiff(left: fields, right: other))
        case .get:
            let fallback = arguments[1]
            switch arguments[0] {
            case .string(let key): return fields[key] ?? fallback
            case .list(let keys):
                var current = RulesValue.map(fields)
                for key in keys {
                    guard case .string(let name) = key else { throw EvalError("get() needs string keys, not \(key.typeName)", at: position) }
                    guard case .map(let inner) = current, let next = inner[name] else { return fallback }
                    current = next
                }
                return current
            default:
                throw EvalError("get() needs a key or a list of keys, not \(arguments[0].typeName)", at: position)
            }
        default: return nil
        }
    }

    /// Keys in UTF-8 order, so that keys() and values() line up and do not depend on hashing.
    func sortedKeys(_ fields: [String: RulesValue]) -> [String] {
        fields.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    func diffMethod(_ method: Method, _ diff: MapDiff) -> RulesValue? {
        switch method {
        case .addedKeys: .set(diff.addedKeys)
        case .removedKeys: .set(diff.removedKeys)
        case .changedKeys: .set(diff.changedKeys)
        case .unchangedKeys: .set(diff.unchangedKeys)
        case .affectedKeys: .set(diff.affectedKeys)
        default: nil
        }
    }
}
