@testable import FlintClient
import FlintTestSupport
import Foundation
import Testing

extension ClientIntegrationTests {
    /// Signing up, in and out; the session on disk (0600) across restarts; tokens refreshed before they expire.
    @Suite struct AuthTests {
        @Test func signUpSignOutAndSignInWithAStreamOfStates() async throws {
            try await ClientHarness.run { harness in
                try await withApp(try harness.makeApp()) { app in
                    let states = Collector(await app.auth.authStateChanges())
                    #expect(try await states.next("signed out at first") == nil)
                    let user = try await app.auth.signUp(email: "ada@example.com", password: "correct horse battery")
                    #expect(user.email == "ada@example.com")
                    #expect(!user.isAnonymous)
                    #expect(try await states.next("signed up")?.uid == user.uid)
                    try await app.auth.signOut()
                    #expect(try await states.next("signed out") == nil)
                    #expect(await app.auth.currentUser == nil)
                    let again = try await app.auth.signIn(email: "ada@example.com", password: "correct horse battery")
                    #expect(again.uid == user.uid)
                    #expect(try await states.next("signed in")?.uid == user.uid)
                    do {
                        try await app.auth.signIn(email: "ada@example.com", password: "wrong password!")
                        Issue.record("a wrong password signed in")
                    } catch let error as FlintError {
                        #expect(error.code == .unauthenticated)
                    }
                    states.cancel()
                }
            }
        }

        @Test func theSessionIsKeptInAnOwnerOnlyFileAcrossRestarts() async throws {
            try await ClientHarness.run { harness in
                let cache = harness.directory.path + "/session-app"
                let uid = try await withApp(try harness.makeApp(cache: cache)) { app in
                    try await app.auth.signInAnonymously().uid
                }
                let attributes = try FileManager.default.attributesOfItem(atPath: cache + "/session.json")
                #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
                try await withApp(try harness.makeApp(cache: cache)) { app in
                    #expect(await app.auth.currentUser?.uid == uid)
                    #expect(await app.auth.currentUser?.isAnonymous == true)
                    // An anonymous user who signs up keeps their uid.
                    let upgraded = try await app.auth.signUp(email: "grace@example.com", password: "correct horse battery")
                    #expect(upgraded.uid == uid)
                    try await app.auth.signOut()
                }
                #expect(!FileManager.default.fileExists(atPath: cache + "/session.json"))
            }
        }

        @Test func tokensAreRefreshedBeforeTheyExpireAndTheSocketFollows() async throws {
            let rules = TestRules.open.merging(["firestore.rules": """
                rules_version = '2';
                service cloud.firestore {
                  match /databases/{database}/documents {
                    match /private/{uid} { allow read, write: if request.auth != null && request.auth.uid == uid; }
                  }
                }
                """]) { _, new in new }
            try await ClientHarness.run(rules: rules) { harness in
                var settings = testSettings
                // A margin as long as the token's life: the refresher renews at once (then once a second).
                settings.tokenRefreshMargin = .seconds(3600)
                try await withApp(try harness.makeApp(settings: settings)) { app in
                    let user = try await app.auth.signInAnonymously()
                    let firstRefreshToken = await app.auth.session?.refreshToken
                    try await eventually("a refresh", until: { await app.auth.refreshCount >= 2 })
                    #expect(await app.auth.session?.refreshToken != firstRefreshToken)
                    // The socket acts with the refreshed token: a write the rules allow only to this user goes through it.
                    try await app.document("private/\(user.uid)").setData(["n": 1])
                    // The spent refresh token no longer works: it was rotated.
                    let reuse = try await harness.http.send(
                        .post, "/v1/auth/token", body: "grant_type=refresh_token&refresh_token=\(firstRefreshToken ?? "")",
                        headers: [.contentType: "application/x-www-form-urlencoded"])
                    #expect(reuse.status == .badRequest)
                    // Reuse revoked the whole sign-in: the app notices at its next refresh and signs out.
                    try await eventually("the revoked session ends", until: { await app.auth.currentUser == nil })
                }
            }
        }

        @Test func writesActAsTheSignedInUser() async throws {
            let rules = TestRules.open.merging(["firestore.rules": """
                rules_version = '2';
                service cloud.firestore {
                  match /databases/{database}/documents {
                    match /private/{uid} { allow read, write: if request.auth != null && request.auth.uid == uid; }
                  }
                }
                """]) { _, new in new }
            try await ClientHarness.run(rules: rules) { harness in
                try await withApp(try harness.makeApp()) { app in
                    let user = try await app.auth.signInAnonymously()
                    let mine = app.document("private/\(user.uid)")
                    let snapshots = Collector(mine.snapshots(includeMetadataChanges: true))
                    try await mine.setData(["secret": 42])
                    try await snapshots.next("the server's state", where: { $0["secret"] == 42 && !$0.metadata.isFromCache })
                    do {
                        try await app.document("private/someone-else").setData(["x": 1])
                        Issue.record("the rules let a user write another's document")
                    } catch let error as FlintError {
                        #expect(error.code == .permissionDenied)
                    }
                    snapshots.cancel()
                }
            }
        }
    }
}
