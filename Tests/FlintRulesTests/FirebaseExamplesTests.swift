import FlintCore
import Testing

@testable import FlintRules

/// The examples of Firebase's security-rules documentation, as allow and deny cases.
@Suite struct FirebaseExamplesTests {
    let alice = RulesAuth(uid: "alice")
    let bob = RulesAuth(uid: "bob")

    @Test func ownerOnlyAccessAllowsTheOwnerAndNobodyElse() async throws {
        let rules = try compile(firestore("""
            match /users/{userId} {
              allow read, update, delete: if request.auth != null && request.auth.uid == userId;
              allow create: if request.auth != null;
            }
            """))
        #expect(await rules.decide(.get, "users/alice", auth: alice).allowed)
        #expect(await rules.decide(.update, "users/alice", auth: alice, existing: ["users/alice": [:]], writing: ["a": 1]).allowed)
        #expect(await !rules.decide(.get, "users/alice", auth: bob).allowed)
        #expect(await !rules.decide(.get, "users/alice").allowed)
        #expect(await !rules.decide(.delete, "users/alice", auth: bob).allowed)
        #expect(await rules.decide(.create, "users/carol", auth: bob, writing: [:]).allowed)
        #expect(await !rules.decide(.create, "users/carol", writing: [:]).allowed)
    }

    @Test func roleBasedAccessReadsTheUsersRoleWithGet() async throws {
        let rules = try compile(firestore("""
            match /articles/{article} {
              allow read: if request.auth != null;
              allow write: if get(/databases/$(database)/documents/users/$(request.auth.uid)).data.role == 'admin';
            }
            """))
        let users: [String: [String: Value]] = ["users/alice": ["role": "admin"], "users/bob": ["role": "reader"]]
        #expect(await rules.decide(.update, "articles/a1", auth: alice, existing: users, writing: ["t": 1]).allowed)
        #expect(await !rules.decide(.update, "articles/a1", auth: bob, existing: users, writing: ["t": 1]).allowed)
        // carol has no user document: get() fails, which denies.
        let carol = await rules.decide(.delete, "articles/a1", auth: RulesAuth(uid: "carol"), existing: users)
        #expect(!carol.allowed)
        #expect(carol.explanation.contains("no document at /databases/(default)/documents/users/carol"))
        #expect(await rules.decide(.get, "articles/a1", auth: bob).allowed)
    }

    @Test func dataValidationLimitsFieldsAndWhichFieldsChange() async throws {
        let rules = try compile(firestore("""
            match /profiles/{id} {
              allow create: if request.resource.data.size() < 10
                && request.resource.data.keys().hasOnly(['name', 'age', 'bio'])
                && request.resource.data.name is string;
              allow update: if request.resource.data.diff(resource.data).affectedKeys().hasOnly(['name']);
            }
            """))
        #expect(await rules.decide(.create, "profiles/p", auth: alice, writing: ["name": "A", "age": 3]).allowed)
        #expect(await !rules.decide(.create, "profiles/p", auth: alice, writing: ["name": "A", "admin": true]).allowed)
        #expect(await !rules.decide(.create, "profiles/p", auth: alice, writing: ["name": 5]).allowed)
        let many = Dictionary(uniqueKeysWithValues: (0..<10).map { ("f\($0)", Value.integer(1)) })
        #expect(await !rules.decide(.create, "profiles/p", auth: alice, writing: many).allowed)
        let stored: [String: [String: Value]] = ["profiles/p": ["name": "A", "age": 3]]
        #expect(await rules.decide(.update, "profiles/p", existing: stored, writing: ["name": "B", "age": 3]).allowed)
        #expect(await !rules.decide(.update, "profiles/p", existing: stored, writing: ["name": "B", "age": 4]).allowed)
        #expect(await !rules.decide(.update, "profiles/p", existing: stored, writing: ["name": "A"]).allowed)
        #expect(await rules.decide(.update, "profiles/p", existing: stored, writing: ["name": "A", "age": 3]).allowed)
    }

    @Test func recursiveWildcardMatchesEveryDocumentBelow() async throws {
        let rules = try compile(firestore("""
            match /{document=**} {
              allow read: if request.auth != null;
            }
            match /cities/{city}/{rest=**} {
              allow write: if rest == path('') || request.auth.uid == 'admin' && rest[0] == 'landmarks';
            }
            """))
        #expect(await rules.decide(.get, "a/b", auth: alice).allowed)
        #expect(await rules.decide(.list, "a/b/c/d/e/f", auth: alice).allowed)
        #expect(await !rules.decide(.get, "a/b").allowed)
        // v2: {rest=**} matches zero segments too, so /cities/SF itself is covered.
        #expect(await rules.decide(.create, "cities/SF", auth: alice, writing: [:]).allowed)
        let admin = RulesAuth(uid: "admin")
        #expect(await rules.decide(.create, "cities/SF/landmarks/l1", auth: admin, writing: [:]).allowed)
        #expect(await !rules.decide(.create, "cities/SF/people/p1", auth: admin, writing: [:]).allowed)
    }

    @Test func recursiveWildcardBeforeLiteralSegmentsCoversCollectionGroups() async throws {
        let rules = try compile(firestore("""
            match /{path=**}/posts/{post} {
              allow read: if post != 'secret';
            }
            """))
        #expect(await rules.decide(.get, "posts/p1").allowed)
        #expect(await rules.decide(.get, "users/alice/posts/p1").allowed)
        #expect(await !rules.decide(.get, "users/alice/posts/secret").allowed)
        #expect(await !rules.decide(.get, "users/alice/comments/c1").allowed)
    }

    @Test func nestedMatchesAndOverlappingRulesBothContribute() async throws {
        let rules = try compile(firestore("""
            match /rooms/{room} {
              allow read: if false;
              match /messages/{message} {
                allow read: if room == 'public';
              }
            }
            match /rooms/{room}/messages/{message} {
              allow read: if message == 'pinned';
            }
            """))
        #expect(await rules.decide(.get, "rooms/public/messages/m1").allowed)
        #expect(await rules.decide(.get, "rooms/private/messages/pinned").allowed)
        #expect(await !rules.decide(.get, "rooms/private/messages/m1").allowed)
        #expect(await !rules.decide(.get, "rooms/public").allowed)
        let none = await rules.decide(.get, "lobby/x")
        #expect(!none.allowed)
        #expect(none.explanation == "no rule matches /databases/(default)/documents/lobby/x for get")
    }

    @Test func tokenClaimsGrantAccess() async throws {
        let rules = try compile(firestore("""
            match /reports/{id} {
              allow read: if request.auth.token.email_verified == true && request.auth.token.email.matches('.*@example[.]com');
              allow write: if request.auth.token.admin == true;
            }
            """))
        let verified = RulesAuth(uid: "u", token: ["email": "x@example.com", "email_verified": true])
        let unverified = RulesAuth(uid: "u", token: ["email": "x@example.com", "email_verified": false])
        let elsewhere = RulesAuth(uid: "u", token: ["email": "x@example.org", "email_verified": true])
        #expect(await rules.decide(.get, "reports/r", auth: verified).allowed)
        #expect(await !rules.decide(.get, "reports/r", auth: unverified).allowed)
        #expect(await !rules.decide(.get, "reports/r", auth: elsewhere).allowed)
        #expect(await rules.decide(.delete, "reports/r", auth: RulesAuth(uid: "a", token: ["admin": true])).allowed)
        // No admin claim at all: the missing field is an error, which denies.
        #expect(await !rules.decide(.delete, "reports/r", auth: verified).allowed)
    }

    @Test func functionsWithLetBindings() async throws {
        let rules = try compile("""
            rules_version = '2';
            service cloud.firestore {
              function signedIn() { return request.auth != null; }
              match /databases/{database}/documents {
                function isMember(room) {
                  let members = get(/databases/$(database)/documents/rooms/$(room)).data.members;
                  let uid = request.auth.uid;
                  return signedIn() && uid in members;
                }
                match /rooms/{room}/messages/{message} {
                  allow read: if isMember(room);
                  allow create: if isMember(room) && request.resource.data.author == request.auth.uid;
                }
              }
            }
            """)
        let rooms: [String: [String: Value]] = ["rooms/r1": ["members": ["alice", "carol"]]]
        #expect(await rules.decide(.get, "rooms/r1/messages/m1", auth: alice, existing: rooms).allowed)
        #expect(await !rules.decide(.get, "rooms/r1/messages/m1", auth: bob, existing: rooms).allowed)
        #expect(await !rules.decide(.get, "rooms/r1/messages/m1", existing: rooms).allowed)
        #expect(await rules.decide(.create, "rooms/r1/messages/m2", auth: alice, existing: rooms, writing: ["author": "alice"]).allowed)
        #expect(await !rules.decide(.create, "rooms/r1/messages/m2", auth: alice, existing: rooms, writing: ["author": "carol"]).allowed)
    }

    @Test func timestampsCompareWithRequestTime() async throws {
        let rules = try compile(firestore("""
            match /invites/{id} {
              allow read: if request.time < resource.data.expires;
              allow create: if request.resource.data.createdAt == request.time
                && request.resource.data.expires < request.time + duration.value(7, 'd');
            }
            """))
        let now = Timestamp(rfc3339: "2026-11-26T10:00:00Z")!
        let later = Value.timestamp(Timestamp(rfc3339: "2026-11-27T10:00:00Z")!)
        let earlier = Value.timestamp(Timestamp(rfc3339: "2026-11-25T10:00:00Z")!)
        #expect(await rules.decide(.get, "invites/i", existing: ["invites/i": ["expires": later]], time: now).allowed)
        #expect(await !rules.decide(.get, "invites/i", existing: ["invites/i": ["expires": earlier]], time: now).allowed)
        #expect(await rules.decide(.create, "invites/i", writing: ["createdAt": .timestamp(now), "expires": later], time: now).allowed)
        #expect(await !rules.decide(.create, "invites/i", writing: ["createdAt": earlier, "expires": later], time: now).allowed)
        let farAway = Value.timestamp(Timestamp(rfc3339: "2026-12-26T10:00:00Z")!)
        #expect(await !rules.decide(.create, "invites/i", writing: ["createdAt": .timestamp(now), "expires": farAway], time: now).allowed)
    }

    @Test func listRulesReadTheQuery() async throws {
        let rules = try compile(firestore("""
            match /posts/{post} {
              allow list: if request.query.limit <= 20 && request.method == 'list';
            }
            """))
        #expect(await rules.decide(.list, "posts/p", query: RulesQuery(limit: 20)).allowed)
        #expect(await !rules.decide(.list, "posts/p", query: RulesQuery(limit: 21)).allowed)
        #expect(await !rules.decide(.list, "posts/p", query: RulesQuery()).allowed)
        #expect(await !rules.decide(.get, "posts/p").allowed)
    }

    @Test func aLockedRulesetDeniesEverything() async {
        let locked = Ruleset.locked(.firestore)
        for method in RulesMethod.allCases {
            let decision = await locked.decide(method, "users/alice", auth: alice, writing: [:])
            #expect(!decision.allowed)
            #expect(decision.explanation == "no rule matches /databases/(default)/documents/users/alice for \(method.rawValue)")
        }
    }
}
