import FlintCore
import Foundation
import Hummingbird

/// The REST API of documents: `/v1/documents/{path…}`, `POST /v1/query` and `POST /v1/commit`.
///
/// Every write becomes a `Commit` and goes through the one commit path of `DocumentRules`, which checks the
/// security rules; every read is checked there too.
struct DocumentsController: Sendable {
    let store: any DocumentStore
    let rules: DocumentRules
    let maximumBodySize: Int

    /// The largest and the default page of a collection listing.
    static var maximumPageSize: Int { 1000 }
    static var defaultPageSize: Int { 100 }

    func addRoutes(to router: Router<FlintRequestContext>) {
        router.get("/v1/documents/**") { request, context in try await self.get(request, identity: context.identity) }
        router.put("/v1/documents/**") { request, context in try await self.put(request, identity: context.identity) }
        router.patch("/v1/documents/**") { request, context in try await self.patch(request, identity: context.identity) }
        router.delete("/v1/documents/**") { request, context in try await self.delete(request, identity: context.identity) }
        router.post("/v1/documents/**") { request, context in try await self.create(request, identity: context.identity) }
        router.post("/v1/query") { request, context in try await self.query(request, identity: context.identity) }
        router.post("/v1/commit") { request, context in try await self.commit(request, identity: context.identity) }
    }

    // MARK: Routes

    func get(_ request: Request, identity: Identity?) async throws -> Response {
        switch try Self.target(of: request) {
        case .document(let path):
            let stored = try await store.document(at: path)
            // Checked before answering "not found", so that a missing document says nothing to whom may not read it.
            try await rules.authorizeGet(path, document: stored, identity: identity)
            guard let document = stored else {
                throw FlintError.notFound("no document at \(path)")
            }
            let etag = Self.etag(document.version)
            if let ifNoneMatch = request.headers[.ifNoneMatch], Self.etagList(ifNoneMatch, contains: etag) {
                return Response(status: .notModified, headers: [.eTag: etag])
            }
            return .json(document.json, headers: [.eTag: etag])
        case .collection(let collection):
            return try await list(collection, request: request, identity: identity)
        }
    }

    func put(_ request: Request, identity: Identity?) async throws -> Response {
        let path = try Self.documentPath(of: request, verb: "PUT")
        let data = try Write.documentData(try await request.json(limit: maximumBodySize), context: "body")
        let write = Write(path: path, operation: .set(data: data, merge: false), precondition: try Self.ifMatch(request))
        return try await respond(with: write, identity: identity)
    }

    func patch(_ request: Request, identity: Identity?) async throws -> Response {
        let path = try Self.documentPath(of: request, verb: "PATCH")
        let data = try Write.updateData(try await request.json(limit: maximumBodySize), context: "body")
        let maskTexts = request.uri.queryParameters.getAll("mask").map { String($0) }
        var mask = data.paths
        if !maskTexts.isEmpty {
            mask = []
            for text in maskTexts {
                do {
                    mask.append(try FieldPath(text))
                } catch {
                    throw FlintError.invalidArgument("mask=\(text): \(error.message)")
                }
            }
        }
        let write = Write(path: path, operation: .update(data: data.fields, mask: mask), precondition: try Self.ifMatch(request))
        return try await respond(with: write, identity: identity)
    }

    func delete(_ request: Request, identity: Identity?) async throws -> Response {
        let path = try Self.documentPath(of: request, verb: "DELETE")
        let write = Write(path: path, operation: .delete, precondition: try Self.ifMatch(request))
        _ = try await rules.commit(try Commit(writes: [write]), identity: identity)
        return Response(status: .noContent)
    }

    func create(_ request: Request, identity: Identity?) async throws -> Response {
        guard case .collection(let collection) = try Self.target(of: request) else {
            throw FlintError.invalidArgument(
                "POST creates a document with a new id in a collection; to write a document at a known path use PUT")
        }
        let data = try Write.documentData(try await request.json(limit: maximumBodySize), context: "body")
        let path = try collection.document(AutoID.make())
        let write = Write(path: path, operation: .set(data: data, merge: false), precondition: .exists(false))
        let result = try await rules.commit(try Commit(writes: [write]), identity: identity)
        guard let document = result.writeResults[0].document else {
            throw FlintError(.internal, "a created document is missing from the commit's result")
        }
        return .json(
            document.json, status: .created,
            headers: [.location: "/v1/documents/" + Self.encodePath(path.segments), .eTag: Self.etag(document.version)])
    }

    func query(_ request: Request, identity: Identity?) async throws -> JSON {
        let query = try Query(json: try await request.json(limit: maximumBodySize))
        let documents = try await store.query(query)
        try await rules.authorizeList(query, documents: documents, identity: identity)
        return .object(["documents": .array(documents.map(\.json))])
    }

    func commit(_ request: Request, identity: Identity?) async throws -> JSON {
        let commit = try Commit(json: try await request.json(limit: maximumBodySize))
        return try await rules.commit(commit, identity: identity).json
    }

    // MARK: Helpers

    private func respond(with write: Write, identity: Identity?) async throws -> Response {
        let result = try await rules.commit(try Commit(writes: [write]), identity: identity)
        guard let document = result.writeResults[0].document else {
            throw FlintError(.internal, "a written document is missing from the commit's result")
        }
        return .json(document.json, headers: [.eTag: Self.etag(document.version)])
    }

    private func list(_ collection: CollectionPath, request: Request, identity: Identity?) async throws -> Response {
        let parameters = request.uri.queryParameters
        var pageSize = Self.defaultPageSize
        if let text = parameters["pageSize"] {
            guard let size = Int(text), (1...Self.maximumPageSize).contains(size) else {
                throw FlintError.invalidArgument("pageSize must be an integer from 1 to \(Self.maximumPageSize)")
            }
            pageSize = size
        }
        var query = Query(collection: collection, limit: pageSize + 1)
        if let token = parameters["pageToken"] {
            guard let bytes = Base64.decode(String(token)), let id = String(validating: bytes, as: UTF8.self),
                let after = try? collection.document(id)
            else {
                throw FlintError.invalidArgument("pageToken is not one this server gave out; start again without it")
            }
            query.start = Query.Cursor(values: [.reference(after)], inclusive: false)
        }
        var documents = try await store.query(query)
        try await rules.authorizeList(query, documents: documents, identity: identity)
        var body: [String: JSON] = [:]
        if documents.count > pageSize {
            documents.removeLast(documents.count - pageSize)
            body["nextPageToken"] = .string(Base64.encode(Array(documents[documents.count - 1].path.id.utf8)))
        }
        body["documents"] = .array(documents.map(\.json))
        return .json(.object(body))
    }

    enum Target {
        case document(DocumentPath)
        case collection(CollectionPath)
    }

    /// The document or collection a `/v1/documents/…` request names; each segment percent-decoded.
    static func target(of request: Request) throws(FlintError) -> Target {
        let prefix = "/v1/documents/"
        let raw = request.uri.path
        guard raw.hasPrefix(prefix) else { throw FlintError.invalidArgument("expected a path under \(prefix)") }
        var segments: [String] = []
        for part in raw.dropFirst(prefix.count).split(separator: "/", omittingEmptySubsequences: false) {
            guard let decoded = String(part).removingPercentEncoding else {
                throw FlintError.invalidArgument("the path has a malformed percent-escape in \"\(part)\"")
            }
            segments.append(decoded)
        }
        if segments.last == "" { segments.removeLast() }  // a trailing slash
        do {
            try PathSegments.validate(segments)
            return segments.count % 2 == 0 ? .document(try DocumentPath(segments: segments)) : .collection(try CollectionPath(segments: segments))
        } catch {
            throw FlintError.invalidArgument("\(raw.dropFirst(prefix.count)): \(error.message)")
        }
    }

    static func documentPath(of request: Request, verb: String) throws(FlintError) -> DocumentPath {
        guard case .document(let path) = try target(of: request) else {
            throw FlintError.invalidArgument("\(verb) needs a document path (an even number of segments), not a collection")
        }
        return path
    }

    static func encodePath(_ segments: [String]) -> String {
        segments.map { $0.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? $0 }
            .joined(separator: "/")
    }

    static func etag(_ version: Int64) -> String { "\"\(version)\"" }

    static func etagList(_ header: String, contains etag: String) -> Bool {
        header.split(separator: ",").contains { item in
            let tag = item.trimmingCharacters(in: .whitespaces)
            return tag == "*" || tag == etag || tag == "W/" + etag
        }
    }

    /// `If-Match: "<version>"` is a version precondition; `If-Match: *` requires that the document exist.
    static func ifMatch(_ request: Request) throws(FlintError) -> Write.Precondition? {
        guard let header = request.headers[.ifMatch] else { return nil }
        let tag = header.trimmingCharacters(in: .whitespaces)
        if tag == "*" { return .exists(true) }
        guard tag.hasPrefix("\""), tag.hasSuffix("\""), tag.count >= 3, let version = Int64(tag.dropFirst().dropLast()) else {
            throw FlintError.invalidArgument("If-Match must be * or a document's ETag such as \"42\"")
        }
        return .version(version)
    }
}

/// Random ids from [A-Za-z0-9] and the system's secure generator: 20 characters for documents, as Firestore makes
/// them (about 119 bits); 28 for user ids, as Firebase Auth makes them.
enum AutoID {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")

    static func make(length: Int = 20) -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))] })
    }
}
