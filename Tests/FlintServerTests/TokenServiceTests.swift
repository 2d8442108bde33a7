import FlintCore
@testable import FlintServer
import FlintTestSupport
import Testing

/// Token signing, verification and key rotation, on the service itself.
@Suite struct TokenServiceTests {
    func withTokens(
        _ backend: StoreBackend, issuer: String = "http://flint.test", _ body: @escaping @Sendable (TokenService, any AuthStorage) async throws -> Void
    ) async throws {
        try await backend.withStores { stores in
            let auth = try await stores.auth()
            let tokens = TokenService(store: auth, issuer: issuer, audience: "flint")
            try await tokens.start()
            try await body(tokens, auth)
        }
    }

    func claims(_ tokens: TokenService, iat: Int64? = nil, exp: Int64? = nil, iss: String? = nil, aud: String? = nil) -> AccessClaims {
        var claims = tokens.claims(sub: "u1", provider: "password", authTime: .now(), scope: nil, sid: "s", email: nil, custom: ["role": .string("x")])
        if let iat { claims.iat = iat }
        if let exp { claims.exp = exp }
        if let iss { claims.iss = iss }
        if let aud { claims.aud = aud }
        return claims
    }

    @Test(arguments: StoreBackend.all) func aTokenVerifiesWithItsClaims(_ backend: StoreBackend) async throws {
        try await withTokens(backend) { tokens, _ in
            let verified = try await tokens.verify(try await tokens.sign(claims(tokens)))
            #expect(verified.sub == "u1")
            #expect(verified.custom == ["role": .string("x")])
        }
    }

    @Test(arguments: StoreBackend.all) func expiredFutureAndForeignTokensAreRefused(_ backend: StoreBackend) async throws {
        try await withTokens(backend) { tokens, _ in
            let now = Timestamp.now().microseconds / 1_000_000
            for (claims, reason) in [
                (claims(tokens, iat: now - 7200, exp: now - 3600), "expired"),
                (claims(tokens, iat: now + 3600, exp: now + 7200), "not valid yet"),
                (claims(tokens, iss: "http://elsewhere"), "issuer"),
                (claims(tokens, aud: "another-app"), "audience"),
            ] {
                do {
                    _ = try await tokens.verify(try await tokens.sign(claims))
                    Issue.record("accepted a token that is \(reason)")
                } catch let error as FlintError {
                    #expect(error.code == .unauthenticated)
                    #expect(error.message.contains(reason), "\(error.message)")
                }
            }
        }
    }

    @Test(arguments: StoreBackend.all) func afterRotationOldTokensStillVerifyAndBothKeysArePublished(_ backend: StoreBackend) async throws {
        try await withTokens(backend) { tokens, store in
            let before = try await tokens.sign(claims(tokens))
            let oldKey = tokens.currentKeyID
            try await tokens.rotate()
            #expect(tokens.currentKeyID != oldKey)
            let after = try await tokens.sign(claims(tokens))
            #expect(try AuthTests.claims(ofHeader: after)["kid"] == .string(tokens.currentKeyID))
            _ = try await tokens.verify(before)
            _ = try await tokens.verify(after)
            #expect(tokens.jwks["keys"]?.arrayCount == 2)
            // A restarted server loads both keys and signs with the newest.
            let restarted = TokenService(store: store, issuer: "http://flint.test", audience: "flint")
            try await restarted.start()
            #expect(restarted.currentKeyID == tokens.currentKeyID)
            _ = try await restarted.verify(before)
        }
    }

    @Test func passwordHashesCarryTheirCostAndOldOnesStillVerify() throws {
        let cheap = PasswordHasher(cost: .init(logN: 8, r: 8, p: 1))
        let current = PasswordHasher(cost: .init(logN: 10, r: 8, p: 1))
        let old = try cheap.hash("correct horse")
        #expect(old.hasPrefix("$scrypt$ln=8,r=8,p=1$"))
        #expect(current.verify("correct horse", against: old))
        #expect(!current.verify("wrong horse", against: old))
        #expect(current.needsRehash(old))
        #expect(!current.needsRehash(try current.hash("x")))
        #expect(!current.verify("x", against: "not a hash"))
        #expect(PasswordHasher.Cost.owasp == .init(logN: 17, r: 8, p: 1))
    }
}

extension AuthTests {
    /// The header of a JWT, read without verifying it.
    static func claims(ofHeader token: String) throws -> JSON {
        let header = token.split(separator: ".")[0]
        return try JSON(parsing: try #require(Base64.decode(TokenService.standardBase64(header))))
    }
}
