import Crypto
import FlintCore
@testable import FlintServer
import FlintTestSupport
import Foundation
import Hummingbird
import Testing

/// The OAuth 2.0 authorization server for third-party apps, over real HTTP.
@Suite struct OAuthTests {
    static let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
    static let redirect = "http://127.0.0.1:9/callback"

    /// A server with an admin service account, a user, and a registered app.
    struct Setup: Sendable {
        var http: HTTPTestClient
        var admin: HTTPFields
        var appID: String
        var appSecret: String?
    }

    func withSetup(publicApp: Bool = true, _ body: @escaping @Sendable (Setup) async throws -> Void) async throws {
        try await TestServer.run(configure: {
            $0.adminClientID = "admin"
            $0.adminClientSecret = "a-long-admin-secret"
        }) { http in
            let token = try await http.send(
                .post, "/v1/auth/token", body: "grant_type=client_credentials&client_id=admin&client_secret=a-long-admin-secret",
                headers: Self.form)
            let admin: HTTPFields = [.authorization: "Bearer \(AuthTests.string(try token.json["access_token"]) ?? "")"]
            let app = try await http.send(
                .post, "/v1/admin/clients", body: #"{"name": "Notes", "redirect_uris": ["\#(Self.redirect)"], "public": \#(publicApp)}"#,
                headers: admin)
            #expect(app.status == .created)
            try await http.send(.post, "/v1/auth/signup", body: #"{"email": "gil@example.com", "password": "correct horse"}"#)
            try await body(Setup(
                http: http, admin: admin, appID: try #require(AuthTests.string(try app.json["client_id"])),
                appSecret: AuthTests.string(try app.json["client_secret"])))
        }
    }

    static func challenge(_ verifier: String) -> String {
        Base64.urlEncode(Array(SHA256.hash(data: Array(verifier.utf8))))
    }

    static func encode(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? value
    }

    /// Signs in through the authorization page and returns the redirect's query items.
    func authorize(_ setup: Setup, verifier: String, password: String = "correct horse", redirect: String = redirect) async throws -> (status: HTTPResponse.Status, query: [String: String], body: String) {
        let fields = [
            ("response_type", "code"), ("client_id", setup.appID), ("redirect_uri", redirect), ("scope", "openid email"),
            ("code_challenge", Self.challenge(verifier)), ("code_challenge_method", "S256"), ("state", "xyz"), ("nonce", "n-1"),
            ("email", "gil@example.com"), ("password", password),
        ]
        let reply = try await setup.http.send(
            .post, "/v1/auth/authorize", body: fields.map { "\($0.0)=\(Self.encode($0.1))" }.joined(separator: "&"), headers: Self.form)
        var query: [String: String] = [:]
        if let location = reply.headers[.location], let items = URLComponents(string: location)?.queryItems {
            for item in items { query[item.name] = item.value }
        }
        return (reply.status, query, reply.text)
    }

    func exchange(_ setup: Setup, code: String, verifier: String, redirect: String = redirect) async throws -> HTTPTestClient.Reply {
        try await setup.http.send(
            .post, "/v1/auth/token",
            body: "grant_type=authorization_code&code=\(code)&redirect_uri=\(Self.encode(redirect))&client_id=\(setup.appID)&code_verifier=\(verifier)",
            headers: Self.form)
    }

    @Test func metadataNamesTheEndpointsAtTheBoundAddress() async throws {
        try await TestServer.run { http in
            let port = try #require(http.port)
            for path in ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"] {
                let metadata = try await http.send(.get, path).json
                #expect(metadata["issuer"] == .string("http://127.0.0.1:\(port)"))
                #expect(metadata["token_endpoint"] == .string("http://127.0.0.1:\(port)/v1/auth/token"))
                #expect(metadata["code_challenge_methods_supported"] == .array([.string("S256")]))
            }
        }
    }

    @Test func theAuthorizationCodeFlowWithPKCEIssuesTokensAndAnIDToken() async throws {
        try await withSetup { setup in
            let page = try await setup.http.send(
                .get,
                "/v1/auth/authorize?response_type=code&client_id=\(setup.appID)&redirect_uri=\(Self.encode(Self.redirect))&code_challenge=\(Self.challenge("v" + String(repeating: "x", count: 50)))&code_challenge_method=S256&state=abc")
            #expect(page.status == .ok)
            #expect(page.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(page.text.contains("Notes"))

            let verifier = String(repeating: "v", count: 50)
            let authorized = try await authorize(setup, verifier: verifier)
            #expect(authorized.status == .found)
            #expect(authorized.query["state"] == "xyz")
            let code = try #require(authorized.query["code"])
            let tokens = try await exchange(setup, code: code, verifier: verifier)
            #expect(tokens.status == .ok, "\(tokens.text)")
            let idToken = try #require(AuthTests.string(try tokens.json["id_token"]))
            let idClaims = try AuthTests.claims(of: idToken)
            #expect(idClaims["aud"] == .string(setup.appID))
            #expect(idClaims["nonce"] == .string("n-1"))
            #expect(idClaims["email"] == .string("gil@example.com"))
            let access = try #require(AuthTests.string(try tokens.json["access_token"]))
            #expect(try await setup.http.send(.get, "/v1/auth/userinfo", headers: [.authorization: "Bearer \(access)"]).status == .ok)
        }
    }

    @Test func pkceAndCodeMisuseAreRefused() async throws {
        try await withSetup { setup in
            let verifier = String(repeating: "w", count: 50)
            // A wrong verifier.
            let first = try #require(try await authorize(setup, verifier: verifier).query["code"])
            let wrong = try await exchange(setup, code: first, verifier: String(repeating: "z", count: 50))
            #expect(try wrong.json["error"] == .string("invalid_grant"))

            // A redirect URI that differs from the authorization request's.
            let second = try #require(try await authorize(setup, verifier: verifier).query["code"])
            let mismatch = try await exchange(setup, code: second, verifier: verifier, redirect: "http://127.0.0.1:9/other")
            #expect(try mismatch.json["error"] == .string("invalid_grant"))

            // A code used twice: the second use fails and revokes what the first one issued.
            let third = try #require(try await authorize(setup, verifier: verifier).query["code"])
            let tokens = try await exchange(setup, code: third, verifier: verifier)
            #expect(tokens.status == .ok)
            let reuse = try await exchange(setup, code: third, verifier: verifier)
            #expect(try reuse.json["error"] == .string("invalid_grant"))
            let refresh = try await setup.http.send(
                .post, "/v1/auth/token", body: "grant_type=refresh_token&refresh_token=\(AuthTests.string(try tokens.json["refresh_token"]) ?? "")",
                headers: Self.form)
            #expect(try refresh.json["error"] == .string("invalid_grant"))

            // No verifier at all.
            let fourth = try #require(try await authorize(setup, verifier: verifier).query["code"])
            let missing = try await setup.http.send(
                .post, "/v1/auth/token", body: "grant_type=authorization_code&code=\(fourth)&redirect_uri=\(Self.encode(Self.redirect))&client_id=\(setup.appID)",
                headers: Self.form)
            #expect(try missing.json["error"] == .string("invalid_request"))
        }
    }

    @Test func badAuthorizationRequestsAreShownOrSentBack() async throws {
        try await withSetup { setup in
            // An unregistered redirect URI is never redirected to.
            let unregistered = try await authorize(setup, verifier: String(repeating: "v", count: 50), redirect: "http://127.0.0.1:9/evil")
            #expect(unregistered.status == .badRequest)
            #expect(unregistered.query.isEmpty)
            // Without PKCE, the app hears why, with its state.
            let noPKCE = try await setup.http.send(
                .get, "/v1/auth/authorize?response_type=code&client_id=\(setup.appID)&redirect_uri=\(Self.encode(Self.redirect))&state=s1")
            #expect(noPKCE.status == .found)
            let location = try #require(noPKCE.headers[.location])
            #expect(location.hasPrefix(Self.redirect))
            #expect(location.contains("error=invalid_request"))
            #expect(location.contains("state=s1"))
            // A wrong password shows the form again with the reason, and no code.
            let wrong = try await authorize(setup, verifier: String(repeating: "v", count: 50), password: "wrong horse")
            #expect(wrong.status == .ok)
            #expect(wrong.query.isEmpty)
            #expect(wrong.body.contains("wrong"))
        }
    }

    @Test func revocationAndIntrospection() async throws {
        try await withSetup { setup in
            let session = try await setup.http.send(.post, "/v1/auth/signin", body: #"{"email": "gil@example.com", "password": "correct horse"}"#).json
            let access = try #require(AuthTests.string(session["access_token"]))
            let refresh = try #require(AuthTests.string(session["refresh_token"]))
            let basic: HTTPFields = [
                .contentType: "application/x-www-form-urlencoded",
                .authorization: "Basic " + Base64.encode(Array("admin:a-long-admin-secret".utf8)),
            ]
            let unauthenticated = try await setup.http.send(.post, "/v1/auth/introspect", body: "token=\(access)", headers: Self.form)
            #expect(unauthenticated.status == .unauthorized)
            let active = try await setup.http.send(.post, "/v1/auth/introspect", body: "token=\(access)", headers: basic).json
            #expect(active["active"] == .bool(true))
            #expect(active["sub"] == session["user"]?["uid"])
            #expect(try await setup.http.send(.post, "/v1/auth/introspect", body: "token=\(refresh)", headers: basic).json["active"] == .bool(true))

            #expect(try await setup.http.send(.post, "/v1/auth/revoke", body: "token=\(refresh)", headers: Self.form).status == .ok)
            #expect(try await setup.http.send(.post, "/v1/auth/revoke", body: "token=unknown", headers: Self.form).status == .ok)
            #expect(try await setup.http.send(.post, "/v1/auth/introspect", body: "token=\(refresh)", headers: basic).json["active"] == .bool(false))
            #expect(try await setup.http.send(.post, "/v1/auth/introspect", body: "token=garbage", headers: basic).json["active"] == .bool(false))
        }
    }

    @Test func authlibRunsTheClientCredentialsAndPKCEFlows() async throws {
        try await withSetup { setup in
            let port = try #require(setup.http.port)
            let script = """
                import sys, requests
                from urllib.parse import urlparse, parse_qs
                from authlib.integrations.requests_client import OAuth2Session
                from authlib.common.security import generate_token
                base, app = sys.argv[1], sys.argv[2]
                meta = requests.get(base + "/.well-known/openid-configuration").json()
                service = OAuth2Session("admin", "a-long-admin-secret")
                token = service.fetch_token(meta["token_endpoint"], grant_type="client_credentials")
                print("scope", token["scope"])
                session = OAuth2Session(app, redirect_uri="\(Self.redirect)", scope="openid email", code_challenge_method="S256")
                verifier = generate_token(48)
                url, state = session.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier, nonce="n-2")
                form = {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}
                form.update(email="gil@example.com", password="correct horse")
                answer = requests.post(meta["authorization_endpoint"], data=form, allow_redirects=False)
                token = session.fetch_token(meta["token_endpoint"], authorization_response=answer.headers["Location"], code_verifier=verifier)
                print("id_token", "id_token" in token)
                print("userinfo", session.get(meta["userinfo_endpoint"]).json()["email"])
                """
            let output = try await runPython(script, arguments: ["http://127.0.0.1:\(port)", setup.appID])
            #expect(output.contains("scope admin"), "\(output)")
            #expect(output.contains("id_token True"), "\(output)")
            #expect(output.contains("userinfo gil@example.com"), "\(output)")
        }
    }
}
