/// What a write does to a document: pure functions, shared by every store (and later the SDK's local view).
extension Write {
    /// Checks the precondition against the stored document.
    /// A failed `exists: true` is `not-found`, a failed `exists: false` is `already-exists`, and a failed
    /// `updateTime`/`version` is `failed-precondition`, as Firestore reports them.
    public func checkPrecondition(against current: Document?) throws(FlintError) {
        guard let precondition else { return }
        switch precondition {
        case .exists(true) where current == nil:
            throw FlintError(.notFound, "\(path) does not exist")
        case .exists(false) where current != nil:
            throw FlintError(.alreadyExists, "\(path) already exists")
        case .version(let v) where current?.version != v:
            throw .failedPrecondition("\(path) is at version \(current.map { String($0.version) } ?? "none (missing)"), not \(v)")
        case .updateTime(let t) where current?.updateTime != t:
            throw .failedPrecondition("\(path) was last updated at \(current.map { $0.updateTime.description } ?? "never (missing)"), not \(t)")
        default:
            return
        }
    }

    /// The document's fields after this write, or nil when it deletes the document.
    /// - Parameters:
    ///   - current: the stored document, nil if there is none.
    ///   - commitTime: the time `serverTimestamp` writes.
    public func apply(to current: Document?, commitTime: Timestamp) throws(FlintError) -> [String: Value]? {
        var fields: [String: Value]
        switch operation {
        case .delete:
            return nil
        case .set(let data, merge: false):
            fields = data
        case .set(let data, merge: true):
            fields = current?.fields ?? [:]
            for leaf in Value.leafPaths(of: data) {
                Value.setField(&fields, path: leaf[...], to: Value.map(data).value(at: leaf)!)
            }
        case .update(let data, let mask):
            fields = current?.fields ?? [:]
            let paths = mask?.map(\.segments) ?? Value.leafPaths(of: data)
            for path in paths {
                if let value = Value.map(data).value(at: path) {
                    Value.setField(&fields, path: path[...], to: value)
                } else {
                    Value.removeField(&fields, path: path[...])
                }
            }
        }
        for transform in transforms {
            transform.apply(to: &fields, commitTime: commitTime)
        }
        // The same limit as reading the document's JSON form (`Value(json:)`), so that every document a write
        // produces can be read back: a field path of 20 segments is as deep as a document goes.
        let depth = Value.map(fields).depth
        if depth > Value.maximumDepth {
            throw .invalidArgument("\(path) would nest maps and arrays \(depth) levels deep; at most \(Value.maximumDepth) are allowed")
        }
        return fields
    }
}

extension Write.FieldTransform {
    /// Applies the transform to a document's fields, with Firestore's rules for missing and mistyped fields.
    func apply(to fields: inout [String: Value], commitTime: Timestamp) {
        let path = field.segments[...]
        let current = Value.map(fields).value(at: path)
        let result: Value?
        switch kind {
        case .serverTimestamp:
            result = .timestamp(commitTime)
        case .delete:
            result = nil
        case .increment(let operand):
            result = current.flatMap { Write.FieldTransform.add($0, operand) } ?? operand
        case .maximum(let operand):
            if let current, current.isNumber {
                // The maximum of NaN and any number is NaN (Firestore's FieldTransform.maximum), although NaN
                // sorts first. `minimum` needs no such care: there NaN wins by the order itself.
                if current.isNaN || operand.isNaN {
                    result = current.isNaN ? current : operand
                } else {
                    result = Value.compare(current, operand) >= 0 ? current : operand
                }
            } else {
                result = operand
            }
        case .minimum(let operand):
            if let current, current.isNumber {
                result = Value.compare(current, operand) <= 0 ? current : operand
            } else {
                result = operand
            }
        case .arrayUnion(let elements):
            var array: [Value] = []
            if case .array(let existing)? = current { array = existing }
            for element in elements where !array.contains(where: { $0.isEqual(to: element) }) {
                array.append(element)
            }
            result = .array(array)
        case .arrayRemove(let elements):
            var array: [Value] = []
            if case .array(let existing)? = current { array = existing }
            array.removeAll { item in elements.contains { $0.isEqual(to: item) } }
            result = .array(array)
        }
        if let result {
            Value.setField(&fields, path: path, to: result)
        } else {
            Value.removeField(&fields, path: path)
        }
    }

    /// Firestore's increment: integers add with saturation; a double on either side makes a double sum.
    /// Returns nil when the current value is not a number (the operand then replaces it).
    static func add(_ current: Value, _ operand: Value) -> Value? {
        switch (current, operand) {
        case (.integer(let a), .integer(let b)):
            let (sum, overflow) = a.addingReportingOverflow(b)
            return .integer(overflow ? (b > 0 ? .max : .min) : sum)
        case (.integer(let a), .double(let b)): return .double(Double(a) + b)
        case (.double(let a), .integer(let b)): return .double(a + Double(b))
        case (.double(let a), .double(let b)): return .double(a + b)
        default: return nil
        }
    }
}

extension Value {
    /// Sets the field at `path`, creating maps on the way and replacing non-map values that stand in it.
    public static func setField(_ fields: inout [String: Value], path: ArraySlice<String>, to value: Value) {
        guard let first = path.first else { return }
        if path.count == 1 {
            fields[first] = value
            return
        }
        var child: [String: Value] = [:]
        if case .map(let existing)? = fields[first] { child = existing }
        fields[first] = nil  // keep the child uniquely referenced while it changes
        setField(&child, path: path.dropFirst(), to: value)
        fields[first] = .map(child)
    }

    /// Removes the field at `path`, if present.
    public static func removeField(_ fields: inout [String: Value], path: ArraySlice<String>) {
        guard let first = path.first else { return }
        if path.count == 1 {
            fields[first] = nil
            return
        }
        guard case .map(var child)? = fields[first] else { return }
        fields[first] = nil
        removeField(&child, path: path.dropFirst())
        fields[first] = .map(child)
    }

    /// The paths of the leaves of a map: every value that is not a non-empty map.
    public static func leafPaths(of fields: [String: Value]) -> [[String]] {
        var result: [[String]] = []
        for (key, value) in fields {
            if case .map(let child) = value, !child.isEmpty {
                result += leafPaths(of: child).map { [key] + $0 }
            } else {
                result.append([key])
            }
        }
        return result
    }

    /// Whether this is a double that is NaN.
    var isNaN: Bool {
        if case .double(let d) = self { return d.isNaN }
        return false
    }

    /// How deeply maps and arrays nest in this value: 0 for a scalar, 1 for a flat array or map.
    public var depth: Int {
        switch self {
        case .array(let items): 1 + (items.map(\.depth).max() ?? 0)
        case .map(let fields): 1 + (fields.values.map(\.depth).max() ?? 0)
        default: 0
        }
    }
}
