/// A provider's circuit breaker: after `threshold` consecutive failed attempts it opens and the queue stops sending
/// to that provider (its deliveries wait, spending no attempts); after `pause` it lets one probe through (half-open);
/// the probe's success closes it, its failure opens it for another pause.
///
/// A value-type state machine: the worker asks it before claiming and tells it each outcome, with the time.
struct CircuitBreaker: Sendable, Equatable {
    enum State: Sendable, Equatable {
        case closed(failures: Int)
        case open(until: ContinuousClock.Instant)
        /// Letting one probe through; `probing` while it is out.
        case halfOpen(probing: Bool)
    }

    /// How many sends may start now.
    enum Permit: Sendable, Equatable {
        case any
        /// One probe; the caller must report its outcome.
        case probe
        case none(until: ContinuousClock.Instant?)
    }

    let threshold: Int
    let pause: Duration
    private(set) var state: State = .closed(failures: 0)
    /// When the breaker last opened: attempts that started before it say nothing about the provider since.
    private(set) var lastOpened: ContinuousClock.Instant?

    init(threshold: Int, pause: Duration) {
        self.threshold = threshold
        self.pause = pause
    }

    var isOpen: Bool {
        if case .closed = state { return false }
        return true
    }

    /// Whether sends may start at `now`. Takes the probe when it hands one out.
    mutating func permit(now: ContinuousClock.Instant) -> Permit {
        switch state {
        case .closed: return .any
        case .open(let until):
            guard now >= until else { return .none(until: until) }
            state = .halfOpen(probing: true)
            return .probe
        case .halfOpen(let probing):
            if probing { return .none(until: nil) }
            state = .halfOpen(probing: true)
            return .probe
        }
    }

    /// Gives back a probe that found nothing to send.
    mutating func releaseProbe() {
        if case .halfOpen(probing: true) = state { state = .halfOpen(probing: false) }
    }

    /// Records an attempt's outcome: `worked` when the provider answered as a working service does.
    /// - Parameter started: when the attempt began; one that began before the breaker last opened is stale news.
    mutating func record(worked: Bool, started: ContinuousClock.Instant, now: ContinuousClock.Instant) {
        if let lastOpened, started < lastOpened { return }
        switch state {
        case .closed(let failures):
            if worked {
                state = .closed(failures: 0)
            } else if failures + 1 >= threshold {
                open(now: now)
            } else {
                state = .closed(failures: failures + 1)
            }
        case .halfOpen:
            if worked { state = .closed(failures: 0) } else { open(now: now) }
        case .open:
            break
        }
    }

    private mutating func open(now: ContinuousClock.Instant) {
        state = .open(until: now + pause)
        lastOpened = now
    }
}
