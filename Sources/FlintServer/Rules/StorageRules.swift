import FlintCore
import FlintRules

extension FileAuthorizer {
    /// The security rules of files (`service firebase.storage`): admins pass; with no storage rules deployed everyone
    /// else is denied. `firestore.get()` and `firestore.exists()` in the rules read the documents.
    static func storageRules(_ rules: LiveRules, documents: any DocumentStore) -> FileAuthorizer {
        FileAuthorizer { access in
            guard access.identity?.isAdmin != true else { return }
            guard let ruleset = rules.ruleset(.storage) else {
                throw FlintError(
                    .permissionDenied,
                    "no security rules are deployed for files, so only admins may use them; deploy rules with PUT /v1/admin/rules/storage (see sdk-docs/rules.md)")
            }
            let request = RulesRequest(
                method: access.method.rulesMethod, path: access.path.split(separator: "/").map(String.init),
                auth: access.identity.map(DocumentRules.auth), time: .now(), resource: access.existing.map(Self.resource),
                requestResource: access.incoming.map { Self.resource($0, name: access.path) })
            let decision = await ruleset.evaluate(request, documents: StoreDocuments(store: documents), budget: RulesReadBudget(limit: 10))
            guard decision.allowed else {
                throw FlintError(
                    .permissionDenied,
                    "the security rules do not allow \(access.method.rawValue) on file \(access.path.isEmpty ? "/" : access.path)"
                        + (access.identity == nil ? " when signed out" : " for this user"))
            }
        }
    }

    /// A stored object as rules see `resource`, with Cloud Storage's property names.
    static func resource(_ file: FileMetadata) -> RulesResource {
        var properties: [String: Value] = [
            "size": .integer(file.size), "contentType": .string(file.contentType),
            "metadata": .map(file.customMetadata.mapValues(Value.string)), "md5Hash": .string(Base64.encode(file.md5)),
            "etag": .string(file.etag), "generation": .string(String(file.generation)),
            "metageneration": .string(String(file.metageneration)), "timeCreated": .timestamp(file.createTime),
            "updated": .timestamp(file.updateTime),
        ]
        if let disposition = file.contentDisposition { properties["contentDisposition"] = .string(disposition) }
        if let cacheControl = file.cacheControl { properties["cacheControl"] = .string(cacheControl) }
        return .object(name: file.path.string, bucket: "default", properties: properties)
    }

    /// An upload or metadata update as rules see `request.resource`.
    static func resource(_ file: IncomingFile, name: String) -> RulesResource {
        .object(
            name: name, bucket: "default",
            properties: [
                "size": .integer(file.size), "contentType": .string(file.contentType),
                "metadata": .map(file.metadata.mapValues(Value.string)),
            ])
    }
}

extension FileMethod {
    var rulesMethod: RulesMethod {
        switch self {
        case .get: .get
        case .list: .list
        case .create: .create
        case .update: .update
        case .delete: .delete
        }
    }
}
