import FlintRules

/// Where every deployed ruleset is kept. One seam, two stores: `RulesStore` in the server's SQLite database,
/// `PostgresRulesStore` when several servers share PostgreSQL. The newest release of a service is the live one.
protocol RulesStorage: Sendable {
    /// Records a new release, which becomes the live one.
    func add(_ service: RulesService, source: String, deployedBy: String?, rollbackOf: Int64?) async throws -> RulesStore.Release
    /// A service's releases, newest (the live one) first.
    func releases(_ service: RulesService, limit: Int) async throws -> [RulesStore.Release]
    func release(id: Int64) async throws -> RulesStore.Release?
    /// The live release of each service that has one.
    func live() async throws -> [RulesStore.Release]
}
