/// Writing commits and writes in their JSON form: what `Commit(json:)` and `Write(json:context:)` read back.
/// The SDK and the CLI send commits with these.
extension Commit {
    /// `{"writes": [...], "mutationId": "…"}`.
    public var json: JSON {
        var members: [String: JSON] = ["writes": .array(writes.map(\.json))]
        if let mutationId { members["mutationId"] = .string(mutationId) }
        return .object(members)
    }
}

extension Write {
    /// The write as `POST /v1/commit` takes it. An update's data is written with field-path keys, one per masked field
    /// that has a value (a masked field without one is deleted, as the mask says).
    public var json: JSON {
        var members: [String: JSON] = ["path": .string(path.description)]
        switch operation {
        case .set(let data, let merge):
            members["op"] = .string("set")
            members["data"] = Value.map(data).json
            if merge { members["merge"] = .bool(true) }
        case .update(let data, let mask):
            members["op"] = .string("update")
            let paths = mask ?? Value.leafPaths(of: data).map { FieldPath(uncheckedSegments: $0) }
            var fields: [String: JSON] = [:]
            for path in paths {
                if let value = Value.map(data).value(at: path.segments) { fields[path.description] = value.json }
            }
            members["data"] = .object(fields)
            members["mask"] = .array(paths.map { .string($0.description) })
        case .delete:
            members["op"] = .string("delete")
        }
        if !transforms.isEmpty { members["transforms"] = .array(transforms.map(\.json)) }
        if let precondition { members["precondition"] = precondition.json }
        return .object(members)
    }
}

extension Write.Precondition {
    public var json: JSON {
        switch self {
        case .exists(let exists): .object(["exists": .bool(exists)])
        case .version(let version): .object(["version": .integer(version)])
        case .updateTime(let time): .object(["updateTime": .string(time.description)])
        }
    }
}

extension Write.FieldTransform {
    public var json: JSON {
        var members: [String: JSON] = ["field": .string(field.description)]
        switch kind {
        case .serverTimestamp: members["serverTimestamp"] = .bool(true)
        case .delete: members["delete"] = .bool(true)
        case .increment(let value): members["increment"] = value.json
        case .maximum(let value): members["maximum"] = value.json
        case .minimum(let value): members["minimum"] = value.json
        case .arrayUnion(let values): members["arrayUnion"] = .array(values.map(\.json))
        case .arrayRemove(let values): members["arrayRemove"] = .array(values.map(\.json))
        }
        return .object(members)
    }
}
