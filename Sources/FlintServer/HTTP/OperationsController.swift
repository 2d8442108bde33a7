import FlintCore
import Hummingbird
import NIOCore
import Prometheus

/// The routes for operators and tools: `/health`, `/ready`, `/metrics`, `/openapi.json`.
struct OperationsController<Context: RequestContext>: Sendable {
    let store: any DocumentStore
    let registry: PrometheusCollectorRegistry

    func addRoutes(to router: Router<Context>) {
        // The process is up and serving HTTP; the version is the one `flint --version` prints.
        router.get("/health") { _, _ in JSON.object(["status": .string("ok"), "version": .string(FlintVersion.current)]) }
        // The process can serve requests: its database answers.
        router.get("/ready") { _, _ in
            guard await store.isReady() else {
                return Response.error(FlintError(.unavailable, "the database is not answering"))
            }
            return Response.json(.object(["status": .string("ready")]))
        }
        router.get("/metrics") { _, _ in
            var bytes: [UInt8] = []
            registry.emit(into: &bytes)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        router.get("/openapi.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.json)))
        }
    }
}
