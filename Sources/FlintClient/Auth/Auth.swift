import FlintCore
import NIOHTTP1
import Foundation

/// A signed-in user, as the server describes it.
public struct User: Sendable, Hashable {
    public var uid: String
    public var email: String?
    /// `password`, `anonymous`, or `oidc:<provider>`.
    public var provider: String
    public var isAnonymous: Bool

    init(json: JSON) throws(FlintError) {
        let object = try JSONObject(json, context: "user")
        uid = try object.string("uid")
        email = try? object.optionalString("email")
        provider = (try? object.optionalString("provider")) ?? "password"
        isAnonymous = (try? object.optionalBool("anonymous")) ?? false
    }

    init(uid: String, email: String?, provider: String, isAnonymous: Bool) {
        self.uid = uid
        self.email = email
        self.provider = provider
        self.isAnonymous = isAnonymous
    }
}

/// Signing in and out, the current user, and fresh access tokens for every request and for the realtime socket.
///
/// The session (the refresh token and the latest access token) is kept in `session.json` in the cache directory,
/// readable by its owner only (0600), so the user stays signed in across restarts. Access tokens are refreshed
/// `refreshMargin` before they expire, and whenever a request finds one about to expire.
public actor Auth {
    let rest: RESTClient
    let store: SessionFile
    let refreshMargin: Duration
    private(set) var session: Session?
    private var refreshing: Task<Session?, any Error>?
    private var watchers: [UUID: AsyncStream<User?>.Continuation] = [:]
    private var observer: (@Sendable (AuthChange) async -> Void)?
    private let changed = Wakeup()
    /// How many times the tokens were refreshed, for tests.
    private(set) var refreshCount = 0

    init(rest: RESTClient, store: SessionFile, refreshMargin: Duration) {
        self.rest = rest
        self.store = store
        self.refreshMargin = refreshMargin
        self.session = store.load()
    }

    /// The signed-in user, nil when signed out.
    public var currentUser: User? { session?.user }

    /// The current user now and after every sign-in, sign-up and sign-out, until the app closes.
    public func authStateChanges() -> AsyncStream<User?> {
        let (stream, continuation) = AsyncStream.makeStream(of: User?.self)
        let id = UUID()
        watchers[id] = continuation
        continuation.yield(session?.user)
        continuation.onTermination = { _ in Task { await self.removeWatcher(id) } }
        return stream
    }

    private func removeWatcher(_ id: UUID) { watchers[id] = nil }

    /// Creates an account with email and password and signs in as it. An anonymous user who signs up keeps their uid.
    @discardableResult
    public func signUp(email: String, password: String) async throws -> User {
        let token = session?.user.isAnonymous == true ? try await accessToken() : nil
        let answer = try await rest.json(.POST, "/v1/auth/signup", body: .object(["email": .string(email), "password": .string(password)]), token: token)
        return try await adopt(answer)
    }

    /// Signs in with email and password.
    @discardableResult
    public func signIn(email: String, password: String) async throws -> User {
        let answer = try await rest.json(.POST, "/v1/auth/signin", body: .object(["email": .string(email), "password": .string(password)]))
        return try await adopt(answer)
    }

    /// Signs in as a new anonymous user.
    @discardableResult
    public func signInAnonymously() async throws -> User {
        try await adopt(try await rest.json(.POST, "/v1/auth/anonymous"))
    }

    /// Signs out: the server ends the sign-in's refresh tokens (when it can be reached) and the stored session is removed.
    public func signOut() async throws {
        if let token = session?.accessToken {
            _ = try? await rest.send(.POST, "/v1/auth/signout", token: token)
        }
        refreshing?.cancel()
        refreshing = nil
        try await replace(with: nil)
    }

    /// An access token valid for at least `refreshMargin` more (refreshing it first if needed), nil when signed out.
    func accessToken() async throws -> String? {
        guard let session else { return nil }
        if session.expiresAt.timeIntervalSinceNow > refreshMargin.seconds { return session.accessToken }
        return try await refresh()?.accessToken
    }

    /// Trades the refresh token for new tokens. Concurrent callers share one request: a refresh token is single-use,
    /// and presenting it twice would revoke the whole sign-in.
    @discardableResult
    func refresh() async throws -> Session? {
        if let refreshing { return try await refreshing.value }
        guard let current = session else { return nil }
        let task = Task { () async throws -> Session? in
            let reply = try await rest.send(
                .POST, "/v1/auth/token", body: RESTClient.form([("grant_type", "refresh_token"), ("refresh_token", current.refreshToken)]),
                contentType: "application/x-www-form-urlencoded")
            if reply.status.code == 400 || reply.status.code == 401 {
                // The sign-in was revoked (signed out elsewhere, a reused token, a disabled account): signed out here too.
                return nil
            }
            try RESTClient.check(reply)
            return try Session(answer: try reply.json, previous: current)
        }
        refreshing = task
        defer { refreshing = nil }
        let next = try await task.value
        guard session?.refreshToken == current.refreshToken else { return session }
        refreshCount += 1
        if let next {
            try await replace(with: next)
        } else {
            try await replace(with: nil)
            throw FlintError(.unauthenticated, "the session has ended (signed out elsewhere, or the account was disabled); sign in again")
        }
        return next
    }

    private func adopt(_ answer: JSON) async throws -> User {
        let next = try Session(answer: answer, previous: nil)
        try await replace(with: next)
        return next.user
    }

    private func replace(with next: Session?) async throws {
        let previous = session
        session = next
        if let next { try store.save(next) } else { store.remove() }
        changed.signal()
        if previous?.user != next?.user {
            for watcher in watchers.values { watcher.yield(next?.user) }
            await observer?(.user(next?.user.uid))
        } else if let next, previous?.accessToken != next.accessToken {
            await observer?(.token(next.accessToken))
        }
    }

    // MARK: Wiring

    /// Tells `observer` of every change of user and every refreshed token (the sync engine re-authenticates its socket).
    func observe(_ observer: @escaping @Sendable (AuthChange) async -> Void) {
        self.observer = observer
    }

    /// Refreshes the tokens `refreshMargin` before they expire, until cancelled (when the app closes).
    func runRefresher() async {
        var failures = 0
        while !Task.isCancelled {
            var wait: Duration? = nil
            if let session {
                let seconds = session.expiresAt.timeIntervalSinceNow - refreshMargin.seconds
                // At least a second apart, even when the margin is as long as a token's life; longer after failures.
                wait = .seconds(max(seconds, 1) * pow(2, Double(min(failures, 6))))
            }
            let signalled = await changed.wait(timeout: wait)
            if Task.isCancelled { break }
            if signalled { continue }
            do {
                try await refresh()
                failures = 0
            } catch {
                failures += 1
            }
        }
        finishWatchers()
    }

    func finishWatchers() {
        for watcher in watchers.values { watcher.finish() }
        watchers = [:]
    }
}

/// What the sync engine hears from `Auth`.
enum AuthChange: Sendable {
    /// Another user (nil: signed out): the socket reconnects as them and the views show their pending writes.
    case user(String?)
    /// The same user's refreshed access token: sent on the socket.
    case token(String)
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
