import FlintCore
import Metrics

/// The queue's figures, into the application's metrics factory (Prometheus, at `/metrics`).
struct PushMetrics: Sendable {
    let factory: any MetricsFactory

    /// A message was accepted with `deliveries` deliveries.
    func queued(deliveries: Int) {
        Counter(label: "flint_push_messages_total", factory: factory).increment()
        Counter(label: "flint_push_deliveries_queued_total", factory: factory).increment(by: deliveries)
    }

    /// An attempt ended: `delivered`, `retried`, `failed`, `deactivated` or `dead`.
    func attempt(_ platform: PushPlatform, outcome: String) {
        Counter(label: "flint_push_attempts_total", dimensions: [("provider", platform.rawValue), ("outcome", outcome)], factory: factory)
            .increment()
    }

    /// From the message's acceptance to the provider's acceptance of one of its deliveries.
    func delivered(_ platform: PushPlatform, acceptedAt: Timestamp) {
        let nanoseconds = max(0, Timestamp.now().microseconds - acceptedAt.microseconds) * 1000
        Metrics.Timer(label: "flint_push_delivery_latency_seconds", dimensions: [("provider", platform.rawValue)], factory: factory)
            .recordNanoseconds(nanoseconds)
    }

    func inFlight(_ platform: PushPlatform, _ count: Int) {
        Gauge(label: "flint_push_in_flight", dimensions: [("provider", platform.rawValue)], factory: factory).record(count)
    }

    func circuit(_ platform: PushPlatform, open: Bool) {
        Gauge(label: "flint_push_circuit_open", dimensions: [("provider", platform.rawValue)], factory: factory).record(open ? 1 : 0)
    }

    /// Deliveries queued, being sent, and dead, across the database.
    func depth(_ counts: [DeliveryState: Int]) {
        for (state, count) in counts {
            Gauge(label: "flint_push_deliveries", dimensions: [("state", state.rawValue)], factory: factory).record(count)
        }
    }
}
