import Hummingbird
import Metrics

/// Counts requests and records their latency by route pattern, method and status, into the application's own
/// metrics factory (so several servers in one process, as in the tests, keep separate figures).
struct MetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let factory: any MetricsFactory

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let dimensions = [
            ("route", context.endpointPath ?? "unmatched"),
            ("method", request.method.rawValue),
            ("status", String(response.status.code)),
        ]
        Counter(label: "flint_http_requests_total", dimensions: dimensions, factory: factory).increment()
        Metrics.Timer(label: "flint_http_request_duration_seconds", dimensions: dimensions, factory: factory)
            .recordElapsed(since: start)
        return response
    }
}

extension Metrics.Timer {
    func recordElapsed(since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        let (seconds, attoseconds) = elapsed.components
        recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
