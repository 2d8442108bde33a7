/// Reading commits and writes from their JSON form (DESIGN.md, "Request shapes").
extension Commit {
    public init(json: JSON) throws(FlintError) {
        let object = try JSONObject(json, context: "commit")
        try object.allowOnly(["writes", "mutationId"])
        guard case .array(let items)? = object["writes"] else {
            throw .invalidArgument("commit.writes must be an array of writes")
        }
        var writes: [Write] = []
        writes.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            writes.append(try Write(json: item, context: "writes[\(i)]"))
        }
        try self.init(writes: writes, mutationId: try object.optionalString("mutationId"))
    }
}

extension Write {
    public init(json: JSON, context: String) throws(FlintError) {
        let object = try JSONObject(json, context: context)
        let op = try object.string("op")
        let pathText = try object.string("path")
        let path: DocumentPath
        do {
            path = try DocumentPath(pathText)
        } catch {
            throw .invalidArgument("\(context).path: \(error.message)")
        }
        let operation: Operation
        switch op {
        case "set":
            try object.allowOnly(["op", "path", "data", "merge", "transforms", "precondition"])
            operation = .set(
                data: try Write.documentData(object["data"] ?? .object([:]), context: "\(context).data"),
                merge: try object.optionalBool("merge") ?? false)
        case "update":
            try object.allowOnly(["op", "path", "data", "mask", "transforms", "precondition"])
            var mask: [FieldPath]? = nil
            if let maskJSON = object["mask"] {
                guard case .array(let items) = maskJSON else { throw .invalidArgument("\(context).mask must be an array of field paths") }
                var paths: [FieldPath] = []
                for (i, item) in items.enumerated() {
                    guard case .string(let text) = item else { throw .invalidArgument("\(context).mask[\(i)] must be a string") }
                    let path: FieldPath
                    do {
                        path = try FieldPath(text)
                    } catch {
                        throw .invalidArgument("\(context).mask[\(i)]: \(error.message)")
                    }
                    if path.isDocumentName {
                        throw .invalidArgument("\(context).mask[\(i)]: __name__ is the document's name, not a field")
                    }
                    paths.append(path)
                }
                mask = paths
            }
            let data = try Write.updateData(object["data"] ?? .object([:]), context: "\(context).data")
            operation = .update(data: data.fields, mask: mask ?? data.paths)
        case "delete":
            try object.allowOnly(["op", "path", "precondition"])
            operation = .delete
        default:
            throw .invalidArgument("\(context).op must be \"set\", \"update\" or \"delete\", not \"\(op)\"")
        }
        var transforms: [FieldTransform] = []
        if let transformsJSON = object["transforms"] {
            guard case .array(let items) = transformsJSON else {
                throw .invalidArgument("\(context).transforms must be an array")
            }
            for (i, item) in items.enumerated() {
                transforms.append(try FieldTransform(json: item, context: "\(context).transforms[\(i)]"))
            }
        }
        var precondition: Precondition? = nil
        if let preconditionJSON = object["precondition"] {
            precondition = try Precondition(json: preconditionJSON, context: "\(context).precondition")
        }
        self.init(path: path, operation: operation, transforms: transforms, precondition: precondition)
    }

    /// A document's fields as given to `set` or PUT: a JSON object whose keys are field names.
    public static func documentData(_ json: JSON, context: String) throws(FlintError) -> [String: Value] {
        guard case .object = json else { throw .invalidArgument("\(context) must be a JSON object of fields, not \(json.typeName)") }
        guard case .map(let fields) = try Value(json: json, field: context) else {
            throw .invalidArgument("\(context) must be a map of fields, not a tagged value")
        }
        return fields
    }

    /// Fields as given to `update` or PATCH: the keys are field paths (`"address.city": "Oslo"` sets a nested field),
    /// expanded here into nested maps, and returned with the paths themselves — the mask of an update that names none,
    /// so that `{"a": {"b": 1}}` replaces the field `a` whole, as Firestore's `update` does.
    /// A key and a path below it (`a` and `a.b`) may not both appear.
    public static func updateData(_ json: JSON, context: String) throws(FlintError) -> (fields: [String: Value], paths: [FieldPath]) {
        guard case .object(let members) = json else {
            throw .invalidArgument("\(context) must be a JSON object of fields, not \(json.typeName)")
        }
        var result: [String: Value] = [:]
        var written: [FieldPath] = []
        for key in members.keys.sorted() {
            let unescaped = key.hasPrefix("$$") ? String(key.dropFirst()) : key
            if key.hasPrefix("$") && !key.hasPrefix("$$") {
                throw .invalidArgument("\(context) must be a map of fields; escape a key that starts with $ as $$")
            }
            let path: FieldPath
            do {
                path = try FieldPath(unescaped)
            } catch {
                throw .invalidArgument("\(context): \(error.message)")
            }
            if path.isDocumentName { throw .invalidArgument("\(context): __name__ is the document's name, not a field") }
            if let clash = written.first(where: { $0.isPrefix(of: path) || path.isPrefix(of: $0) }) {
                throw .invalidArgument("\(context): the field paths \(clash) and \(path) overlap")
            }
            written.append(path)
            let value = try Value(json: members[key]!, field: "\(context).\(path)")
            Value.setField(&result, path: path.segments[...], to: value)
        }
        return (result, written)
    }
}

extension Write.Precondition {
    public init(json: JSON, context: String) throws(FlintError) {
        let object = try JSONObject(json, context: context)
        try object.allowOnly(["exists", "updateTime", "version"])
        guard object.members.count == 1 else {
            throw .invalidArgument("\(context) must have exactly one of exists, updateTime or version")
        }
        if let exists = try object.optionalBool("exists") {
            self = .exists(exists)
        } else if let version = try object.optionalInteger("version") {
            self = .version(version)
        } else {
            let text = try object.string("updateTime")
            guard let time = Timestamp(rfc3339: text) else {
                throw .invalidArgument("\(context).updateTime must be an RFC 3339 timestamp")
            }
            self = .updateTime(time)
        }
    }
}

extension Write.FieldTransform {
    public init(json: JSON, context: String) throws(FlintError) {
        let object = try JSONObject(json, context: context)
        let kinds = ["serverTimestamp", "increment", "maximum", "minimum", "arrayUnion", "arrayRemove", "delete"]
        try object.allowOnly(Set(kinds + ["field"]))
        let field = try object.fieldPath("field")
        if field.isDocumentName { throw .invalidArgument("\(context): __name__ cannot be transformed") }
        let given = kinds.filter { object[$0] != nil }
        guard given.count == 1, let name = given.first else {
            throw .invalidArgument("\(context) must have \"field\" and exactly one of: \(kinds.joined(separator: ", "))")
        }
        let payload = object[name]!
        switch name {
        case "serverTimestamp", "delete":
            guard payload == .bool(true) else { throw .invalidArgument("\(context).\(name) must be true") }
            self.init(field: field, kind: name == "delete" ? .delete : .serverTimestamp)
        case "increment", "maximum", "minimum":
            let value = try Value(json: payload, field: "\(context).\(name)")
            guard value.isNumber else { throw .invalidArgument("\(context).\(name) takes a number, not \(value.typeName)") }
            self.init(field: field, kind: name == "increment" ? .increment(value) : name == "maximum" ? .maximum(value) : .minimum(value))
        default:
            guard case .array(let elements) = try Value(json: payload, field: "\(context).\(name)") else {
                throw .invalidArgument("\(context).\(name) takes an array of values")
            }
            self.init(field: field, kind: name == "arrayUnion" ? .arrayUnion(elements) : .arrayRemove(elements))
        }
    }
}
