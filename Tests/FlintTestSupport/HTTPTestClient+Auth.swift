public import FlintCore
public import HTTPTypes

/// Signing in, for tests that act as users and admins.
extension HTTPTestClient {
    /// A user's id and access token.
    public struct Session: Sendable {
        public var uid: String
        public var token: String
        /// `Authorization: Bearer <token>`.
        public var headers: HTTPFields { [.authorization: "Bearer \(token)"] }
    }

    /// Signs up a new user with email and password.
    public func signUp(_ email: String, password: String = "correct horse battery") async throws -> Session {
        let reply = try await send(.post, "/v1/auth/signup", body: JSON.object(["email": .string(email), "password": .string(password)]).text)
        guard reply.status == .created, case .string(let uid)? = try reply.json["user"]?["uid"], case .string(let token)? = try reply.json["access_token"]
        else { throw TestSupportError("sign-up of \(email) failed: \(reply.status) \(reply.text)") }
        return Session(uid: uid, token: token)
    }

    /// A token for a service account (client credentials), such as the admin configured with
    /// `adminClientID` / `adminClientSecret`.
    public func serviceToken(clientID: String, secret: String) async throws -> Session {
        let reply = try await send(
            .post, "/v1/auth/token", body: "grant_type=client_credentials&client_id=\(clientID)&client_secret=\(secret)",
            headers: [.contentType: "application/x-www-form-urlencoded"])
        guard reply.status == .ok, case .string(let token)? = try reply.json["access_token"] else {
            throw TestSupportError("client credentials for \(clientID) failed: \(reply.status) \(reply.text)")
        }
        return Session(uid: clientID, token: token)
    }
}

/// A test-support step that could not be done.
public struct TestSupportError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
