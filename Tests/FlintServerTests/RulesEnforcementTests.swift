import FlintCore
import FlintServer
import FlintTestSupport
import Foundation
import Testing

/// Security rules decide every document read and write, over REST and the realtime socket.
@Suite struct RulesEnforcementTests {
    static let adminID = "admin"
    static let adminSecret = "a-long-admin-secret"

    /// A server whose only rules are `firestore` (none at all when nil), with an admin service account.
    func withServer<T: Sendable>(
        firestore: String?, _ body: @Sendable (HTTPTestClient, HTTPTestClient.Session) async throws -> T
    ) async throws -> T {
        try await TestServer.run(
            rules: firestore.map { ["firestore.rules": $0] } ?? [:],
            configure: {
                $0.adminClientID = Self.adminID
                $0.adminClientSecret = Self.adminSecret
            }
        ) { http in
            try await body(http, try await http.serviceToken(clientID: Self.adminID, secret: Self.adminSecret))
        }
    }

    static func rules(_ body: String) -> String {
        """
        rules_version = '2';
        service cloud.firestore {
          match /databases/{database}/documents {
        \(body)
          }
        }
        """
    }

    static let ownerOnly = rules(
        """
            match /users/{uid}/{document=**} {
              allow read, write: if request.auth != null && request.auth.uid == uid;
            }
        """)

    @Test func withoutRulesOnlyAdminsHaveAccess() async throws {
        try await withServer(firestore: nil) { http, admin in
            let user = try await http.signUp("ann@example.com")
            let signedOut = try await http.send(.put, "/v1/documents/notes/n1", body: #"{"x": 1}"#)
            #expect(signedOut.status == .forbidden)
            #expect(signedOut.errorCode == "permission-denied")
            #expect(signedOut.errorMessage?.contains("PUT /v1/admin/rules/firestore") == true)
            #expect(try await http.send(.put, "/v1/documents/notes/n1", body: #"{"x": 1}"#, headers: user.headers).status == .forbidden)
            #expect(try await http.send(.put, "/v1/documents/notes/n1", body: #"{"x": 1}"#, headers: admin.headers).status == .ok)
            #expect(try await http.send(.get, "/v1/documents/notes/n1", headers: user.headers).status == .forbidden)
            #expect(try await http.send(.get, "/v1/documents/notes/n1", headers: admin.headers).status == .ok)
            let query = #"{"collection": "notes"}"#
            #expect(try await http.send(.post, "/v1/query", body: query, headers: user.headers).status == .forbidden)
            #expect(try await http.send(.post, "/v1/query", body: query, headers: admin.headers).status == .ok)
        }
    }

    @Test func ownersReadAndWriteOnlyTheirOwnDocuments() async throws {
        try await withServer(firestore: Self.ownerOnly) { http, _ in
            let ann = try await http.signUp("ann@example.com")
            let bob = try await http.signUp("bob@example.com")
            let put = try await http.send(.put, "/v1/documents/users/\(ann.uid)", body: #"{"name": "Ann"}"#, headers: ann.headers)
            #expect(put.status == .ok)
            let nested = try await http.send(.put, "/v1/documents/users/\(ann.uid)/notes/n1", body: #"{"t": "x"}"#, headers: ann.headers)
            #expect(nested.status == .ok)
            #expect(try await http.send(.get, "/v1/documents/users/\(ann.uid)", headers: ann.headers).status == .ok)

            let bobReads = try await http.send(.get, "/v1/documents/users/\(ann.uid)", headers: bob.headers)
            #expect(bobReads.status == .forbidden)
            #expect(bobReads.errorCode == "permission-denied")
            #expect(try await http.send(.get, "/v1/documents/users/\(ann.uid)").status == .forbidden)
            #expect(try await http.send(.put, "/v1/documents/users/\(ann.uid)", body: "{}", headers: bob.headers).status == .forbidden)
            #expect(try await http.send(.delete, "/v1/documents/users/\(ann.uid)", headers: bob.headers).status == .forbidden)
            // A missing document is "forbidden", not "not found", to whom may not read it: its absence is not revealed.
            #expect(try await http.send(.get, "/v1/documents/users/\(bob.uid)x", headers: bob.headers).status == .forbidden)
            #expect(try await http.send(.get, "/v1/documents/users/\(bob.uid)", headers: bob.headers).status == .notFound)
            // Ann's document is unchanged by Bob's attempts.
            let after = try await http.send(.get, "/v1/documents/users/\(ann.uid)", headers: ann.headers)
            #expect(try after.json["data"] == .object(["name": .string("Ann")]))
        }
    }

    static let notes = rules(
        """
            match /notes/{id} {
              allow list: if request.auth != null && resource.data.owner == request.auth.uid;
              allow create: if request.auth != null && request.resource.data.owner == request.auth.uid;
            }
        """)

    @Test func aQueryIsAllowedOnlyWhenEveryDocumentItReturnsIs() async throws {
        try await withServer(firestore: Self.notes) { http, _ in
            let ann = try await http.signUp("ann@example.com")
            let bob = try await http.signUp("bob@example.com")
            let mine = #"{"collection": "notes", "where": {"field": "owner", "op": "==", "value": "\#(ann.uid)"}}"#
            // Nothing yet: the query could be allowed, so an empty answer is.
            let empty = try await http.send(.post, "/v1/query", body: mine, headers: ann.headers)
            #expect(empty.status == .ok)
            #expect(try empty.json["documents"]?.arrayCount == 0)
            for (session, id) in [(ann, "a1"), (ann, "a2"), (bob, "b1")] {
                let put = try await http.send(.put, "/v1/documents/notes/\(id)", body: #"{"owner": "\#(session.uid)"}"#, headers: session.headers)
                #expect(put.status == .ok)
            }
            let own = try await http.send(.post, "/v1/query", body: mine, headers: ann.headers)
            #expect(own.status == .ok)
            #expect(try own.json["documents"]?.arrayCount == 2)
            // Rules are not filters: a query that would return Bob's note fails whole.
            let all = try await http.send(.post, "/v1/query", body: #"{"collection": "notes"}"#, headers: ann.headers)
            #expect(all.status == .forbidden)
            #expect(all.errorCode == "permission-denied")
            #expect(try await http.send(.get, "/v1/documents/notes", headers: ann.headers).status == .forbidden)
            // `get` is not `list`: the rules grant no single-document reads.
            #expect(try await http.send(.get, "/v1/documents/notes/a1", headers: ann.headers).status == .forbidden)
            // Where no list rule applies at all, even an empty answer is denied.
            let elsewhere = try await http.send(.post, "/v1/query", body: #"{"collection": "other"}"#, headers: ann.headers)
            #expect(elsewhere.status == .forbidden)
        }
    }

    static let counters = rules(
        """
            match /counters/{id} {
              allow read: if true;
              allow create: if request.resource.data.n == 0;
              allow update: if request.resource.data.n == resource.data.n + 1
                && request.resource.data.diff(resource.data).affectedKeys().hasOnly(['n']);
              allow delete: if false;
            }
            match /rooms/{room} {
              allow read, create: if request.auth != null;
              match /members/{uid} {
                // A member may be added only in the same commit as a room that names them (getAfter).
                allow create: if existsAfter(/databases/$(database)/documents/rooms/$(room))
                  && getAfter(/databases/$(database)/documents/rooms/$(room)).data.owner == uid;
              }
            }
        """)

    @Test func writesSeeTheStateBeforeAndAfterThemselves() async throws {
        try await withServer(firestore: Self.counters) { http, _ in
            let ann = try await http.signUp("ann@example.com")
            #expect(try await http.send(.put, "/v1/documents/counters/c", body: #"{"n": 1}"#).status == .forbidden)
            #expect(try await http.send(.put, "/v1/documents/counters/c", body: #"{"n": 0}"#).status == .ok)
            // update: request.resource is the whole document after the write, transforms included.
            let increment = #"{"writes": [{"op": "update", "path": "counters/c", "transforms": [{"field": "n", "increment": 1}]}]}"#
            #expect(try await http.send(.post, "/v1/commit", body: increment).status == .ok)
            let twice = #"{"writes": [{"op": "update", "path": "counters/c", "transforms": [{"field": "n", "increment": 2}]}]}"#
            #expect(try await http.send(.post, "/v1/commit", body: twice).status == .forbidden)
            #expect(try await http.send(.patch, "/v1/documents/counters/c", body: #"{"n": 2, "x": true}"#).status == .forbidden)
            #expect(try await http.send(.patch, "/v1/documents/counters/c", body: #"{"n": 2}"#).status == .ok)
            #expect(try await http.send(.delete, "/v1/documents/counters/c").status == .forbidden)
            #expect(try await http.send(.get, "/v1/documents/counters/c").json["data"] == .object(["n": .integer(2)]))

            // A commit is checked as a whole: one forbidden write refuses it, and nothing of it is written.
            let mixed = """
                {"writes": [{"op": "set", "path": "counters/d", "data": {"n": 0}},
                            {"op": "set", "path": "counters/e", "data": {"n": 5}}]}
                """
            let refused = try await http.send(.post, "/v1/commit", body: mixed)
            #expect(refused.status == .forbidden)
            #expect(refused.errorMessage?.hasPrefix("writes[1]:") == true)
            #expect(try await http.send(.get, "/v1/documents/counters/d").status == .notFound)

            // getAfter sees the other writes of the same commit.
            let together = """
                {"writes": [{"op": "set", "path": "rooms/r1", "data": {"owner": "\(ann.uid)"}},
                            {"op": "set", "path": "rooms/r1/members/\(ann.uid)", "data": {}}]}
                """
            #expect(try await http.send(.post, "/v1/commit", body: together, headers: ann.headers).status == .ok)
            let alone = #"{"writes": [{"op": "set", "path": "rooms/r2/members/\#(ann.uid)", "data": {}}]}"#
            #expect(try await http.send(.post, "/v1/commit", body: alone, headers: ann.headers).status == .forbidden)
        }
    }

    static let claims = rules(
        """
            match /reports/{id} {
              allow read: if request.auth.token.role == 'auditor';
              allow write: if request.auth.token.firebase.sign_in_provider == 'password' && request.auth.token.email.matches('.*@example[.]com');
            }
        """)

    @Test func rulesReadTheTokensClaims() async throws {
        try await withServer(firestore: Self.claims) { http, admin in
            let ann = try await http.signUp("ann@example.com")
            let eve = try await http.signUp("eve@elsewhere.org")
            #expect(try await http.send(.put, "/v1/documents/reports/r", body: "{}", headers: ann.headers).status == .ok)
            #expect(try await http.send(.put, "/v1/documents/reports/r", body: "{}", headers: eve.headers).status == .forbidden)
            #expect(try await http.send(.get, "/v1/documents/reports/r", headers: ann.headers).status == .forbidden)
            let set = try await http.send(.put, "/v1/admin/users/\(ann.uid)/claims", body: #"{"role": "auditor"}"#, headers: admin.headers)
            #expect(set.status == .ok)
            let signIn = try await http.send(.post, "/v1/auth/signin", body: #"{"email": "ann@example.com", "password": "correct horse battery"}"#)
            guard case .string(let token)? = try signIn.json["access_token"] else {
                Issue.record("no token in \(signIn.text)")
                return
            }
            #expect(try await http.send(.get, "/v1/documents/reports/r", headers: [.authorization: "Bearer \(token)"]).status == .ok)
        }
    }

    static let posts = rules(
        """
            match /posts/{id} {
              allow read: if resource.data.public == true;
              allow write: if request.auth != null;
            }
        """)

    @Test func realtimeTargetsAreCheckedOnTheirSnapshotAndEveryChange() async throws {
        try await withServer(firestore: Self.posts) { http, admin in
            let ann = try await http.signUp("ann@example.com")
            #expect(try await http.send(.put, "/v1/documents/posts/p1", body: #"{"public": true}"#, headers: ann.headers).status == .ok)
            #expect(try await http.send(.put, "/v1/documents/posts/secret", body: #"{"public": false}"#, headers: ann.headers).status == .ok)
            let client = RealtimeTestClient(port: try #require(http.port))
            defer { client.close() }
            // Signed out: the rules read only the documents, so public ones may be listened to.
            client.send(#"{"type": "listen", "targetId": 1, "document": "posts/p1"}"#)
            #expect(await client.next(ofType: "snapshot", "error")?.member("type") == .string("snapshot"))
            client.send(#"{"type": "listen", "targetId": 2, "document": "posts/secret"}"#)
            let refused = await client.next(ofType: "snapshot", "error")
            #expect(refused?.member("code") == .string("permission-denied"))
            #expect(refused?.member("targetId") == .integer(2))
            client.send(#"{"type": "listen", "targetId": 3, "query": {"collection": "posts"}}"#)
            #expect(await client.next(ofType: "snapshot", "error")?.member("code") == .string("permission-denied"))
            client.send(#"{"type": "listen", "targetId": 4, "query": {"collection": "posts", "where": {"field": "public", "op": "==", "value": true}}}"#)
            #expect(await client.next(ofType: "snapshot", "error")?.member("type") == .string("snapshot"))

            // A change the rules allow arrives; one they now forbid ends the target that would show it.
            #expect(try await http.send(.put, "/v1/documents/posts/p1", body: #"{"public": true, "n": 1}"#, headers: ann.headers).status == .ok)
            let change = await client.next(ofType: "changes", "error")
            #expect(change?.member("type") == .string("changes"))
            #expect(try await http.send(.put, "/v1/documents/posts/p1", body: #"{"public": false}"#, headers: admin.headers).status == .ok)
            // Target 4 simply loses the document (it left the query), and stays; target 1 ends.
            let removed = await client.next(ofType: "changes", "error")
            #expect(removed?.member("type") == .string("changes"))
            let ended = await client.next(ofType: "changes", "error")
            #expect(ended?.member("code") == .string("permission-denied"))
            #expect(ended?.member("targetId") == .integer(1))
            client.send(#"{"type": "unlisten", "targetId": 4}"#)
            #expect(await client.next(ofType: "unlistened", "error")?.member("type") == .string("unlistened"))

            // Writes over the socket go through the same rules.
            client.send(#"{"type": "commit", "id": "w1", "writes": [{"op": "set", "path": "posts/p9", "data": {}}]}"#)
            let denied = await client.next(ofType: "committed", "error")
            #expect(denied?.member("code") == .string("permission-denied"))
            #expect(denied?.member("id") == .string("w1"))
            client.send(#"{"type": "auth", "token": "\#(ann.token)"}"#)
            #expect(await client.next(ofType: "authenticated", "error")?.member("type") == .string("authenticated"))
            client.send(#"{"type": "commit", "id": "w2", "writes": [{"op": "set", "path": "posts/p9", "data": {}}]}"#)
            #expect(await client.next(ofType: "committed", "error")?.member("type") == .string("committed"))
        }
    }

    @Test func aRedeploymentAppliesToListenersAlreadyConnected() async throws {
        let open = Self.rules("    match /{document=**} { allow read, write: if true; }")
        let closed = Self.rules("    match /{document=**} { allow write: if true; }")
        try await withServer(firestore: open) { http, admin in
            let client = RealtimeTestClient(port: try #require(http.port))
            defer { client.close() }
            client.send(#"{"type": "listen", "targetId": 7, "query": {"collection": "c"}}"#)
            #expect(await client.next(ofType: "snapshot", "error")?.member("type") == .string("snapshot"))
            #expect(try await http.send(.put, "/v1/documents/c/a", body: "{}").status == .ok)
            #expect(await client.next(ofType: "changes", "error")?.member("type") == .string("changes"))

            let deploy = try await http.send(.put, "/v1/admin/rules/firestore", body: closed, headers: admin.headers)
            #expect(deploy.status == .created)
            #expect(try await http.send(.put, "/v1/documents/c/b", body: "{}").status == .ok)
            let ended = await client.next(ofType: "changes", "error")
            #expect(ended?.member("code") == .string("permission-denied"))
            #expect(ended?.member("targetId") == .integer(7))
        }
    }
}
