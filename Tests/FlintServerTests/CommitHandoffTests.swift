import FlintCore
@testable import FlintServer
import Testing

/// The hand-off from PostgreSQL's writer to the change-log tailer: wake-ups coalesce, what they announce does not.
@Suite struct CommitHandoffTests {
    func batches(_ sequences: ClosedRange<Int64>) -> [ChangeBatch] {
        sequences.map { ChangeBatch(sequence: $0, commitTime: .min, changes: []) }
    }

    @Test func everythingGatheredSinceTheLastTakeIsTakenOnce() async {
        let handoff = CommitHandoff()
        handoff.committed(batches(1...2))
        handoff.readLog()
        handoff.committed(batches(5...5))
        // Three announcements, one wake-up waiting.
        var wakeups = handoff.wakeups.makeAsyncIterator()
        #expect(await wakeups.next() != nil)
        let taken = handoff.take()
        #expect(taken.own.map(\.sequence) == [1, 2, 5])
        #expect(taken.readLog)
        let again = handoff.take()
        #expect(again.own.isEmpty && !again.readLog)
    }

    @Test func ownCommitsBeyondTheLimitAreDroppedForTheLog() {
        let handoff = CommitHandoff(limit: 3)
        handoff.committed(batches(1...2))
        handoff.committed(batches(3...4))
        let taken = handoff.take()
        #expect(taken.own.isEmpty)
        #expect(taken.readLog)
    }
}
