import FlintCore
import FlintTestSupport
@testable import FlintServer
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// A commit's `mutationId`: the same id from the same caller is applied once and answered with its first result,
/// over REST and the realtime socket, concurrently and across a restart.
@Suite struct MutationIdTests {
    static let increment = #"{"writes": [{"op": "update", "path": "counters/c", "transforms": [{"field": "n", "increment": 1}]}], "mutationId": "m-1"}"#

    @Test func theSameMutationIdTwiceIsAppliedOnceAndAnsweredTheSame() async throws {
        try await TestServer.run { http in
            let first = try await http.send(.post, "/v1/commit", body: Self.increment)
            let second = try await http.send(.post, "/v1/commit", body: Self.increment)
            #expect(first.status == .ok)
            #expect(second.status == .ok)
            #expect(try first.json == second.json)
            #expect(try await http.send(.get, "/v1/documents/counters/c").json["data"] == .object(["n": .integer(1)]))
            // No commit was made for the repeat: the next one gets the next sequence number.
            let other = try await http.send(.post, "/v1/commit", body: #"{"writes": [{"op": "set", "path": "x/y", "data": {}}]}"#)
            #expect(try other.json["version"] == .integer(2))
        }
    }

    @Test func aRepeatIsAnsweredEvenWhenItsPreconditionAndRulesNoLongerHold() async throws {
        // Signed out, so the commit goes through the security rules; `exists: false` fails once the first copy applied.
        try await TestServer.run { http in
            let create = #"{"writes": [{"op": "set", "path": "rooms/r1", "data": {"a": 1}, "precondition": {"exists": false}}], "mutationId": "create-r1"}"#
            let first = try await http.send(.post, "/v1/commit", body: create)
            let second = try await http.send(.post, "/v1/commit", body: create)
            #expect(first.status == .ok)
            #expect(second.status == .ok, "\(second.text)")
            #expect(try first.json == second.json)
            // Without a mutation id the same commit is a new one, and its precondition fails.
            let again = try await http.send(.post, "/v1/commit", body: #"{"writes": [{"op": "set", "path": "rooms/r1", "data": {"a": 1}, "precondition": {"exists": false}}]}"#)
            #expect(again.errorCode == "already-exists")
        }
    }

    @Test func concurrentCopiesOfOneMutationApplyOnce() async throws {
        try await TestServer.run { http in
            let answers = try await withThrowingTaskGroup(of: JSON.self) { group in
                for _ in 0..<8 {
                    group.addTask { try await http.send(.post, "/v1/commit", body: Self.increment).json }
                }
                return try await group.reduce(into: [JSON]()) { $0.append($1) }
            }
            #expect(Set(answers.map(\.text)).count == 1)
            #expect(try await http.send(.get, "/v1/documents/counters/c").json["data"] == .object(["n": .integer(1)]))
        }
    }

    @Test func mutationIdsAreScopedToTheCaller() async throws {
        try await TestServer.run { http in
            let ada = try await http.signUp("ada@example.com")
            let bob = try await http.signUp("bob@example.com")
            let a = try await http.send(.post, "/v1/commit", body: Self.increment, headers: ada.headers)
            let b = try await http.send(.post, "/v1/commit", body: Self.increment, headers: bob.headers)
            #expect(try a.json["version"] != b.json["version"])
            #expect(try await http.send(.get, "/v1/documents/counters/c").json["data"] == .object(["n": .integer(2)]))
        }
    }

    @Test(arguments: [#""""#, "\"\(String(repeating: "x", count: 129))\"", "7", "null"])
    func aBadMutationIdIsRefused(_ id: String) async throws {
        try await TestServer.run { http in
            let reply = try await http.send(.post, "/v1/commit", body: #"{"writes": [{"op": "delete", "path": "a/b"}], "mutationId": \#(id)}"#)
            #expect(reply.errorCode == "invalid-argument")
            #expect(reply.errorMessage?.contains("mutationId") == true)
        }
    }

    @Test func theRealtimeCommitAndRESTShareMutationIds() async throws {
        try await TestServer.run { http in
            let socket = RealtimeTestClient(port: try #require(http.port))
            defer { socket.close() }
            let commit = #"{"type": "commit", "id": "w1", "mutationId": "m-1", "writes": [{"op": "update", "path": "counters/c", "transforms": [{"field": "n", "increment": 1}]}]}"#
            socket.send(commit)
            let first = try #require(await socket.next(ofType: "committed", "error"))
            socket.send(commit.replacingOccurrences(of: "\"w1\"", with: "\"w2\""))
            let second = try #require(await socket.next(ofType: "committed", "error"))
            #expect(first.member("type") == .string("committed"))
            #expect(second.member("id") == .string("w2"))
            #expect(first.member("version") == second.member("version"))
            let rest = try await http.send(.post, "/v1/commit", body: Self.increment)
            #expect(try rest.json["version"] == first.member("version"))
            #expect(try await http.send(.get, "/v1/documents/counters/c").json["data"] == .object(["n": .integer(1)]))
        }
    }

    @Test func aMutationIdIsRememberedAcrossARestart() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let server = try await ServerProcess(dataDirectory: directory.path)
        let first = try await server.http.send(.post, "/v1/commit", body: Self.increment)
        #expect(first.status == .ok)
        try await server.stop(signal: SIGKILL)
        let restarted = try await ServerProcess(dataDirectory: directory.path)
        let second = try await restarted.http.send(.post, "/v1/commit", body: Self.increment)
        #expect(try first.json == second.json)
        #expect(try await restarted.http.send(.get, "/v1/documents/counters/c").json["data"] == .object(["n": .integer(1)]))
        try await restarted.stop(signal: SIGKILL)
    }

    @Test(arguments: StoreKind.available)
    func mutationIdsAreForgottenWithTheChangeLog(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let write = Write(path: try DocumentPath("counters/c"), operation: .update(data: [:], mask: []),
                              transforms: [.init(field: try FieldPath("n"), kind: .increment(.integer(1)))])
            let commit = try Commit(writes: [write], mutationId: "m-1")
            let first = try await store.commit(commit)
            #expect(try await store.commit(commit).version == first.version)
            #expect(try await store.appliedMutation("m-1")?.version == first.version)
            try await store.compactChangeLog(before: Timestamp(microseconds: first.commitTime.microseconds + 1))
            #expect(try await store.appliedMutation("m-1") == nil)
            #expect(try await store.commit(commit).version == first.version + 1)
        }
    }
}
