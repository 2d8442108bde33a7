import FlintCore
import FlintRules
import Hummingbird

/// `/v1/admin/rules/{firestore|storage}`: deploy, read, list releases and roll back, for admins.
struct RulesController: Sendable {
    let rules: LiveRules
    let maximumBodySize: Int

    /// The most releases one listing returns.
    static let maximumReleases = 1000

    func addRoutes(to router: Router<FlintRequestContext>) {
        // The body is the rules file itself, as `firebase deploy` reads it; `?dryRun=true` only validates.
        router.put("/v1/admin/rules/{service}") { request, context -> Response in
            try AdminController.requireAdmin(context)
            let service = try Self.service(context)
            let buffer = try await request.body.collect(upTo: maximumBodySize)
            guard let source = String(validating: buffer.readableBytesView, as: UTF8.self) else {
                throw FlintError.invalidArgument("the body must be the rules file as UTF-8 text")
            }
            if request.uri.queryParameters["dryRun"] == "true" {
                _ = try LiveRules.compile(source, for: service)
                return .json(.object(["valid": .bool(true), "service": .string(service.pathName)]))
            }
            let release = try await rules.deploy(source, for: service, by: context.identity?.uid)
            return .json(release.json(includingSource: false), status: .created)
        }
        router.get("/v1/admin/rules/{service}") { _, context -> JSON in
            try AdminController.requireAdmin(context)
            let service = try Self.service(context)
            guard let live = rules.entry(service) else {
                throw FlintError.notFound("no \(service.pathName) rules are deployed; until some are, only admins have access")
            }
            return live.release.json(includingSource: true)
        }
        router.get("/v1/admin/rules/{service}/releases") { request, context -> JSON in
            try AdminController.requireAdmin(context)
            let service = try Self.service(context)
            var limit = 100
            if let text = request.uri.queryParameters["limit"] {
                guard let value = Int(text), (1...Self.maximumReleases).contains(value) else {
                    throw FlintError.invalidArgument("limit must be an integer from 1 to \(Self.maximumReleases)")
                }
                limit = value
            }
            let releases = try await rules.store.releases(service, limit: limit)
            return .object(["releases": .array(releases.map { $0.json(includingSource: false) })])
        }
        router.get("/v1/admin/rules/{service}/releases/{id}") { _, context -> JSON in
            try AdminController.requireAdmin(context)
            let service = try Self.service(context)
            let release = try await release(context, service: service)
            return release.json(includingSource: true)
        }
        // A rollback deploys an earlier release's source again, as a new release.
        router.post("/v1/admin/rules/{service}/releases/{id}/rollback") { _, context -> Response in
            try AdminController.requireAdmin(context)
            let service = try Self.service(context)
            let old = try await release(context, service: service)
            let release = try await rules.deploy(old.source, for: service, by: context.identity?.uid, rollbackOf: old.id)
            return .json(release.json(includingSource: false), status: .created)
        }
    }

    private func release(_ context: FlintRequestContext, service: RulesService) async throws -> RulesStore.Release {
        let text = try context.parameters.require("id")
        guard let id = Int64(text), id > 0 else { throw FlintError.invalidArgument("a release id is a positive integer, not \"\(text)\"") }
        guard let release = try await rules.store.release(id: id), release.service == service else {
            throw FlintError.notFound("no \(service.pathName) release \(id)")
        }
        return release
    }

    private static func service(_ context: FlintRequestContext) throws(FlintError) -> RulesService {
        let name = context.parameters.get("service") ?? ""
        guard let service = RulesService(pathName: name) else {
            throw FlintError.notFound("no rules service \"\(name)\"; use firestore (documents) or storage (files)")
        }
        return service
    }
}
