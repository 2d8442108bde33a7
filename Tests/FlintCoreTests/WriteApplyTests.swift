import FlintTestSupport
import Testing
@testable import FlintCore

@Suite struct WriteApplyTests {
    static let commitTime = Timestamp(microseconds: 1_800_000_000_000_000)
    static let path = try! DocumentPath("c/d")

    func stored(_ fields: [String: Value], version: Int64 = 3) throws -> Document {
        try document("c/d", fields, version: version, updateTime: Timestamp(microseconds: 1_000))
    }

    func set(_ data: [String: Value], merge: Bool = false, _ transforms: [Write.FieldTransform] = []) -> Write {
        Write(path: Self.path, operation: .set(data: data, merge: merge), transforms: transforms)
    }

    func update(_ data: [String: Value], mask: [String]? = nil, _ transforms: [Write.FieldTransform] = []) throws -> Write {
        Write(path: Self.path, operation: .update(data: data, mask: try mask?.map { try FieldPath($0) }), transforms: transforms)
    }

    func transform(_ fieldText: String, _ kind: Write.FieldTransform.Kind) throws -> Write.FieldTransform {
        Write.FieldTransform(field: try FieldPath(fieldText), kind: kind)
    }

    /// The fields after applying `transforms` (in an update with no data) to a document holding `f` = `current`.
    func transformed(_ current: Value?, _ kind: Write.FieldTransform.Kind) throws -> Value? {
        let fields: [String: Value] = current.map { ["f": $0] } ?? [:]
        let write = try update([:], [transform("f", kind)])
        return try write.apply(to: stored(fields), commitTime: Self.commitTime)?["f"]
    }

    // MARK: set

    @Test func setReplacesEveryField() throws {
        let current = try stored(["a": 1, "b": ["c": 2]])
        #expect(try set(["x": 1]).apply(to: current, commitTime: Self.commitTime) == ["x": 1])
        #expect(try set([:]).apply(to: current, commitTime: Self.commitTime) == [:])
    }

    @Test func setCreatesAMissingDocument() throws {
        #expect(try set(["x": 1]).apply(to: nil, commitTime: Self.commitTime) == ["x": 1])
        #expect(try set(["x": 1], merge: true).apply(to: nil, commitTime: Self.commitTime) == ["x": 1])
    }

    @Test func setWithMergeMergesMapsDeeply() throws {
        let current = try stored(["a": ["x": 1, "y": 2, "deep": ["p": 1]], "b": 1])
        let result = try set(["a": ["y": 3, "z": 4, "deep": ["q": 2]], "c": [1]], merge: true)
            .apply(to: current, commitTime: Self.commitTime)
        #expect(result == ["a": ["x": 1, "y": 3, "z": 4, "deep": ["p": 1, "q": 2]], "b": 1, "c": [1]])
    }

    @Test func setWithMergeReplacesArraysAndScalarsWhole() throws {
        let current = try stored(["a": [1, 2], "s": ["m": 1], "n": 1])
        let result = try set(["a": [3], "s": "x", "n": ["k": true]], merge: true).apply(to: current, commitTime: Self.commitTime)
        #expect(result == ["a": [3], "s": "x", "n": ["k": true]])
    }

    @Test func setWithMergeAndAnEmptyMapSetsAnEmptyMap() throws {
        let current = try stored(["a": ["x": 1], "b": 2])
        #expect(try set(["a": [:]], merge: true).apply(to: current, commitTime: Self.commitTime) == ["a": [:], "b": 2])
    }

    // MARK: update

    @Test func updateWithoutAMaskChangesEveryLeafOfItsData() throws {
        let current = try stored(["a": ["x": 1, "y": 2], "b": 1])
        #expect(try update(["a": ["y": 3]]).apply(to: current, commitTime: Self.commitTime) == ["a": ["x": 1, "y": 3], "b": 1])
    }

    @Test func updateWithAMaskChangesOnlyTheMaskedFields() throws {
        let current = try stored(["a": 1, "b": ["c": 2, "d": 3], "e": 5])
        let write = try update(["a": 10, "e": 50, "b": ["c": 20, "d": 30]], mask: ["a", "b.c"])
        #expect(try write.apply(to: current, commitTime: Self.commitTime) == ["a": 10, "b": ["c": 20, "d": 3], "e": 5])
    }

    @Test func aMaskedFieldAbsentFromTheDataIsDeleted() throws {
        let current = try stored(["a": 1, "b": ["c": 2, "d": 3], "keep": true])
        let write = try update([:], mask: ["a", "b.c", "missing", "missing.too"])
        #expect(try write.apply(to: current, commitTime: Self.commitTime) == ["b": ["d": 3], "keep": true])
    }

    @Test func deletingTheLastFieldOfAMapLeavesAnEmptyMap() throws {
        let current = try stored(["b": ["c": 1]])
        #expect(try update([:], mask: ["b.c"]).apply(to: current, commitTime: Self.commitTime) == ["b": [:]])
    }

    @Test func aMaskedPathThroughANonMapDeletesNothing() throws {
        let current = try stored(["a": 1, "s": "x"])
        #expect(try update([:], mask: ["a.b", "s.t.u"]).apply(to: current, commitTime: Self.commitTime) == ["a": 1, "s": "x"])
    }

    @Test func aMaskedMapReplacesTheWholeField() throws {
        let current = try stored(["a": ["x": 1, "y": 2]])
        #expect(try update(["a": ["y": 3]], mask: ["a"]).apply(to: current, commitTime: Self.commitTime) == ["a": ["y": 3]])
    }

    @Test func anUpdateBelowANonMapReplacesIt() throws {
        let current = try stored(["a": 1])
        #expect(try update(["a": ["b": 2]], mask: ["a.b"]).apply(to: current, commitTime: Self.commitTime) == ["a": ["b": 2]])
    }

    @Test func updateCreatesAMissingDocument() throws {
        #expect(try update(["a": ["b": 1]]).apply(to: nil, commitTime: Self.commitTime) == ["a": ["b": 1]])
    }

    @Test func dottedUpdateKeysChangeNestedFieldsOnly() throws {
        let data = try Write.updateData(json(#"{"a.b": 1, "c": {"d": 2}}"#), context: "data")
        let current = try stored(["a": ["b": 0, "keep": 1], "c": ["d": 0, "e": 1]])
        // Without a mask, each leaf of the data is a path: c.d changes, c.e stays.
        #expect(try update(data.fields).apply(to: current, commitTime: Self.commitTime) == ["a": ["b": 1, "keep": 1], "c": ["d": 2, "e": 1]])
        // With the keys as the mask (what JSON updates carry), a.b changes within a, and c is replaced whole.
        let masked = Write(path: Self.path, operation: .update(data: data.fields, mask: data.paths))
        #expect(try masked.apply(to: current, commitTime: Self.commitTime) == ["a": ["b": 1, "keep": 1], "c": ["d": 2]])
    }

    // MARK: delete

    @Test func deleteRemovesTheDocument() throws {
        let write = Write(path: Self.path, operation: .delete)
        #expect(try write.apply(to: stored(["a": 1]), commitTime: Self.commitTime) == nil)
        #expect(try write.apply(to: nil, commitTime: Self.commitTime) == nil)
    }

    // MARK: updateData

    @Test func updateDataExpandsDottedKeysIntoNestedMaps() throws {
        let data = try Write.updateData(json(#"{"a.b": 1, "a.c": 2, "x": {"y": 3}, "`p.q`": 4, "$$d": 5}"#), context: "data")
        #expect(data.fields == ["a": ["b": 1, "c": 2], "x": ["y": 3], "p.q": 4, "$d": 5])
        #expect(data.paths.map(\.description).sorted() == ["`$d`", "`p.q`", "a.b", "a.c", "x"])
    }

    @Test(arguments: [
        #"{"a": {"b": 1}, "a.c": 2}"#,
        #"{"a.b": 1, "a.b.c": 2}"#,
        #"{"a": 1, "`a`": 2}"#,
        #"{"x.y.z": 1, "x": 2}"#,
    ])
    func overlappingUpdatePathsAreRejected(text: String) {
        expectFlintError(.invalidArgument, mentioning: "data", "overlap") { try Write.updateData(json(text), context: "data") }
    }

    @Test(arguments: [
        (#"{"$x": 1}"#, "escape a key that starts with $"),
        (#"{"$timestamp": "2026-11-24T10:00:00Z"}"#, "escape a key that starts with $"),
        (#"{"a..b": 1}"#, "empty segment"),
        (#"{"": 1}"#, "empty"),
        (#"{"__x__": 1}"#, "reserved"),
        (#"{"__name__": 1}"#, "__name__"),
        (#"{"a.b": {"$bytes": "!"}}"#, "data.a.b"),
        (#"[1]"#, "data must be a JSON object"),
    ])
    func malformedUpdateDataIsRejected(text: String, fragment: String) {
        expectFlintError(.invalidArgument, mentioning: fragment) { try Write.updateData(json(text), context: "data") }
    }

    // MARK: transforms

    @Test(arguments: [
        (nil, Value.integer(1), Value.integer(1)),
        (5, 2, 7),
        (5, -7, -2),
        (5, 2.5, 7.5),
        (5.5, 2, 7.5),
        (0.1, 0.2, 0.30000000000000004),
        (.integer(.max), 1, .integer(.max)),
        (.integer(.max - 1), 5, .integer(.max)),
        (.integer(.min), -1, .integer(.min)),
        (.integer(.min + 1), -5, .integer(.min)),
        (.integer(.max), -1, .integer(.max - 1)),
        (.integer(.max), .integer(.min), -1),
        (.integer(.max), 1.0, .double(9.223372036854775807e18)),
        ("x", 3, 3),
        (nil, 2.5, 2.5),
        (.null, 3, 3),
        ([1], 2.5, 2.5),
        (["k": 1], 1, 1),
        (.double(.infinity), -1, .double(.infinity)),
        (1, .double(.nan), .double(.nan)),
    ] as [(Value?, Value, Value)])
    func incrementAddsWithSaturationAndDoublesWin(current: Value?, operand: Value, expected: Value) throws {
        #expect(try transformed(current, .increment(operand)) == expected)
    }

    @Test(arguments: [
        (nil, Value.integer(3), Value.integer(3)),
        (5, 3, 5),
        (3, 5, 5),
        (3, 3.0, 3),  // equivalent: the stored value stays, type and all
        (3.0, 3, 3.0),
        (3, 3.5, 3.5),
        (3.5, 4, 4),
        ("x", 1, 1),
        (.null, 1, 1),
        (0.0, -0.0, 0.0),
        (-0.0, 0, -0.0),
        (.double(-.infinity), .integer(.min), .integer(.min)),
        (.double(.nan), 1, .double(.nan)),  // the maximum of NaN and any number is NaN
        (1, .double(.nan), .double(.nan)),
    ] as [(Value?, Value, Value)])
    func maximumKeepsTheLargerNumber(current: Value?, operand: Value, expected: Value) throws {
        #expect(try transformed(current, .maximum(operand)) == expected)
    }

    @Test(arguments: [
        (nil, Value.integer(3), Value.integer(3)),
        (5, 3, 3),
        (3, 5, 3),
        (3, 3.0, 3),
        (3.0, 3, 3.0),
        (3, 2.5, 2.5),
        ("x", 1, 1),
        ([1], 9, 9),
        (-0.0, 0, -0.0),
        (.double(.nan), 1, .double(.nan)),  // the minimum of NaN and any number is NaN
        (1, .double(.nan), .double(.nan)),
    ] as [(Value?, Value, Value)])
    func minimumKeepsTheSmallerNumber(current: Value?, operand: Value, expected: Value) throws {
        #expect(try transformed(current, .minimum(operand)) == expected)
    }

    @Test(arguments: [
        (nil, [1, 2], [1, 2]),
        ([1, 2], [2, 3], [1, 2, 3]),
        ([1], [1.0], [1]),  // equivalent numbers are present already
        ([.double(.nan)], [.double(.nan)], [.double(.nan)]),
        ([nil], [nil, "a"], [nil, "a"]),
        ([], [1, 1, 1.0, 2, 2], [1, 2]),  // only the first of equivalent inputs
        ("x", [1], [1]),
        ([1, 1], [1], [1, 1]),  // duplicates already stored stay
        ([["a": 1]], [["a": 1], ["a": 2]], [["a": 1], ["a": 2]]),
        (["é"], ["e\u{301}"], ["é", "e\u{301}"]),
    ] as [(Value?, [Value], [Value])])
    func arrayUnionAppendsMissingElementsInOrder(current: Value?, elements: [Value], expected: [Value]) throws {
        #expect(try transformed(current, .arrayUnion(elements)) == .array(expected))
    }

    @Test(arguments: [
        (nil, [1], []),
        ([1, 2, 1, 3], [1], [2, 3]),  // every occurrence
        ([1, 2.0, 3], [2], [1, 3]),
        ([.double(.nan), nil, 1], [.double(.nan), nil], [1]),
        ("x", [1], []),
        ([1, 2], [], [1, 2]),
        ([[1], [2]], [[1]], [[2]]),
    ] as [(Value?, [Value], [Value])])
    func arrayRemoveRemovesEveryEquivalentElement(current: Value?, elements: [Value], expected: [Value]) throws {
        #expect(try transformed(current, .arrayRemove(elements)) == .array(expected))
    }

    @Test func serverTimestampWritesTheCommitTime() throws {
        #expect(try transformed(nil, .serverTimestamp) == .timestamp(Self.commitTime))
        #expect(try transformed("old", .serverTimestamp) == .timestamp(Self.commitTime))
        let nested = try update([:], [transform("meta.seen.at", .serverTimestamp)])
        #expect(try nested.apply(to: stored(["meta": ["n": 1]]), commitTime: Self.commitTime) == [
            "meta": ["n": 1, "seen": ["at": .timestamp(Self.commitTime)]]
        ])
    }

    @Test func deleteTransformRemovesTheField() throws {
        let write = try update([:], [transform("a.b", .delete), transform("gone", .delete), transform("x", .delete)])
        #expect(try write.apply(to: stored(["a": ["b": 1, "c": 2], "x": 1]), commitTime: Self.commitTime) == ["a": ["c": 2]])
        #expect(try write.apply(to: nil, commitTime: Self.commitTime) == [:])
    }

    @Test func transformsCreateMissingParentsAndReplaceNonMaps() throws {
        let write = try update([:], [transform("a.b.c", .increment(1)), transform("s.t", .increment(2))])
        #expect(try write.apply(to: stored(["s": "text"]), commitTime: Self.commitTime) == ["a": ["b": ["c": 1]], "s": ["t": 2]])
    }

    @Test func transformsApplyAfterTheDataInOrder() throws {
        let transforms = try [
            transform("n", .increment(2)), transform("n", .maximum(10)), transform("n", .increment(0.5)),
            transform("tags", .arrayUnion(["b"])),
        ]
        #expect(try set(["n": 1, "tags": ["a"]], transforms).apply(to: nil, commitTime: Self.commitTime) == [
            "n": 10.5, "tags": ["a", "b"],
        ])
        let current = try stored(["n": 100, "tags": ["z"]])
        #expect(try update(["n": 5], transforms).apply(to: current, commitTime: Self.commitTime) == ["n": 10.5, "tags": ["z", "b"]])
        #expect(try set([:], merge: true, transforms).apply(to: current, commitTime: Self.commitTime) == ["n": 102.5, "tags": ["z", "b"]])
    }

    // MARK: depth

    @Test func documentsMayNestTwentyLevels() throws {
        let twenty = (0..<20).map { "f\($0)" }
        var leaf: [String: Value] = [:]
        Value.setField(&leaf, path: twenty[...], to: 1)
        let fields = try update(leaf).apply(to: nil, commitTime: Self.commitTime)!
        #expect(Value.map(fields).depth == Value.maximumDepth)
        // What a write produces reads back from its JSON form.
        #expect(try Value(json: JSON(parsing: Value.map(fields).json.serialized)) == .map(fields))
        #expect(try set(["a": nestedArrays(19)]).apply(to: nil, commitTime: Self.commitTime) != nil)
    }

    @Test func writesThatWouldNestDeeperThanTwentyLevelsAreRejected() throws {
        let twenty = (0..<20).map { "f\($0)" }
        var deep: [String: Value] = [:]
        Value.setField(&deep, path: twenty[...], to: ["x": 1])
        expectFlintError(.invalidArgument, mentioning: "c/d", "at most \(Value.maximumDepth)") {
            try update(deep).apply(to: nil, commitTime: Self.commitTime)
        }
        expectFlintError(.invalidArgument, mentioning: "at most \(Value.maximumDepth)") {
            try set(["a": nestedArrays(20)]).apply(to: nil, commitTime: Self.commitTime)
        }
        // An update of a shallow path whose value is deep.
        let viaJSON = try Write.updateData(
            json(#"{"a.b": \#(nestedArrayText(Value.maximumDepth - 1))}"#), context: "data")
        expectFlintError(.invalidArgument) { try update(viaJSON.fields).apply(to: nil, commitTime: Self.commitTime) }
        // A transform that reaches below the limit.
        var nineteen: [String: Value] = [:]
        Value.setField(&nineteen, path: twenty.prefix(19)[...], to: 1)
        expectFlintError(.invalidArgument) {
            try update([:], [transform((twenty.prefix(19) + ["x"]).joined(separator: "."), .arrayUnion([1]))])
                .apply(to: stored(nineteen), commitTime: Self.commitTime)
        }
    }

    @Test(arguments: [71, 72, 73] as [UInt64])
    func whatAWriteProducesAlwaysReadsBackFromJSON(seed: UInt64) throws {
        // Writes that merge values of random depth into documents of random depth, around the limit:
        // each either fails with invalid-argument or gives fields whose JSON form reads back unchanged.
        var generator = ValueGenerator(seed: seed)
        var accepted = 0, rejected = 0
        for _ in 0..<100 {
            func fields(_ generator: inout ValueGenerator) -> [String: Value] {
                var fields: [String: Value] = [:]
                for _ in 0..<generator.int(1...3) {
                    fields[generator.pick(["a", "b"])] = generator.deepValue(levels: generator.int(0...Value.maximumDepth))
                }
                return fields
            }
            let current = try stored(fields(&generator))
            let data = fields(&generator)
            let write = generator.chance(50) ? set(data, merge: true) : try update(data)
            do {
                let result = try write.apply(to: current, commitTime: Self.commitTime)!
                accepted += 1
                #expect(try Value(json: JSON(parsing: Value.map(result).json.serialized)) == .map(result))
            } catch {
                rejected += 1
                #expect(error.code == .invalidArgument)
            }
        }
        #expect(accepted > 0 && rejected > 0)
    }

    // MARK: preconditions

    enum Stored: Sendable, CustomTestStringConvertible {
        case missing, atVersion3
        var testDescription: String { self == .missing ? "missing" : "at version 3" }
    }

    @Test(arguments: [
        (Write.Precondition.exists(true), Stored.missing, FlintError.Code?.some(.notFound)),
        (.exists(true), .atVersion3, nil),
        (.exists(false), .atVersion3, .alreadyExists),
        (.exists(false), .missing, nil),
        (.version(3), .atVersion3, nil),
        (.version(4), .atVersion3, .failedPrecondition),
        (.version(3), .missing, .failedPrecondition),
        (.version(0), .missing, .failedPrecondition),
        (.updateTime(Timestamp(microseconds: 1_000)), .atVersion3, nil),
        (.updateTime(Timestamp(microseconds: 1_001)), .atVersion3, .failedPrecondition),
        (.updateTime(Timestamp(microseconds: 1_000)), .missing, .failedPrecondition),
    ] as [(Write.Precondition, Stored, FlintError.Code?)])
    func preconditionsFailWithFirestoresCodes(precondition: Write.Precondition, stored: Stored, code: FlintError.Code?) throws {
        let current = stored == .missing ? nil : try self.stored(["a": 1], version: 3)
        for operation in [Write.Operation.delete, .set(data: [:], merge: false), .update(data: [:], mask: nil)] {
            let write = Write(path: Self.path, operation: operation, precondition: precondition)
            if let code {
                expectFlintError(code, mentioning: "c/d") { try write.checkPrecondition(against: current) }
            } else {
                #expect(throws: Never.self) { try write.checkPrecondition(against: current) }
            }
        }
    }

    @Test func noPreconditionAlwaysHolds() throws {
        let write = set([:])
        try write.checkPrecondition(against: nil)
        try write.checkPrecondition(against: stored([:]))
    }

    // MARK: commits

    @Test func aCommitNeedsOneTo500Writes() throws {
        let write = Write(path: Self.path, operation: .delete)
        expectFlintError(.invalidArgument, mentioning: "at least one write") { try Commit(writes: []) }
        expectFlintError(.invalidArgument, mentioning: "501 writes", "at most 500") {
            try Commit(writes: Array(repeating: write, count: 501))
        }
        #expect(try Commit(writes: [write]).writes.count == 1)
        #expect(try Commit(writes: Array(repeating: write, count: 500)).writes.count == 500)
    }

    @Test func commitResultsReportEachWrite() throws {
        let doc = try stored(["a": 1])
        let result = CommitResult(
            version: 7, commitTime: Self.commitTime,
            writeResults: [
                WriteResult(path: Self.path, document: doc, updateTime: Self.commitTime, version: 7),
                WriteResult(path: try DocumentPath("c/gone"), document: nil, updateTime: Self.commitTime, version: 7),
            ])
        let time = JSON.string(Self.commitTime.description)
        #expect(result.json == .object([
            "version": .integer(7), "commitTime": time,
            "writeResults": .array([
                .object(["path": .string("c/d"), "exists": .bool(true), "updateTime": time, "version": .integer(7)]),
                .object(["path": .string("c/gone"), "exists": .bool(false), "updateTime": time, "version": .integer(7)]),
            ]),
        ]))
    }
}
