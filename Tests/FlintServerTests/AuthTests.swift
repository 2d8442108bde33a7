import FlintCore
@testable import FlintServer
import FlintTestSupport
import Foundation
import GRDB
import Hummingbird
import Testing

/// Accounts, sessions and tokens over real HTTP.
@Suite struct AuthTests {
    static func string(_ json: JSON?) -> String? {
        if case .string(let s)? = json { s } else { nil }
    }

    /// The claims of a JWT, read without verifying it.
    static func claims(of token: String) throws -> JSON {
        let payload = token.split(separator: ".")[1]
        return try JSON(parsing: try #require(Base64.decode(TokenService.standardBase64(payload))))
    }

    func bearer(_ token: String?) -> HTTPFields { [.authorization: "Bearer \(token ?? "")"] }

    @Test func signUpSignInAndUserInfo() async throws {
        try await TestServer.run { http in
            let signUp = try await http.send(.post, "/v1/auth/signup", body: #"{"email": "  Alice@Example.COM ", "password": "correct horse"}"#)
            #expect(signUp.status == .created)
            let session = try signUp.json
            #expect(session["token_type"] == .string("Bearer"))
            #expect(session["expires_in"] == .integer(3600))
            #expect(session["user"]?["email"] == .string("alice@example.com"))
            let access = try #require(Self.string(session["access_token"]))
            let claims = try Self.claims(of: access)
            #expect(claims["sub"] == session["user"]?["uid"])
            #expect(claims["provider"] == .string("password"))
            #expect(claims["aud"] == .string("flint"))
            if case .integer(let iat)? = claims["iat"], case .integer(let exp)? = claims["exp"] { #expect(exp - iat == 3600) }
            else { Issue.record("no iat/exp") }

            let me = try await http.send(.get, "/v1/auth/userinfo", headers: bearer(access))
            #expect(me.status == .ok)
            #expect(try me.json["email"] == .string("alice@example.com"))

            let again = try await http.send(.post, "/v1/auth/signup", body: #"{"email": "alice@example.com", "password": "another one"}"#)
            #expect(again.status == .conflict)
            #expect(again.errorCode == "already-exists")

            let signIn = try await http.send(.post, "/v1/auth/signin", body: #"{"email": "ALICE@example.com", "password": "correct horse"}"#)
            #expect(signIn.status == .ok)
            #expect(try signIn.json["user"]?["uid"] == session["user"]?["uid"])
        }
    }

    @Test func aWrongPasswordAndAnUnknownUserFailAlike() async throws {
        try await TestServer.run { http in
            try await http.send(.post, "/v1/auth/signup", body: #"{"email": "bob@example.com", "password": "correct horse"}"#)
            let wrong = try await http.send(.post, "/v1/auth/signin", body: #"{"email": "bob@example.com", "password": "wrong horse"}"#)
            let unknown = try await http.send(.post, "/v1/auth/signin", body: #"{"email": "nobody@example.com", "password": "wrong horse"}"#)
            #expect(wrong.status == .unauthorized)
            #expect(unknown.status == .unauthorized)
            #expect(wrong.text == unknown.text)
        }
    }

    @Test(arguments: [
        (#"{"email": "not-an-email", "password": "long enough"}"#, "email address"),
        (#"{"email": "a@b.co", "password": "short"}"#, "at least 8"),
        (#"{"email": "a@b.co"}"#, "password is missing"),
        (#"{"email": "a@b.co", "password": "long enough", "admin": true}"#, "unknown field"),
    ])
    func badSignUpsAreRefusedWithAReason(body: String, mentions: String) async throws {
        try await TestServer.run { http in
            let reply = try await http.send(.post, "/v1/auth/signup", body: body)
            #expect(reply.status == .badRequest)
            #expect(reply.errorMessage?.contains(mentions) == true, "\(reply.text)")
        }
    }

    @Test func anAnonymousUserWhoSignsUpKeepsTheirUID() async throws {
        try await TestServer.run { http in
            let anonymous = try await http.send(.post, "/v1/auth/anonymous").json
            #expect(anonymous["user"]?["anonymous"] == .bool(true))
            let uid = anonymous["user"]?["uid"]
            let linked = try await http.send(
                .post, "/v1/auth/signup", body: #"{"email": "carol@example.com", "password": "correct horse"}"#,
                headers: bearer(Self.string(anonymous["access_token"])))
            #expect(linked.status == .ok)
            #expect(try linked.json["user"]?["uid"] == uid)
            #expect(try linked.json["user"]?["provider"] == .string("password"))
        }
    }

    @Test func refreshTokensRotateAndAReusedOneRevokesItsFamily() async throws {
        try await TestServer.run { http in
            let session = try await http.send(.post, "/v1/auth/signup", body: #"{"email": "dan@example.com", "password": "correct horse"}"#).json
            let first = try #require(Self.string(session["refresh_token"]))
            let rotated = try await http.send(
                .post, "/v1/auth/token", body: "grant_type=refresh_token&refresh_token=\(first)",
                headers: [.contentType: "application/x-www-form-urlencoded"])
            #expect(rotated.status == .ok)
            let second = try #require(Self.string(try rotated.json["refresh_token"]))
            #expect(second != first)
            #expect(try Self.claims(of: try #require(Self.string(try rotated.json["access_token"])))["sub"] == session["user"]?["uid"])

            // The first token again: reuse. It fails, and so does the token that replaced it.
            let reused = try await http.send(
                .post, "/v1/auth/token", body: "grant_type=refresh_token&refresh_token=\(first)",
                headers: [.contentType: "application/x-www-form-urlencoded"])
            #expect(reused.status == .badRequest)
            #expect(try reused.json["error"] == .string("invalid_grant"))
            let revoked = try await http.send(
                .post, "/v1/auth/token", body: "grant_type=refresh_token&refresh_token=\(second)",
                headers: [.contentType: "application/x-www-form-urlencoded"])
            #expect(try revoked.json["error"] == .string("invalid_grant"))
        }
    }

    @Test func signingOutRevokesTheSessionsRefreshTokens() async throws {
        try await TestServer.run { http in
            let session = try await http.send(.post, "/v1/auth/anonymous").json
            let out = try await http.send(.post, "/v1/auth/signout", headers: bearer(Self.string(session["access_token"])))
            #expect(out.status == .noContent)
            let refresh = try await http.send(
                .post, "/v1/auth/token", body: "grant_type=refresh_token&refresh_token=\(Self.string(session["refresh_token"]) ?? "")",
                headers: [.contentType: "application/x-www-form-urlencoded"])
            #expect(try refresh.json["error"] == .string("invalid_grant"))
        }
    }

    @Test(arguments: [
        ("not.a.jwt", "not a JWT"),
        ("garbage", "not a JWT"),
        // {"alg":"none","typ":"JWT"}.{"sub":"x"}.
        ("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4In0.", "ES256"),
        // {"alg":"HS256","kid":"x"}.{"sub":"x"}.sig
        ("eyJhbGciOiJIUzI1NiIsImtpZCI6IngifQ.eyJzdWIiOiJ4In0.c2ln", "ES256"),
        // {"alg":"ES256","kid":"unknown"}.{"sub":"x"}.sig
        ("eyJhbGciOiJFUzI1NiIsImtpZCI6InVua25vd24ifQ.eyJzdWIiOiJ4In0.c2ln", "kid"),
    ])
    func aBadBearerTokenIsRefused(token: String, mentions: String) async throws {
        try await TestServer.run { http in
            let reply = try await http.send(.get, "/v1/auth/userinfo", headers: bearer(token))
            #expect(reply.status == .unauthorized)
            #expect(reply.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
            #expect(reply.errorMessage?.contains(mentions) == true, "\(reply.text)")
        }
    }

    @Test func aTamperedTokenIsRefused() async throws {
        try await TestServer.run { http in
            let session = try await http.send(.post, "/v1/auth/anonymous").json
            let token = try #require(Self.string(session["access_token"]))
            var parts = token.split(separator: ".").map(String.init)
            // Same header and signature, another subject.
            parts[1] = Base64.encode(Array(#"{"sub":"someone-else","iss":"x","aud":"flint","iat":1,"exp":99999999999,"provider":"password"}"#.utf8))
                .replacingOccurrences(of: "=", with: "").replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            let reply = try await http.send(.get, "/v1/auth/userinfo", headers: bearer(parts.joined(separator: ".")))
            #expect(reply.status == .unauthorized)
        }
    }

    @Test func signInAttemptsAreRateLimited() async throws {
        try await TestServer.run(configure: { $0.signInLimitPerMinute = 3 }) { http in
            var statuses: [UInt16] = []
            for _ in 0..<4 {
                let reply = try await http.send(.post, "/v1/auth/signin", body: #"{"email": "eve@example.com", "password": "guess guess"}"#)
                statuses.append(UInt16(reply.status.code))
                if reply.status == .tooManyRequests {
                    #expect(Int(reply.headers[.retryAfter] ?? "") ?? 0 >= 1)
                    #expect(reply.errorCode == "resource-exhausted")
                }
            }
            #expect(statuses == [401, 401, 401, 429])
        }
    }

    @Test func adminServiceAccountsManageUsersAndClaims() async throws {
        try await TestServer.run(configure: {
            $0.adminClientID = "admin"
            $0.adminClientSecret = "a-long-admin-secret"
        }) { http in
            let user = try await http.send(.post, "/v1/auth/signup", body: #"{"email": "fay@example.com", "password": "correct horse"}"#).json
            let uid = try #require(Self.string(user["user"]?["uid"]))

            let wrong = try await http.send(
                .post, "/v1/auth/token", body: "grant_type=client_credentials&client_id=admin&client_secret=nope",
                headers: [.contentType: "application/x-www-form-urlencoded"])
            #expect(wrong.status == .unauthorized)
            #expect(try wrong.json["error"] == .string("invalid_client"))

            let basic = "Basic " + Base64.encode(Array("admin:a-long-admin-secret".utf8))
            let token = try await http.send(
                .post, "/v1/auth/token", body: "grant_type=client_credentials",
                headers: [.contentType: "application/x-www-form-urlencoded", .authorization: basic])
            #expect(token.status == .ok)
            #expect(try token.json["scope"] == .string("admin"))
            let admin = bearer(Self.string(try token.json["access_token"]))

            // A user's token is not an admin's.
            let forbidden = try await http.send(.get, "/v1/admin/users/\(uid)", headers: bearer(Self.string(user["access_token"])))
            #expect(forbidden.status == .forbidden)

            let claims = try await http.send(.put, "/v1/admin/users/\(uid)/claims", body: #"{"role": "editor", "level": 3}"#, headers: admin)
            #expect(claims.status == .ok)
            let reserved = try await http.send(.put, "/v1/admin/users/\(uid)/claims", body: #"{"sub": "x"}"#, headers: admin)
            #expect(reserved.status == .badRequest)
            // The claims are in the next token.
            let signIn = try await http.send(.post, "/v1/auth/signin", body: #"{"email": "fay@example.com", "password": "correct horse"}"#).json
            let signedClaims = try Self.claims(of: try #require(Self.string(signIn["access_token"])))
            #expect(signedClaims["role"] == .string("editor"))
            #expect(signedClaims["level"] == .integer(3))

            // A disabled user can neither sign in nor refresh.
            let disabled = try await http.send(.patch, "/v1/admin/users/\(uid)", body: #"{"disabled": true}"#, headers: admin)
            #expect(try disabled.json["disabled"] == .bool(true))
            let refused = try await http.send(.post, "/v1/auth/signin", body: #"{"email": "fay@example.com", "password": "correct horse"}"#)
            #expect(refused.status == .forbidden)
            let refresh = try await http.send(
                .post, "/v1/auth/token", body: "grant_type=refresh_token&refresh_token=\(Self.string(signIn["refresh_token"]) ?? "")",
                headers: [.contentType: "application/x-www-form-urlencoded"])
            #expect(try refresh.json["error"] == .string("invalid_grant"))
        }
    }

    @Test func changingThePasswordSignsOutOtherSessions() async throws {
        try await TestServer.run { http in
            let first = try await http.send(.post, "/v1/auth/signup", body: #"{"email": "hal@example.com", "password": "correct horse"}"#).json
            let second = try await http.send(.post, "/v1/auth/signin", body: #"{"email": "hal@example.com", "password": "correct horse"}"#).json
            let wrong = try await http.send(
                .post, "/v1/auth/password", body: #"{"currentPassword": "nope nope", "newPassword": "battery staple"}"#,
                headers: bearer(Self.string(second["access_token"])))
            #expect(wrong.status == .unauthorized)
            let changed = try await http.send(
                .post, "/v1/auth/password", body: #"{"currentPassword": "correct horse", "newPassword": "battery staple"}"#,
                headers: bearer(Self.string(second["access_token"])))
            #expect(changed.status == .noContent)
            func refresh(_ session: JSON) async throws -> HTTPTestClient.Reply {
                try await http.send(
                    .post, "/v1/auth/token", body: "grant_type=refresh_token&refresh_token=\(Self.string(session["refresh_token"]) ?? "")",
                    headers: [.contentType: "application/x-www-form-urlencoded"])
            }
            #expect(try await refresh(first).json["error"] == .string("invalid_grant"))
            #expect(try await refresh(second).status == .ok)
            #expect(try await http.send(.post, "/v1/auth/signin", body: #"{"email": "hal@example.com", "password": "correct horse"}"#).status == .unauthorized)
            #expect(try await http.send(.post, "/v1/auth/signin", body: #"{"email": "hal@example.com", "password": "battery staple"}"#).status == .ok)
        }
    }

    @Test func adminsListCreateAndDeleteUsersAndRotateKeys() async throws {
        try await TestServer.run(configure: {
            $0.adminClientID = "admin"
            $0.adminClientSecret = "a-long-admin-secret"
        }) { http in
            let token = try await http.send(
                .post, "/v1/auth/token", body: "grant_type=client_credentials&client_id=admin&client_secret=a-long-admin-secret",
                headers: [.contentType: "application/x-www-form-urlencoded"])
            let admin = bearer(Self.string(try token.json["access_token"]))
            var created: [String] = []
            for i in 0..<5 {
                let reply = try await http.send(.post, "/v1/admin/users", body: #"{"email": "u\#(i)@example.com", "password": "correct horse"}"#, headers: admin)
                #expect(reply.status == .created)
                created.append(Self.string(try reply.json["uid"]) ?? "")
            }
            var uids: [String] = []
            var pageToken: String? = nil
            repeat {
                let page = try await http.send(.get, "/v1/admin/users?pageSize=2" + (pageToken.map { "&pageToken=\($0)" } ?? ""), headers: admin).json
                for i in 0..<(page["users"]?.arrayCount ?? 0) { uids.append(Self.string(page["users"]?[i]?["uid"]) ?? "") }
                pageToken = Self.string(page["nextPageToken"])
            } while pageToken != nil
            #expect(uids.count == 5)
            #expect(uids == uids.sorted())
            #expect(Set(uids) == Set(created))
            // Delete u0; u1 signs in below.
            #expect(try await http.send(.delete, "/v1/admin/users/\(created[0])", headers: admin).status == .noContent)
            #expect(try await http.send(.get, "/v1/admin/users/\(created[0])", headers: admin).status == .notFound)

            // Rotation: the admin's old token still works, and new tokens carry the new kid.
            let rotated = try await http.send(.post, "/v1/admin/keys/rotate", headers: admin)
            let kid = try #require(Self.string(try rotated.json["kid"]))
            #expect(try await http.send(.get, "/v1/admin/users/\(created[1])", headers: admin).status == .ok)
            let fresh = try await http.send(.post, "/v1/auth/signin", body: #"{"email": "u1@example.com", "password": "correct horse"}"#).json
            #expect(try Self.claims(ofHeader: try #require(Self.string(fresh["access_token"])))["kid"] == .string(kid))
            #expect(try await http.send(.get, "/.well-known/jwks.json").json["keys"]?.arrayCount == 2)
        }
    }

    @Test func aHashMadeWithAnOlderCostIsUpgradedAtSignIn() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        func storedHash() async throws -> String? {
            let pool = try DatabasePool(path: directory.path + "/flint.sqlite")
            return try await pool.read { db in try String.fetchOne(db, sql: "SELECT password_hash FROM users") }
        }
        let old = try await ServerProcess(dataDirectory: directory.path, arguments: ["--password-cost", "8"])
        #expect(try await old.http.send(.post, "/v1/auth/signup", body: #"{"email": "joy@example.com", "password": "correct horse"}"#).status == .created)
        try await old.stop(signal: SIGTERM)
        #expect(try await storedHash()?.hasPrefix("$scrypt$ln=8,") == true)

        let new = try await ServerProcess(dataDirectory: directory.path, arguments: ["--password-cost", "10"])
        #expect(try await new.http.send(.post, "/v1/auth/signin", body: #"{"email": "joy@example.com", "password": "correct horse"}"#).status == .ok)
        try await new.stop(signal: SIGTERM)
        #expect(try await storedHash()?.hasPrefix("$scrypt$ln=10,") == true)
    }

    @Test func pyJWTVerifiesAnAccessTokenWithTheJWKS() async throws {
        try await TestServer.run { http in
            let session = try await http.send(.post, "/v1/auth/anonymous").json
            let token = try #require(Self.string(session["access_token"]))
            let jwks = try await http.send(.get, "/.well-known/jwks.json").text
            let script = """
                import json, sys, jwt
                jwks = json.loads(sys.argv[1])
                header = jwt.get_unverified_header(sys.argv[2])
                key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
                claims = jwt.decode(sys.argv[2], jwt.PyJWK(key).key, algorithms=["ES256"], audience="flint")
                print(claims["sub"])
                """
            let output = try await runPython(script, arguments: [jwks, token])
            #expect(output.trimmingCharacters(in: .whitespacesAndNewlines) == Self.string(session["user"]?["uid"]))
        }
    }
}

/// Runs a Python script (the reference client side of interoperability tests) and returns its standard output.
/// The script talks to in-process servers, so it waits on a thread of its own.
func runPython(_ script: String, arguments: [String]) async throws -> String {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let (output, errors) = (directory.path + "/stdout", directory.path + "/stderr")
    let status = try await onOwnThread {
        try spawnAndWait(
            "/usr/bin/env", ["python3", "-c", script] + arguments, environment: ProcessInfo.processInfo.environment,
            directory: directory.path, stdin: "/dev/null", stdout: output, stderr: errors)
    }
    guard status == 0 else {
        throw ServerProcessError("python3 failed (\(status)): \((try? String(contentsOfFile: errors, encoding: .utf8)) ?? "")")
    }
    return try String(contentsOfFile: output, encoding: .utf8)
}
