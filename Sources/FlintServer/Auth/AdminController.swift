import FlintCore
import Foundation
import Hummingbird

/// `/v1/admin/users/…`: for service accounts with the `admin` scope.
struct AdminController: Sendable {
    let store: any AuthStorage
    let tokens: TokenService
    let hasher: PasswordHasher
    let minimumPasswordLength: Int
    let maximumBodySize: Int

    func addRoutes(to router: Router<FlintRequestContext>) {
        addClientRoutes(to: router)
        router.get("/v1/admin/users") { request, context in
            try Self.requireAdmin(context)
            let parameters = request.uri.queryParameters
            var pageSize = 100
            if let text = parameters["pageSize"] {
                guard let size = Int(text), (1...1000).contains(size) else {
                    throw FlintError.invalidArgument("pageSize must be an integer from 1 to 1000")
                }
                pageSize = size
            }
            let after = parameters["pageToken"].map(String.init)
            var users = try await store.users(after: after, limit: pageSize + 1)
            var answer: [String: JSON] = [:]
            if users.count > pageSize {
                users.removeLast(users.count - pageSize)
                answer["nextPageToken"] = .string(users[users.count - 1].uid)
            }
            answer["users"] = .array(users.map(\.json))
            return JSON.object(answer)
        }
        router.post("/v1/admin/users") { request, context in
            try Self.requireAdmin(context)
            let body = try JSONObject(try await request.json(limit: maximumBodySize), context: "body")
            try body.allowOnly(["email", "password", "disabled"])
            let email = try AuthController.normalizedEmail(try body.string("email"))
            var hash: String? = nil
            if let password = try body.optionalString("password") {
                try AuthController.checkPolicy(password, minimumLength: minimumPasswordLength)
                hash = try hasher.hash(password)
            }
            let user = try await store.createUser(email: email, passwordHash: hash, provider: "password")
            if try body.optionalBool("disabled") == true { _ = try await store.setDisabled(uid: user.uid, true) }
            return Response.json(try await store.user(uid: user.uid)?.json ?? user.json, status: .created)
        }
        router.delete("/v1/admin/users/{uid}") { _, context in
            try Self.requireAdmin(context)
            let uid = try context.parameters.require("uid")
            guard try await store.deleteUser(uid: uid) else { throw FlintError.notFound("no user \(uid)") }
            return Response(status: .noContent)
        }
        router.post("/v1/admin/keys/rotate") { _, context in
            try Self.requireAdmin(context)
            try await tokens.rotate()
            return JSON.object(["kid": .string(tokens.currentKeyID)])
        }
        router.get("/v1/admin/users/{uid}") { _, context in
            try Self.requireAdmin(context)
            return try await self.user(context).json
        }
        router.patch("/v1/admin/users/{uid}") { request, context in
            try Self.requireAdmin(context)
            let body = try JSONObject(try await request.json(limit: maximumBodySize), context: "body")
            try body.allowOnly(["disabled"])
            let uid = try await self.user(context).uid
            if let disabled = try body.optionalBool("disabled") { _ = try await store.setDisabled(uid: uid, disabled) }
            return try await self.user(context).json
        }
        router.put("/v1/admin/users/{uid}/claims") { request, context in
            try Self.requireAdmin(context)
            guard case .object(let claims) = try await request.json(limit: maximumBodySize) else {
                throw FlintError.invalidArgument("the body must be a JSON object of custom claims")
            }
            if let reserved = claims.keys.sorted().first(where: AccessClaims.reserved.contains) {
                throw FlintError.invalidArgument("\"\(reserved)\" is a reserved claim and cannot be set")
            }
            guard JSON.object(claims).serialized.count <= 1000 else {
                throw FlintError.invalidArgument("custom claims must be at most 1000 bytes of JSON")
            }
            let uid = try await self.user(context).uid
            _ = try await store.setClaims(uid: uid, claims)
            return try await self.user(context).json
        }
    }

    /// `/v1/admin/clients`: OAuth clients. A confidential client gets a secret, shown once; a public one (an app that
    /// cannot keep a secret) relies on PKCE alone.
    func addClientRoutes(to router: Router<FlintRequestContext>) {
        router.post("/v1/admin/clients") { request, context in
            try Self.requireAdmin(context)
            let body = try JSONObject(try await request.json(limit: maximumBodySize), context: "body")
            try body.allowOnly(["name", "redirect_uris", "scopes", "public"])
            let redirectURIs = try Self.redirectURIs(body)
            let scopes = try Self.strings(body, "scopes")
            let isPublic = try body.optionalBool("public") ?? false
            if isPublic, scopes.contains("admin") { throw FlintError.invalidArgument("a public client cannot have the admin scope") }
            let secret = isPublic ? nil : AuthController.randomToken()
            let client = AuthStore.Client(
                clientID: AutoID.make(length: 24), secretHash: try secret.map { try hasher.hash($0) },
                name: try body.optionalString("name") ?? "", scopes: scopes, redirectURIs: redirectURIs)
            try await store.putClient(client)
            guard case .object(var answer) = client.json else { return Response.json(client.json, status: .created) }
            if let secret { answer["client_secret"] = .string(secret) }
            return Response.json(.object(answer), status: .created)
        }
        router.get("/v1/admin/clients") { _, context in
            try Self.requireAdmin(context)
            return JSON.object(["clients": .array(try await store.clients().map(\.json))])
        }
        router.patch("/v1/admin/clients/{clientID}") { request, context in
            try Self.requireAdmin(context)
            let id = try context.parameters.require("clientID")
            guard var client = try await store.client(id: id) else { throw FlintError.notFound("no client \(id)") }
            let body = try JSONObject(try await request.json(limit: maximumBodySize), context: "body")
            try body.allowOnly(["name", "redirect_uris"])
            if body["redirect_uris"] != nil { client.redirectURIs = try Self.redirectURIs(body) }
            if let name = try body.optionalString("name") { client.name = name }
            try await store.putClient(client)
            return client.json
        }
        router.delete("/v1/admin/clients/{clientID}") { _, context in
            try Self.requireAdmin(context)
            let id = try context.parameters.require("clientID")
            guard try await store.deleteClient(id: id) else { throw FlintError.notFound("no client \(id)") }
            return Response(status: .noContent)
        }
    }

    /// Redirect URIs: absolute, without a fragment, https (or http on loopback, or an app's own scheme).
    private static func redirectURIs(_ body: JSONObject) throws(FlintError) -> [String] {
        let uris = try strings(body, "redirect_uris")
        for uri in uris {
            guard let url = URLComponents(string: uri), let scheme = url.scheme, url.fragment == nil,
                scheme == "https" || (scheme == "http" && ["127.0.0.1", "localhost", "[::1]"].contains(url.host ?? ""))
                    || !["http", "https"].contains(scheme)
            else {
                throw FlintError.invalidArgument("redirect URI \(uri) must be absolute, without a fragment, and https (http only on loopback)")
            }
        }
        return uris
    }

    private static func strings(_ body: JSONObject, _ key: String) throws(FlintError) -> [String] {
        guard let json = body[key] else { return [] }
        guard case .array(let items) = json else { throw FlintError.invalidArgument("body.\(key) must be an array of strings") }
        var strings: [String] = []
        for item in items {
            guard case .string(let s) = item, !s.isEmpty, !s.contains(" ") else {
                throw FlintError.invalidArgument("body.\(key) must hold non-empty strings without spaces")
            }
            strings.append(s)
        }
        return strings
    }

    private func user(_ context: FlintRequestContext) async throws -> AuthStore.User {
        let uid = try context.parameters.require("uid")
        guard let user = try await store.user(uid: uid) else { throw FlintError.notFound("no user \(uid)") }
        return user
    }

    static func requireAdmin(_ context: FlintRequestContext) throws(FlintError) {
        guard let identity = context.identity else { throw FlintError(.unauthenticated, "the admin API needs an access token") }
        guard identity.isAdmin else { throw FlintError(.permissionDenied, "the admin API needs a token with the admin scope") }
    }
}
