import FlintCore
import FlintTestSupport
import Foundation
import HTTPTypes
import Testing

/// The storage security rules (`service firebase.storage`) decide every file operation.
@Suite struct FilesRulesTests {
    static let storage = """
        rules_version = '2';
        service firebase.storage {
          match /b/{bucket}/o {
            match /users/{uid}/{allPaths=**} {
              allow read: if request.auth != null && request.auth.uid == uid;
              allow write: if request.auth != null && request.auth.uid == uid
                && (request.resource == null
                    || (request.resource.size < 1024 && request.resource.contentType.matches('image/.*')));
            }
            match /rooms/{room}/{file} {
              // Membership lives in the documents.
              allow read: if request.auth.uid in firestore.get(/databases/(default)/documents/rooms/$(room)).data.members;
            }
          }
        }
        """

    func withServer<T: Sendable>(
        _ rules: [String: String], _ body: @Sendable (HTTPTestClient, HTTPTestClient.Session) async throws -> T
    ) async throws -> T {
        try await TestServer.run(
            rules: rules,
            configure: {
                $0.adminClientID = RulesEnforcementTests.adminID
                $0.adminClientSecret = RulesEnforcementTests.adminSecret
            }
        ) { http in
            try await body(http, try await http.serviceToken(clientID: RulesEnforcementTests.adminID, secret: RulesEnforcementTests.adminSecret))
        }
    }

    @Test func ownersUploadSmallImagesAndOnlyTheyReadThem() async throws {
        try await withServer(["storage.rules": Self.storage, "firestore.rules": TestRules.open["firestore.rules"]!]) { http, _ in
            let ann = try await http.signUp("ann@example.com")
            let bob = try await http.signUp("bob@example.com")
            let mine = "users/\(ann.uid)/avatar.png"
            #expect(try await http.upload(mine, [1, 2, 3], contentType: "image/png", headers: ann.headers).status == .created)
            #expect(try await http.send(.get, "/v1/files/\(mine)", headers: ann.headers).status == .ok)
            #expect(try await http.send(.get, "/v1/files/\(mine)?metadata", headers: ann.headers).status == .ok)

            let bobReads = try await http.send(.get, "/v1/files/\(mine)", headers: bob.headers)
            #expect(bobReads.status == .forbidden)
            #expect(bobReads.errorCode == "permission-denied")
            #expect(try await http.send(.head, "/v1/files/\(mine)", headers: bob.headers).status == .forbidden)
            #expect(try await http.send(.get, "/v1/files/\(mine)").status == .forbidden)
            #expect(try await http.upload(mine, [9], contentType: "image/png", headers: bob.headers).status == .forbidden)
            #expect(try await http.send(.delete, "/v1/files/\(mine)", headers: bob.headers).status == .forbidden)
            #expect(try await http.send(.post, "/v1/files/\(mine):sign", headers: bob.headers).status == .forbidden)
            #expect(try await http.send(.get, "/v1/files?prefix=users/\(ann.uid)/", headers: bob.headers).status == .forbidden)
            #expect(try await http.send(.get, "/v1/files?prefix=users/\(ann.uid)/", headers: ann.headers).status == .ok)

            // request.resource: size and content type are checked before the object exists.
            let big = try await http.upload("users/\(ann.uid)/big.png", Array(repeating: 7, count: 2048), contentType: "image/png", headers: ann.headers)
            #expect(big.status == .forbidden)
            let text = try await http.upload("users/\(ann.uid)/notes.txt", [1], contentType: "text/plain", headers: ann.headers)
            #expect(text.status == .forbidden)
            #expect(try await http.send(.get, "/v1/files/users/\(ann.uid)/big.png", headers: ann.headers).status == .notFound)
            // Resumable uploads too, at creation.
            let tus = try await http.send(
                .post, "/v1/uploads",
                headers: FilesTusTests.tus(
                    bob.headers, [("Upload-Length", "3"), ("Upload-Metadata", FilesTusTests.metadata([("path", mine), ("contentType", "image/png")]))]))
            #expect(tus.status == .forbidden)

            #expect(try await http.send(.delete, "/v1/files/\(mine)", headers: ann.headers).status == .noContent)
        }
    }

    @Test func storageRulesReadTheDocuments() async throws {
        try await withServer(["storage.rules": Self.storage, "firestore.rules": TestRules.open["firestore.rules"]!]) { http, admin in
            let ann = try await http.signUp("ann@example.com")
            let bob = try await http.signUp("bob@example.com")
            #expect(try await http.upload("rooms/r1/plan.png", [1, 2], contentType: "image/png", headers: admin.headers).status == .created)
            let room = #"{"members": ["\#(ann.uid)"]}"#
            #expect(try await http.send(.put, "/v1/documents/rooms/r1", body: room, headers: admin.headers).status == .ok)
            #expect(try await http.send(.get, "/v1/files/rooms/r1/plan.png", headers: ann.headers).status == .ok)
            #expect(try await http.send(.get, "/v1/files/rooms/r1/plan.png", headers: bob.headers).status == .forbidden)
        }
    }

    @Test func withoutStorageRulesOnlyAdminsHaveAccess() async throws {
        try await withServer([:]) { http, admin in
            let ann = try await http.signUp("ann@example.com")
            let refused = try await http.upload("a.png", [1], contentType: "image/png", headers: ann.headers)
            #expect(refused.status == .forbidden)
            #expect(refused.errorMessage?.contains("PUT /v1/admin/rules/storage") == true)
            #expect(try await http.upload("a.png", [1], contentType: "image/png", headers: admin.headers).status == .created)
            #expect(try await http.send(.get, "/v1/files/a.png", headers: ann.headers).status == .forbidden)
            #expect(try await http.send(.get, "/v1/files/a.png").status == .forbidden)
            #expect(try await http.send(.get, "/v1/files/a.png", headers: admin.headers).status == .ok)
        }
    }
}
