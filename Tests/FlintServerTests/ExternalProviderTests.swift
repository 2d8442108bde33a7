import FlintCore
@testable import FlintServer
import FlintTestSupport
import Foundation
import Hummingbird
import Testing

/// Sign-in through an external provider. The provider is a second Flint server on loopback: a real OpenID Connect
/// provider (discovery, authorization code + PKCE, ES256 id_token, JWKS, userinfo).
@Suite struct ExternalProviderTests {
    static let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
    static let appRedirect = "http://127.0.0.1:9/app"

    static func query(_ location: String?) -> [String: String] {
        var items: [String: String] = [:]
        for item in URLComponents(string: location ?? "")?.queryItems ?? [] { items[item.name] = item.value }
        return items
    }

    static func pathAndQuery(_ location: String) -> String {
        let url = URLComponents(string: location)!
        return url.percentEncodedPath + (url.percentEncodedQuery.map { "?" + $0 } ?? "")
    }

    static func adminToken(_ http: HTTPTestClient) async throws -> HTTPFields {
        let token = try await http.send(
            .post, "/v1/auth/token", body: "grant_type=client_credentials&client_id=admin&client_secret=a-long-admin-secret", headers: form)
        return [.authorization: "Bearer \(AuthTests.string(try token.json["access_token"]) ?? "")"]
    }

    @Test(arguments: ["upstream", "upstream-plain"])
    func aUserSignsInWithAnotherFlintAsTheirProvider(providerID: String) async throws {
        let admin: @Sendable (inout Configuration) -> Void = {
            $0.adminClientID = "admin"
            $0.adminClientSecret = "a-long-admin-secret"
        }
        // The upstream provider, with a user and a client registered for us.
        try await TestServer.run(configure: admin) { upstream in
            let upstreamURL = "http://127.0.0.1:\(try #require(upstream.port))"
            let upstreamAdmin = try await Self.adminToken(upstream)
            try await upstream.send(.post, "/v1/auth/signup", body: #"{"email": "ivy@example.com", "password": "correct horse"}"#)
            let registered = try await upstream.send(
                .post, "/v1/admin/clients", body: #"{"name": "Downstream", "redirect_uris": ["http://127.0.0.1/later"]}"#, headers: upstreamAdmin)
            let clientID = try #require(AuthTests.string(try registered.json["client_id"]))
            let secret = try #require(AuthTests.string(try registered.json["client_secret"]))
            let providers = """
                [{"id": "upstream", "issuer": "\(upstreamURL)", "clientId": "\(clientID)", "clientSecret": "\(secret)"},
                 {"id": "upstream-plain", "authorizationEndpoint": "\(upstreamURL)/v1/auth/authorize",
                  "tokenEndpoint": "\(upstreamURL)/v1/auth/token", "userinfoEndpoint": "\(upstreamURL)/v1/auth/userinfo",
                  "clientId": "\(clientID)", "clientSecret": "\(secret)", "scopes": "openid email", "subjectField": "sub"}]
                """
            try await TestServer.run(configure: {
                admin(&$0)
                $0.authProviders = try! ExternalProvider.parse(providers)
            }) { flint in
                let flintURL = "http://127.0.0.1:\(try #require(flint.port))"
                // Now that our address is known, the upstream learns our callbacks.
                let patched = try await upstream.send(
                    .patch, "/v1/admin/clients/\(clientID)",
                    body: #"{"redirect_uris": ["\#(flintURL)/v1/auth/providers/upstream/callback", "\#(flintURL)/v1/auth/providers/upstream-plain/callback"]}"#,
                    headers: upstreamAdmin)
                #expect(patched.status == .ok)
                let app = try await flint.send(
                    .post, "/v1/admin/clients", body: #"{"name": "App", "redirect_uris": ["\#(Self.appRedirect)"], "public": true}"#,
                    headers: try await Self.adminToken(flint))
                let appID = try #require(AuthTests.string(try app.json["client_id"]))

                var uids: [JSON?] = []
                for _ in 0..<2 {
                    let verifier = String(repeating: "k", count: 50)
                    // 1. The app sends the user to Flint, which sends them to the provider.
                    let start = try await flint.send(
                        .get,
                        "/v1/auth/providers/\(providerID)/start?response_type=code&client_id=\(appID)&redirect_uri=\(OAuthTests.encode(Self.appRedirect))&code_challenge=\(OAuthTests.challenge(verifier))&code_challenge_method=S256&scope=openid%20email&state=app-state")
                    #expect(start.status == .found)
                    let toProvider = try #require(start.headers[.location])
                    #expect(toProvider.hasPrefix(upstreamURL + "/v1/auth/authorize"))
                    // 2. The user signs in at the provider, which sends them back to Flint.
                    var fields = Self.query(toProvider)
                    fields["email"] = "ivy@example.com"
                    fields["password"] = "correct horse"
                    let signIn = try await upstream.send(
                        .post, "/v1/auth/authorize", body: fields.map { "\($0.key)=\(OAuthTests.encode($0.value))" }.joined(separator: "&"),
                        headers: Self.form)
                    let toFlint = try #require(signIn.headers[.location])
                    #expect(toFlint.hasPrefix(flintURL + "/v1/auth/providers/\(providerID)/callback"))
                    // 3. Flint checks the provider's answer and sends the app its code.
                    let callback = try await flint.send(.get, Self.pathAndQuery(toFlint))
                    let toApp = try #require(callback.headers[.location], "\(callback.status) \(callback.text)")
                    let appQuery = Self.query(toApp)
                    #expect(appQuery["state"] == "app-state")
                    let code = try #require(appQuery["code"], "\(toApp)")
                    // 4. The app trades the code.
                    let tokens = try await flint.send(
                        .post, "/v1/auth/token",
                        body: "grant_type=authorization_code&code=\(code)&redirect_uri=\(OAuthTests.encode(Self.appRedirect))&client_id=\(appID)&code_verifier=\(verifier)",
                        headers: Self.form)
                    #expect(tokens.status == .ok, "\(tokens.text)")
                    let user = try tokens.json["user"]
                    #expect(user?["provider"] == .string("oidc:\(providerID)"))
                    #expect(user?["email"] == .string("ivy@example.com"))
                    uids.append(user?["uid"])
                }
                // The second sign-in finds the same user, linked by the provider's subject.
                #expect(uids[0] != nil && uids[0] == uids[1])
            }
        }
    }

    @Test func aForgedOrStaleCallbackIsRefused() async throws {
        let providers = #"[{"id": "p", "issuer": "http://127.0.0.1:9", "clientId": "c", "clientSecret": "s"}]"#
        try await TestServer.run(configure: { $0.authProviders = try! ExternalProvider.parse(providers) }) { flint in
            let forged = try await flint.send(.get, "/v1/auth/providers/p/callback?code=x&state=never-issued")
            #expect(forged.status == .badRequest)
            #expect(forged.headers[.location] == nil)
            let unknown = try await flint.send(.get, "/v1/auth/providers/nope/start")
            #expect(unknown.status == .notFound)
        }
    }

    @Test(arguments: [
        (#"{"id": "x"}"#, "JSON array"),
        (#"[{"id": "x", "clientId": "c", "clientSecret": "s"}]"#, "issuer"),
        (#"[{"id": "a b", "issuer": "https://i", "clientId": "c", "clientSecret": "s"}]"#, "letters"),
        (#"[{"id": "x", "issuer": "https://i", "clientId": "c", "clientSecret": "s", "extra": 1}]"#, "unknown field"),
    ])
    func badProviderConfigurationIsRefusedAtStartUp(text: String, mentions: String) {
        var configuration = Configuration()
        do {
            try configuration.apply(environment: ["FLINT_AUTH_PROVIDERS": text])
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.description.contains(mentions), "\(error.description)")
        }
    }
}
