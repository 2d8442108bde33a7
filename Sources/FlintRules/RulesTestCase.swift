import FlintCore

/// One case of a rules test file, read and checked: the request to evaluate, the documents it sees, the expectation.
struct TestCase {
    static let keys: Set<String> = ["name", "auth", "method", "path", "existing", "request", "query", "time", "bucket", "firestore", "expect"]

    var name: String
    var request: RulesRequest
    var documents: InMemoryDocumentSource
    var expectAllow: Bool

    init(_ json: JSON, index: Int, service: RulesService) throws(RulesTestError) {
        var label = "case \(index + 1)"
        guard case .object(let fields) = json else { throw RulesTestError("\(label) must be an object, not \(json.typeName)") }
        guard case .string(let name)? = fields["name"] else { throw RulesTestError("\(label) needs \"name\": a string") }
        self.name = name
        label += " (\"\(name)\")"
        func fail(_ message: String) -> RulesTestError { RulesTestError("\(label): \(message)") }

        for key in fields.keys where !TestCase.keys.contains(key) {
            throw fail("unknown key \"\(key)\"; the keys are " + TestCase.keys.sorted().joined(separator: ", "))
        }
        guard case .string(let methodName)? = fields["method"], let method = RulesMethod(rawValue: methodName) else {
            throw fail("\"method\" must be one of get, list, create, update, delete")
        }
        guard case .string(let expectation)? = fields["expect"], expectation == "allow" || expectation == "deny" else {
            throw fail("\"expect\" must be \"allow\" or \"deny\"")
        }
        expectAllow = expectation == "allow"
        guard case .string(let pathText)? = fields["path"] else { throw fail("\"path\" must be a string such as \"users/alice\"") }

        var auth: RulesAuth?
        switch fields["auth"] {
        case nil, .null?: auth = nil
        case .object(let authFields)?:
            guard case .string(let uid)? = authFields["uid"] else { throw fail("\"auth.uid\" must be a string") }
            for key in authFields.keys where key != "uid" && key != "token" {
                throw fail("unknown key \"auth.\(key)\"; auth has uid and token")
            }
            auth = RulesAuth(uid: uid, token: try TestCase.map(authFields["token"] ?? .object([:]), "auth.token", fail))
        case let other?: throw fail("\"auth\" must be an object {\"uid\": …, \"token\": {…}} or null, not \(other.typeName)")
        }

        var time = Timestamp.now()
        if let value = fields["time"] {
            guard case .string(let text) = value, let parsed = Timestamp(rfc3339: text) else {
                throw fail("\"time\" must be an RFC 3339 string such as \"2026-11-26T10:00:00Z\"")
            }
            time = parsed
        }

        var query: RulesQuery?
        if let value = fields["query"] {
            guard case .object(let q) = value else { throw fail("\"query\" must be an object with limit, offset or orderBy") }
            query = RulesQuery()
            for (key, member) in q {
                switch (key, member) {
                case ("limit", .integer(let i)): query?.limit = i
                case ("offset", .integer(let i)): query?.offset = i
                case ("orderBy", .string(let s)): query?.orderBy = s
                default: throw fail("\"query.\(key)\" is not limit (int), offset (int) or orderBy (string)")
                }
            }
        }

        var bucket = "default"
        if let value = fields["bucket"] {
            guard case .string(let text) = value, !text.isEmpty else { throw fail("\"bucket\" must be a non-empty string") }
            bucket = text
        }

        var existing: [String: [String: Value]] = [:]
        if let value = fields["existing"] {
            guard case .object(let entries) = value else { throw fail("\"existing\" must be an object from paths to data") }
            for (key, data) in entries { existing[key] = try TestCase.map(data, "existing[\"\(key)\"]", fail) }
        }
        let isWrite = method == .create || method == .update

        switch service {
        case .firestore:
            guard fields["firestore"] == nil else {
                throw fail("\"firestore\" is for Storage rules; Firestore cases give the stored documents in \"existing\"")
            }
            let path: DocumentPath
            do { path = try DocumentPath(pathText) } catch { throw fail("\"path\": \(error.message)") }
            var before: [DocumentPath: [String: Value]] = [:]
            for (key, data) in existing {
                do { before[try DocumentPath(key)] = data } catch { throw fail("\"existing\" key \"\(key)\": \(error.message)") }
            }
            var written: [String: Value] = [:]
            if let value = fields["request"] {
                guard case .object(let requestFields) = value else { throw fail("\"request\" must be an object {\"data\": {…}}") }
                for key in requestFields.keys where key != "data" {
                    throw fail("unknown key \"request.\(key)\"; for Firestore, request has only data")
                }
                written = try TestCase.map(requestFields["data"] ?? .object([:]), "request.data", fail)
            }
            var after = before
            if isWrite { after[path] = written } else if method == .delete { after[path] = nil }
            request = RulesRequest(
                method: method, path: path.segments, auth: auth, time: time,
                resource: before[path].map { .document(path: path, data: $0) },
                requestResource: isWrite ? .document(path: path, data: written) : nil,
                query: query, bucket: bucket)
            documents = InMemoryDocumentSource(before: before, after: after)
        case .storage:
            // The Firestore documents that `firestore.get()` and `firestore.exists()` read.
            var documentsRead: [DocumentPath: [String: Value]] = [:]
            if let value = fields["firestore"] {
                guard case .object(let entries) = value else { throw fail("\"firestore\" must be an object from document paths to data") }
                for (key, data) in entries {
                    let documentPath: DocumentPath
                    do { documentPath = try DocumentPath(key) } catch { throw fail("\"firestore\" key \"\(key)\": \(error.message)") }
                    documentsRead[documentPath] = try TestCase.map(data, "firestore[\"\(key)\"]", fail)
                }
            }
            let segments = pathText.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard !pathText.isEmpty, !segments.contains("") else {
                throw fail("\"path\" must be an object name such as \"avatars/alice.png\", without empty segments")
            }
            var properties: [String: Value] = [:]
            if let value = fields["request"] { properties = try TestCase.map(value, "request", fail) }
            request = RulesRequest(
                method: method, path: segments, auth: auth, time: time,
                resource: existing[pathText].map { .object(name: pathText, bucket: bucket, properties: $0) },
                requestResource: isWrite ? .object(name: pathText, bucket: bucket, properties: properties) : nil,
                query: query, bucket: bucket)
            documents = InMemoryDocumentSource(before: documentsRead)
        }
    }

    /// A JSON object in Flint's tagged form, as a map of values.
    static func map(_ json: JSON, _ field: String, _ fail: (String) -> RulesTestError) throws(RulesTestError) -> [String: Value] {
        guard case .object = json else { throw fail("\"\(field)\" must be an object, not \(json.typeName)") }
        let value: Value
        do { value = try Value(json: json, field: field) } catch { throw fail(error.message) }
        guard case .map(let fields) = value else { throw fail("\"\(field)\" must be a map, not a tagged value") }
        return fields
    }
}
