import FlintCore

/// The writes that `setData`, `updateData` and `delete` make, shared by documents, batches and transactions.
enum WriteBuilder {
    /// `setData`: replace the document (or, with `merge`, merge the given fields into it).
    static func set(_ path: DocumentPath, _ data: [String: FieldValue], merge: Bool) throws(FlintError) -> Write {
        let (fields, transforms) = try FieldValue.split(data)
        if !merge, transforms.contains(where: { $0.kind == .delete }) {
            throw .invalidArgument("FieldValue.delete() is only allowed in updateData or in setData with merge: true")
        }
        return Write(path: path, operation: .set(data: fields, merge: merge), transforms: transforms)
    }

    /// `updateData`: change the named fields (keys are dotted field paths) of a document that must exist.
    static func update(_ path: DocumentPath, _ data: [String: FieldValue]) throws(FlintError) -> Write {
        var fields: [String: Value] = [:]
        var mask: [FieldPath] = []
        var transforms: [Write.FieldTransform] = []
        for key in data.keys.sorted(by: JSON.utf8Less) {
            let field = try FieldPath(key)
            if field.isDocumentName { throw .invalidArgument("updateData: __name__ is the document's name, not a field") }
            if let clash = mask.first(where: { $0.isPrefix(of: field) || field.isPrefix(of: $0) })
                ?? transforms.map(\.field).first(where: { $0.isPrefix(of: field) || field.isPrefix(of: $0) })
            {
                throw .invalidArgument("updateData: the field paths \(clash) and \(field) overlap")
            }
            if case .map(let inner) = data[key]! {
                for name in inner.keys { try FieldPath.validateFieldName(name, in: "updateData") }
            }
            let (value, inner) = data[key]!.split(at: field.segments)
            if let value {
                Value.setField(&fields, path: field.segments[...], to: value)
                mask.append(field)
            }
            transforms += inner
        }
        return Write(path: path, operation: .update(data: fields, mask: mask), transforms: transforms, precondition: .exists(true))
    }

    static func delete(_ path: DocumentPath) -> Write {
        Write(path: path, operation: .delete)
    }
}
