import FlintCore
@testable import FlintServer
import Testing

/// The hub's index: a change is matched only against the targets it can concern.
@Suite struct SubscriptionHubTests {
    func query(_ json: String) throws -> ListenTarget {
        .query(try Query(json: JSON(parsing: json)))
    }

    func change(_ path: String, _ fields: [String: Value]?) throws -> Change {
        let documentPath = try DocumentPath(path)
        return Change(
            path: documentPath,
            document: fields.map { Document(path: documentPath, fields: $0, createTime: .min, updateTime: .min, version: 1) })
    }

    @Test func aChangeIsMatchedOnlyAgainstTargetsFiledUnderItsCollectionAndValues() throws {
        var state = SubscriptionHub.State()
        // 1,000 listeners on other authors' messages, and in other rooms.
        for i in 0..<1000 {
            let target = try query(#"{"collection": "rooms/r\#(i % 10)/messages", "where": {"field": "author", "op": "==", "value": "user\#(i)"}}"#)
            state.addTarget(.init(connection: i, target: 1), TargetState(target: target, documents: [], since: 0))
        }
        let alice = SubscriptionHub.TargetKey(connection: 5000, target: 1)
        state.addTarget(alice, TargetState(target: try query(#"{"collection": "rooms/r1/messages", "where": {"field": "author", "op": "==", "value": "alice"}}"#), documents: [], since: 0))
        let everything = SubscriptionHub.TargetKey(connection: 5001, target: 1)
        state.addTarget(everything, TargetState(target: try query(#"{"collection": "rooms/r1/messages"}"#), documents: [], since: 0))
        let group = SubscriptionHub.TargetKey(connection: 5002, target: 1)
        state.addTarget(group, TargetState(target: try query(#"{"collection": "messages", "allDescendants": true, "where": {"field": "n", "op": ">", "value": 1}}"#), documents: [], since: 0))
        let document = SubscriptionHub.TargetKey(connection: 5003, target: 1)
        state.addTarget(document, TargetState(target: .document(try DocumentPath("rooms/r1/messages/m1")), documents: [], since: 0))

        let candidates = state.candidates(for: try change("rooms/r1/messages/m1", ["author": "alice", "n": 2]))
        #expect(candidates == [alice, everything, group, document])
        let other = state.candidates(for: try change("rooms/r2/messages/m9", ["author": "user2"]))
        #expect(other == [.init(connection: 2, target: 1), group])
    }

    @Test func aTargetHoldingADocumentHearsWhenItStopsMatching() throws {
        var state = SubscriptionHub.State()
        let key = SubscriptionHub.TargetKey(connection: 1, target: 1)
        let held = try change("c/d", ["author": "alice"]).document!
        state.addTarget(key, TargetState(target: try query(#"{"collection": "c", "where": {"field": "author", "op": "==", "value": "alice"}}"#), documents: [held], since: 0))
        // The new value files it nowhere, but the target holds the document.
        #expect(state.candidates(for: try change("c/d", ["author": "bob"])) == [key])
        state.removeTarget(key)
        #expect(state.candidates(for: try change("c/d", ["author": "bob"])).isEmpty)
        #expect(state.holders.isEmpty && state.byEquality.isEmpty && state.equalityFields.isEmpty)
    }

    @Test func aWindowThatLostAMemberStaysDueForARefillUntilOneLands() throws {
        var state = SubscriptionHub.State()
        let key = SubscriptionHub.TargetKey(connection: 1, target: 1)
        let query = try Query(json: JSON(parsing: #"{"collection": "c", "orderBy": [{"field": "n"}], "limit": 2}"#))
        let held = try [change("c/a", ["n": 1]).document!, change("c/b", ["n": 2]).document!]
        state.addTarget(key, TargetState(target: .query(query), documents: held, since: 0))
        // A member leaves the full window: it must be read again, at the state of the delivery's last commit.
        var pending = state.deliver([ChangeBatch(sequence: 1, commitTime: .min, changes: [try change("c/a", nil)])])
        #expect(Array(pending.refills.keys) == [key])
        // Sent without it (the commit was not the last of a catch-up): still due with the next delivery.
        state.finish(pending, refilled: [:])
        pending = state.deliver([ChangeBatch(sequence: 2, commitTime: .min, changes: [try change("d/x", ["n": 0])])])
        #expect(Array(pending.refills.keys) == [key])
        state.finish(pending, refilled: [key: [held[1], try change("c/c", ["n": 3]).document!]])
        #expect(state.refillsDue.isEmpty)
        #expect(Set(state.targets[key]!.memberPaths) == [try DocumentPath("c/b"), try DocumentPath("c/c")])
        // A target that goes is no longer due.
        _ = state.deliver([ChangeBatch(sequence: 3, commitTime: .min, changes: [try change("c/b", nil)])])
        #expect(state.refillsDue == [key])
        state.removeTarget(key)
        #expect(state.refillsDue.isEmpty)
    }
}
