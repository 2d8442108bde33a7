import FlintCore
import Testing

@testable import FlintRules

@Suite struct StorageRulesTests {
    let rules: Ruleset

    init() throws {
        rules = try compile("""
            rules_version = '2';
            service firebase.storage {
              match /b/{bucket}/o {
                match /avatars/{userId}/{fileName} {
                  allow read: if resource.metadata.public == 'yes' || request.auth.uid == userId;
                  allow create, update: if request.auth.uid == userId
                    && request.resource.size < 5 * 1024 * 1024
                    && request.resource.contentType.matches('image/.*')
                    && request.resource.name == 'avatars/' + userId + '/' + fileName
                    && bucket == 'photos';
                  allow delete: if request.auth.uid == userId && resource.size > 0;
                }
              }
            }
            """)
    }

    func upload(_ uid: String?, _ name: String, size: Int64, contentType: String, bucket: String = "photos") async -> RulesDecision {
        let request = RulesRequest(
            method: .create, path: name.split(separator: "/").map(String.init), auth: uid.map { RulesAuth(uid: $0) },
            requestResource: .object(name: name, bucket: bucket, properties: ["size": .integer(size), "contentType": .string(contentType), "metadata": [:]]),
            bucket: bucket)
        return await rules.evaluate(request, documents: EmptyDocumentSource(), budget: RulesReadBudget(limit: 10))
    }

    @Test func uploadsAreLimitedBySizeAndContentType() async {
        #expect(rules.service == .storage)
        #expect(await upload("alice", "avatars/alice/me.png", size: 2048, contentType: "image/png").allowed)
        #expect(await !upload("alice", "avatars/alice/me.png", size: 5 * 1024 * 1024, contentType: "image/png").allowed)
        #expect(await !upload("alice", "avatars/alice/me.pdf", size: 2048, contentType: "application/pdf").allowed)
        #expect(await !upload("bob", "avatars/alice/me.png", size: 2048, contentType: "image/png").allowed)
        #expect(await !upload(nil, "avatars/alice/me.png", size: 2048, contentType: "image/png").allowed)
        #expect(await !upload("alice", "avatars/alice/me.png", size: 2048, contentType: "image/png", bucket: "other").allowed)
        #expect(await !upload("alice", "avatars/alice/deeper/me.png", size: 2048, contentType: "image/png").allowed)
    }

    @Test func readsSeeTheStoredObjectsMetadata() async {
        func read(_ uid: String?, metadata: [String: Value]) async -> Bool {
            let request = RulesRequest(
                method: .get, path: ["avatars", "alice", "me.png"], auth: uid.map { RulesAuth(uid: $0) },
                resource: .object(name: "avatars/alice/me.png", bucket: "photos", properties: ["size": 10, "metadata": .map(metadata)]),
                bucket: "photos")
            return await rules.evaluate(request, documents: EmptyDocumentSource(), budget: RulesReadBudget(limit: 10)).allowed
        }
        #expect(await read(nil, metadata: ["public": "yes"]))
        #expect(await read("alice", metadata: [:]))
        #expect(await !read("bob", metadata: [:]))
        #expect(await !read(nil, metadata: ["public": "no"]))
    }

    @Test func storageRulesReadFirestoreDocumentsAndMatchEverything() async throws {
        let rules = try compile("""
            rules_version = '2';
            service firebase.storage {
              match /b/{bucket}/o {
                match /{allPaths=**} {
                  allow read: if request.auth != null;
                  allow write: if firestore.get(/databases/(default)/documents/users/$(request.auth.uid)).data.isAdmin == true
                    || firestore.exists(/databases/(default)/documents/uploaders/$(request.auth.uid));
                }
              }
            }
            """)
        let documents = MemoryDocuments(before: ["users/root": ["isAdmin": true], "users/alice": ["isAdmin": false], "uploaders/bob": [:]])
        func decide(_ method: RulesMethod, _ uid: String?) async -> Bool {
            let request = RulesRequest(
                method: method, path: ["deep", "down", "file.txt"], auth: uid.map { RulesAuth(uid: $0) },
                requestResource: method == .create ? .object(name: "deep/down/file.txt", bucket: "default", properties: ["size": 1]) : nil)
            return await rules.evaluate(request, documents: documents, budget: RulesReadBudget(limit: 10)).allowed
        }
        #expect(await decide(.get, "alice"))
        #expect(await !decide(.get, nil))
        #expect(await decide(.create, "root"))
        #expect(await decide(.create, "bob"))
        #expect(await !decide(.create, "alice"))
        #expect(await !decide(.delete, "carol"))
    }
}
