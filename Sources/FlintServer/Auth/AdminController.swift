import FlintCore
import Hummingbird

/// `/v1/admin/users/…`: for service accounts with the `admin` scope.
struct AdminController: Sendable {
    let store: AuthStore
    let maximumBodySize: Int

    func addRoutes(to router: Router<FlintRequestContext>) {
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
