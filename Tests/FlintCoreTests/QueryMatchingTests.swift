import FlintTestSupport
import Testing
@testable import FlintCore

@Suite struct QueryMatchingTests {
    func filter(_ fieldText: String, _ op: Query.Operator, _ value: Value) throws -> Query.FieldFilter {
        Query.FieldFilter(field: try field(fieldText), op: op, value: value)
    }

    func query(_ text: String) throws -> Query { try Query(json: JSON(parsing: text)) }

    /// The ids of the documents a query returns, in order.
    func ids(_ q: Query, _ documents: [Document]) -> [String] { q.evaluate(over: documents).map(\.path.id) }

    // MARK: Single comparisons

    @Test(arguments: Query.Operator.allCases)
    func aMissingFieldNeverMatches(op: Query.Operator) throws {
        let operand: Value = op.takesList ? [1, nil] : 1
        #expect(try !filter("f", op, operand).matches(nil))
        let doc = try document("c/d", ["g": 1])
        #expect(try !Query.Filter.field(filter("f", op, operand)).matches(doc))
    }

    @Test func equalityMatchesNumbersByValue() throws {
        #expect(try filter("f", .equal, 1).matches(.double(1.0)))
        #expect(try filter("f", .equal, 1.0).matches(.integer(1)))
        #expect(try filter("f", .equal, 0).matches(.double(-0.0)))
        #expect(try !filter("f", .equal, 1).matches(.double(1.5)))
        #expect(try !filter("f", .equal, 1).matches(.string("1")))
        #expect(try !filter("f", .equal, 1).matches(.bool(true)))
    }

    @Test func equalityMatchesNullAndNaNOnlyThemselves() throws {
        #expect(try filter("f", .equal, nil).matches(.null))
        #expect(try !filter("f", .equal, nil).matches(.integer(0)))
        #expect(try !filter("f", .equal, nil).matches(.string("")))
        #expect(try filter("f", .equal, .double(.nan)).matches(.double(.nan)))
        #expect(try !filter("f", .equal, .double(.nan)).matches(.integer(0)))
    }

    @Test func equalityComparesStringsByBytes() throws {
        #expect(try !filter("f", .equal, "é").matches(.string("e\u{301}")))
        #expect(try filter("f", .equal, "é").matches(.string("é")))
    }

    @Test func equalityComparesArraysAndMapsWhole() throws {
        #expect(try filter("f", .equal, [1, "a"]).matches([1.0, "a"]))
        #expect(try !filter("f", .equal, [1, "a"]).matches(["a", 1]))
        #expect(try filter("f", .equal, ["x": 1]).matches(["x": 1]))
        #expect(try !filter("f", .equal, ["x": 1]).matches(["x": 1, "y": 2]))
    }

    @Test func notEqualNeverMatchesNull() throws {
        #expect(try !filter("f", .notEqual, 1).matches(.null))
        #expect(try !filter("f", .notEqual, nil).matches(.null))
        #expect(try filter("f", .notEqual, nil).matches(.integer(0)))
        #expect(try filter("f", .notEqual, 1).matches(.integer(2)))
        #expect(try filter("f", .notEqual, 1).matches(.string("1")))  // other types match
        #expect(try !filter("f", .notEqual, 1).matches(.double(1.0)))
        #expect(try filter("f", .notEqual, .double(.nan)).matches(.integer(1)))
        #expect(try !filter("f", .notEqual, .double(.nan)).matches(.double(.nan)))
    }

    @Test(arguments: [
        (Query.Operator.lessThan, Value.integer(5), Value.integer(4), true),
        (.lessThan, 5, 5, false),
        (.lessThan, 5, 4.5, true),
        (.lessThanOrEqual, 5, 5.0, true),
        (.lessThanOrEqual, 5, 5.5, false),
        (.greaterThan, 5, 6, true),
        (.greaterThan, 5, 5.0, false),
        (.greaterThanOrEqual, 5, 5, true),
        (.greaterThanOrEqual, 5, 4, false),
        (.greaterThan, "b", "c", true),
        (.greaterThan, "b", "a", false),
        (.lessThan, "é", "e\u{301}", true),
        (.greaterThan, .timestamp(Timestamp(microseconds: 0)), .timestamp(Timestamp(microseconds: 1)), true),
        (.lessThan, [1, 2], [1], true),
        (.greaterThan, ["a": 1], ["a": 2], true),
        (.greaterThanOrEqual, .double(-.infinity), .double(-1e308), true),
        // Only values of the same type order match.
        (.greaterThan, 1, "2", false),
        (.lessThan, "a", 5, false),
        (.greaterThan, 1, .timestamp(Timestamp(microseconds: 0)), false),
        (.lessThan, .timestamp(.max), 5, false),
        (.greaterThan, false, nil, false),
        (.lessThan, 1, nil, false),
        (.lessThan, 1, false, false),
        (.greaterThanOrEqual, [], ["a": 1], false),
        (.lessThanOrEqual, "z", .bytes([0]), false),
    ] as [(Query.Operator, Value, Value, Bool)])
    func rangeOperatorsMatchOnlyTheSameTypeOrder(op: Query.Operator, operand: Value, candidate: Value, matches: Bool) {
        #expect(Query.FieldFilter(field: .documentName, op: op, value: operand).matches(candidate) == matches)
    }

    @Test func inMatchesAnyListedValueByNumericEquality() throws {
        let f = try filter("f", .in, [1, "a", nil, .double(.nan)])
        #expect(f.matches(.integer(1)))
        #expect(f.matches(.double(1)))
        #expect(f.matches(.string("a")))
        #expect(f.matches(.null))
        #expect(f.matches(.double(.nan)))
        #expect(!f.matches(.integer(2)))
        #expect(!f.matches(.array([1])))
    }

    @Test func notInExcludesListedValuesAndNull() throws {
        let f = try filter("f", .notIn, [1, "a"])
        #expect(!f.matches(.integer(1)))
        #expect(!f.matches(.double(1)))
        #expect(!f.matches(.string("a")))
        #expect(!f.matches(.null))
        #expect(f.matches(.integer(2)))
        #expect(f.matches(.string("b")))
        #expect(f.matches(.array([1])))
    }

    @Test func notInWithNullInTheListMatchesNothing() throws {
        // As in Firestore's SDKs: `not-in [null, …]` matches no document.
        let f = try filter("f", .notIn, [nil, 1])
        #expect(!f.matches(.integer(2)))
        #expect(!f.matches(.string("x")))
        #expect(!f.matches(.null))
    }

    @Test func arrayContainsLooksForOneElement() throws {
        let f = try filter("tags", .arrayContains, 2)
        #expect(f.matches([1, 2, 3]))
        #expect(f.matches([2.0]))
        #expect(!f.matches([1, 3]))
        #expect(!f.matches([]))
        #expect(!f.matches(2))  // not an array
        #expect(!f.matches([[2]]))  // not nested
        #expect(try filter("tags", .arrayContains, ["k": 1]).matches([["k": 1]]))
    }

    @Test func arrayContainsAnyLooksForAnyListedElement() throws {
        let f = try filter("tags", .arrayContainsAny, ["x", 1])
        #expect(f.matches(["y", "x"]))
        #expect(f.matches([1.0]))
        #expect(!f.matches(["y"]))
        #expect(!f.matches([]))
        #expect(!f.matches("x"))
        #expect(try filter("tags", .arrayContainsAny, [nil]).matches([nil]))
    }

    // MARK: Filters on documents

    @Test func nestedFieldsAreReachedByTheirPath() throws {
        let doc = try document("c/d", ["address": ["city": "Oslo", "zip": 150]])
        #expect(try Query.Filter.field(filter("address.city", .equal, "Oslo")).matches(doc))
        #expect(try !Query.Filter.field(filter("address.country", .equal, "Oslo")).matches(doc))
        #expect(try !Query.Filter.field(filter("address.city.x", .equal, "Oslo")).matches(doc))
        #expect(try Query.Filter.field(filter("address", .equal, ["city": "Oslo", "zip": 150])).matches(doc))
    }

    @Test func documentNameFiltersCompareReferences() throws {
        let doc = try document("c/m5")
        #expect(Query.Filter.field(.init(field: .documentName, op: .greaterThan, value: try ref("c/m4"))).matches(doc))
        #expect(!Query.Filter.field(.init(field: .documentName, op: .greaterThan, value: try ref("c/m5"))).matches(doc))
        #expect(Query.Filter.field(.init(field: .documentName, op: .equal, value: try ref("c/m5"))).matches(doc))
        #expect(Query.Filter.field(.init(field: .documentName, op: .in, value: [try ref("c/x"), try ref("c/m5")])).matches(doc))
    }

    @Test func andRequiresEveryFilterAndOrAny() throws {
        let doc = try document("c/d", ["a": 1, "b": 2])
        let a1 = Query.Filter.field(try filter("a", .equal, 1))
        let b3 = Query.Filter.field(try filter("b", .equal, 3))
        #expect(!Query.Filter.and([a1, b3]).matches(doc))
        #expect(Query.Filter.or([a1, b3]).matches(doc))
        #expect(!Query.Filter.or([b3, .and([b3, a1])]).matches(doc))
        #expect(Query.Filter.and([a1, .or([b3, a1])]).matches(doc))
    }

    // MARK: Ordering

    @Test func withoutOrderingOrInequalityTheOrderIsByName() throws {
        #expect(try query(#"{"collection": "c"}"#).normalizedOrderBy == [Query.Order(field: .documentName)])
        #expect(try query(#"{"collection": "c", "where": {"field": "a", "op": "==", "value": 1}}"#).normalizedOrderBy == [Query.Order(field: .documentName)])
        #expect(try query(#"{"collection": "c", "where": {"field": "a", "op": "in", "value": [1]}}"#).normalizedOrderBy == [Query.Order(field: .documentName)])
    }

    @Test func documentNameFollowsTheLastExplicitDirection() throws {
        let q = try query(#"{"collection": "c", "orderBy": [{"field": "a"}, {"field": "b", "direction": "desc"}]}"#)
        #expect(q.normalizedOrderBy == [
            Query.Order(field: try field("a")), Query.Order(field: try field("b"), descending: true),
            Query.Order(field: .documentName, descending: true),
        ])
        let asc = try query(#"{"collection": "c", "orderBy": [{"field": "a", "direction": "desc"}, {"field": "b"}]}"#)
        #expect(asc.normalizedOrderBy.last == Query.Order(field: .documentName, descending: false))
    }

    @Test func anExplicitDocumentNameOrderingIsNotRepeated() throws {
        let q = try query(#"{"collection": "c", "orderBy": [{"field": "__name__", "direction": "desc"}, {"field": "a"}]}"#)
        #expect(q.normalizedOrderBy == [Query.Order(field: .documentName, descending: true), Query.Order(field: try field("a"))])
    }

    @Test func inequalityFieldsAreOrderedImplicitlyInFieldOrder() throws {
        let q = try query(
            #"""
            {"collection": "c", "where": {"and": [{"field": "b", "op": ">", "value": 1}, {"field": "a", "op": "!=", "value": 2},
             {"field": "b", "op": "<", "value": 9}, {"field": "z", "op": "==", "value": 0}, {"field": "m", "op": "not-in", "value": [1]}]}}
            """#)
        #expect(q.normalizedOrderBy.map(\.field.description) == ["a", "b", "m", "__name__"])
        #expect(q.normalizedOrderBy.allSatisfy { !$0.descending })
    }

    @Test func implicitInequalityOrderComparesFieldPathsSegmentBySegment() throws {
        // By segments, ["a", "b"] comes before ["a!"]; as dotted text "`a!`" would come first.
        let q = try query(
            #"{"collection": "c", "where": {"and": [{"field": "`a!`", "op": ">", "value": 1}, {"field": "a.b", "op": ">", "value": 1}]}}"#)
        #expect(q.normalizedOrderBy.map(\.field.segments) == [["a", "b"], ["a!"], ["__name__"]])
    }

    @Test func inequalityFieldsMissingFromAnExplicitOrderByFollowItInItsLastDirection() throws {
        // As Firestore normalises: explicit orderings, then the other inequality fields, then __name__.
        let q = try query(
            #"""
            {"collection": "c", "where": {"and": [{"field": "b", "op": ">", "value": 1}, {"field": "a", "op": "<", "value": 5}]},
             "orderBy": [{"field": "c", "direction": "desc"}, {"field": "b", "direction": "desc"}]}
            """#)
        #expect(q.normalizedOrderBy == [
            Query.Order(field: try field("c"), descending: true), Query.Order(field: try field("b"), descending: true),
            Query.Order(field: try field("a"), descending: true), Query.Order(field: .documentName, descending: true),
        ])
    }

    @Test func inequalitiesOnDocumentNameAddNoExtraOrdering() throws {
        let q = try query(#"{"collection": "c", "where": {"field": "__name__", "op": ">", "value": "a"}}"#)
        #expect(q.normalizedOrderBy == [Query.Order(field: .documentName)])
    }

    // MARK: Evaluation

    static let people: [Document] = [
        try! document("people/ann", ["age": 31, "city": "Oslo", "score": 7.5]),
        try! document("people/bob", ["age": 25, "city": "Bergen"]),
        try! document("people/cat", ["age": 31.0, "city": "Oslo", "score": 9]),
        try! document("people/dan", ["city": "Oslo"]),  // no age
        try! document("people/eve", ["age": "forty", "city": "Oslo"]),  // a string sorts after numbers
        try! document("people/fay", ["age": nil, "city": "Tromsø"]),  // null sorts first
        try! document("people/gus", ["age": 19, "city": "Bergen"]),
        try! document("other/hal", ["age": 50]),
        try! document("people/ann/people/ivy", ["age": 40]),
    ]

    @Test func documentsLackingAnOrderedFieldAreExcluded() throws {
        let q = try query(#"{"collection": "people", "orderBy": [{"field": "age"}]}"#)
        #expect(ids(q, Self.people) == ["fay", "gus", "bob", "ann", "cat", "eve"])
        let desc = try query(#"{"collection": "people", "orderBy": [{"field": "age", "direction": "desc"}]}"#)
        #expect(ids(desc, Self.people) == ["eve", "cat", "ann", "bob", "gus", "fay"])
    }

    @Test func equalValuesAreOrderedByNameInTheLastDirection() throws {
        // ann (31) and cat (31.0) tie on age.
        let q = try query(#"{"collection": "people", "orderBy": [{"field": "city"}, {"field": "age"}]}"#)
        #expect(ids(q, Self.people) == ["gus", "bob", "ann", "cat", "eve", "fay"])
    }

    @Test func aFilterOnOneFieldAndAnOrderOnAnotherCombine() throws {
        let q = try query(#"{"collection": "people", "where": {"field": "city", "op": "==", "value": "Oslo"}, "orderBy": [{"field": "score", "direction": "desc"}]}"#)
        #expect(ids(q, Self.people) == ["cat", "ann"])
    }

    @Test func rangeFiltersSelectOnlyNumbersForANumberOperand() throws {
        let q = try query(#"{"collection": "people", "where": {"field": "age", "op": ">=", "value": 25}}"#)
        #expect(ids(q, Self.people) == ["bob", "ann", "cat"])
        let notEqual = try query(#"{"collection": "people", "where": {"field": "age", "op": "!=", "value": 31}}"#)
        #expect(ids(notEqual, Self.people) == ["gus", "bob", "eve"])
    }

    @Test func limitKeepsTheFirstResults() throws {
        let q = try query(#"{"collection": "people", "orderBy": [{"field": "age"}], "limit": 2}"#)
        #expect(ids(q, Self.people) == ["fay", "gus"])
        #expect(try ids(query(#"{"collection": "people", "limit": 0}"#), Self.people) == [])
        #expect(try ids(query(#"{"collection": "people", "limit": 100}"#), Self.people).count == 7)
    }

    @Test func limitToLastKeepsTheLastResultsInQueryOrder() throws {
        let q = try query(#"{"collection": "people", "orderBy": [{"field": "age"}], "limitToLast": 2}"#)
        #expect(ids(q, Self.people) == ["cat", "eve"])
        let desc = try query(#"{"collection": "people", "orderBy": [{"field": "age", "direction": "desc"}], "limitToLast": 3}"#)
        #expect(ids(desc, Self.people) == ["bob", "gus", "fay"])
    }

    @Test(arguments: [
        (#""startAt": [31]"#, ["ann", "cat", "eve"]),
        (#""startAfter": [31]"#, ["eve"]),
        (#""endAt": [31]"#, ["fay", "gus", "bob", "ann", "cat"]),
        (#""endBefore": [31]"#, ["fay", "gus", "bob"]),
        (#""startAt": [31, "cat"]"#, ["cat", "eve"]),
        (#""startAfter": [31, "ann"]"#, ["cat", "eve"]),
        (#""endAt": [31, "ann"]"#, ["fay", "gus", "bob", "ann"]),
        (#""endBefore": [31, "cat"]"#, ["fay", "gus", "bob", "ann"]),
        (#""startAt": [20], "endAt": [31.0]"#, ["bob", "ann", "cat"]),
        (#""startAfter": [null], "endBefore": [{"$double": "Infinity"}]"#, ["gus", "bob", "ann", "cat"]),
        (#""startAt": ["a"]"#, ["eve"]),
        (#""startAfter": [100], "endBefore": [0]"#, []),
    ])
    func cursorsBoundTheResultsInQueryOrder(cursors: String, expected: [String]) throws {
        let q = try query(#"{"collection": "people", "orderBy": [{"field": "age"}], \#(cursors)}"#)
        #expect(ids(q, Self.people) == expected)
    }

    @Test(arguments: [
        (#""startAt": [31]"#, ["cat", "ann", "bob", "gus", "fay"]),
        (#""startAfter": [31]"#, ["bob", "gus", "fay"]),
        (#""endBefore": [25]"#, ["eve", "cat", "ann"]),
        (#""startAt": [31, "ann"]"#, ["ann", "bob", "gus", "fay"]),
    ])
    func cursorsFollowADescendingOrder(cursors: String, expected: [String]) throws {
        let q = try query(#"{"collection": "people", "orderBy": [{"field": "age", "direction": "desc"}], \#(cursors)}"#)
        #expect(ids(q, Self.people) == expected)
    }

    @Test func cursorsOnDocumentNamePage() throws {
        let q = try query(#"{"collection": "people", "startAfter": ["cat"], "limit": 2}"#)
        #expect(ids(q, Self.people) == ["dan", "eve"])
        let end = try query(#"{"collection": "people", "endAt": [{"$ref": "people/bob"}]}"#)
        #expect(ids(end, Self.people) == ["ann", "bob"])
    }

    @Test func cursorsAndLimitToLastCombine() throws {
        let q = try query(#"{"collection": "people", "orderBy": [{"field": "age"}], "endBefore": [31], "limitToLast": 2}"#)
        #expect(ids(q, Self.people) == ["gus", "bob"])
    }

    @Test func aPlainQueryCoversOneCollectionOnly() throws {
        let q = try query(#"{"collection": "people"}"#)
        #expect(ids(q, Self.people) == ["ann", "bob", "cat", "dan", "eve", "fay", "gus"])
        let sub = try query(#"{"collection": "people/ann/people"}"#)
        #expect(ids(sub, Self.people) == ["ivy"])
    }

    @Test func collectionGroupsCoverEveryCollectionWithTheIDBelowTheParent() throws {
        let all = try query(#"{"collection": "people", "allDescendants": true}"#)
        #expect(all.evaluate(over: Self.people).map(\.path.description) == [
            "people/ann", "people/ann/people/ivy", "people/bob", "people/cat", "people/dan", "people/eve", "people/fay",
            "people/gus",
        ])
        let below = try query(#"{"collection": "people/ann/people", "allDescendants": true}"#)
        #expect(ids(below, Self.people) == ["ivy"])
    }

    @Test func scopeChecksParentAndCollectionID() throws {
        let plain = try query(#"{"collection": "rooms/r1/messages"}"#)
        #expect(try plain.isInScope(DocumentPath("rooms/r1/messages/m1")))
        #expect(try !plain.isInScope(DocumentPath("rooms/r2/messages/m1")))
        #expect(try !plain.isInScope(DocumentPath("rooms/r1/messages/m1/messages/m2")))
        #expect(try !plain.isInScope(DocumentPath("rooms/r1")))
        #expect(try !plain.isInScope(DocumentPath("messages/m1")))

        let group = try query(#"{"collection": "rooms/r1/messages", "allDescendants": true}"#)
        #expect(try group.isInScope(DocumentPath("rooms/r1/messages/m1")))
        #expect(try group.isInScope(DocumentPath("rooms/r1/threads/t1/messages/m1")))
        #expect(try group.isInScope(DocumentPath("rooms/r1/messages/m1/messages/m2")))
        #expect(try !group.isInScope(DocumentPath("rooms/r2/messages/m1")))
        #expect(try !group.isInScope(DocumentPath("rooms/r1/threads/t1")))
        #expect(try !group.isInScope(DocumentPath("messages/m1")))

        let rootGroup = try query(#"{"collection": "messages", "allDescendants": true}"#)
        #expect(try rootGroup.isInScope(DocumentPath("messages/m1")))
        #expect(try rootGroup.isInScope(DocumentPath("a/b/c/d/messages/m1")))
        #expect(try !rootGroup.isInScope(DocumentPath("messages/m1/replies/r1")))
    }

    @Test func scopeComparesIDsByBytes() throws {
        let q = try query(#"{"collection": "é"}"#)
        #expect(try q.isInScope(DocumentPath("é/x")))
        #expect(try !q.isInScope(DocumentPath("e\u{301}/x")))
        let group = try query(#"{"collection": "p/é/m", "allDescendants": true}"#)
        #expect(try !group.isInScope(DocumentPath("p/e\u{301}/m/x")))
    }

    @Test func matchesAgreesWithEvaluate() throws {
        let q = try query(#"{"collection": "people", "where": {"field": "city", "op": "in", "value": ["Oslo", "Bergen"]}, "orderBy": [{"field": "age"}], "startAt": [20]}"#)
        let matching = Self.people.filter(q.matches).map(\.path.id).sorted()
        #expect(matching == ids(q, Self.people).sorted())
        #expect(matching == ["ann", "bob", "cat", "eve"])
    }

    @Test func compareOrdersTwoDocumentsByTheNormalizedOrder() throws {
        let q = try query(#"{"collection": "people", "orderBy": [{"field": "age", "direction": "desc"}]}"#)
        let ann = Self.people[0], bob = Self.people[1], cat = Self.people[2]
        #expect(q.compare(ann, bob) < 0)
        #expect(q.compare(cat, ann) < 0)  // equal ages, then __name__ descending
        #expect(q.compare(ann, ann) == 0)
    }

    @Test(arguments: [61, 62, 63] as [UInt64])
    func evaluateAgreesWithABruteForceDefinitionOnRandomDocuments(seed: UInt64) throws {
        var generator = ValueGenerator(seed: seed, maxDepth: 1, small: true)
        var documents: [Document] = []
        for i in 0..<60 {
            var fields: [String: Value] = [:]
            if generator.chance(80) { fields["a"] = generator.scalar() }
            if generator.chance(80) { fields["b"] = generator.chance(50) ? .integer(Int64(generator.int(0...3))) : generator.scalar() }
            documents.append(try document("c/d\(i)", fields))
        }
        let operand: Value = .integer(Int64(generator.int(0...3)))
        let q = try query(#"{"collection": "c", "where": {"field": "b", "op": ">=", "value": \#(operand.json.text)}, "orderBy": [{"field": "a", "direction": "desc"}], "limit": 10}"#)
        let result = q.evaluate(over: documents)
        // The same result from first principles.
        let expected = documents.filter { doc in
            guard doc.fields["a"] != nil, let b = doc.fields["b"] else { return false }
            return b.isNumber && Value.compare(b, operand) >= 0
        }.sorted { x, y in
            let ca = Value.compare(x.fields["a"]!, y.fields["a"]!)
            if ca != 0 { return ca > 0 }
            let cb = Value.compare(x.fields["b"]!, y.fields["b"]!)
            if cb != 0 { return cb > 0 }
            return y.path < x.path
        }.prefix(10)
        #expect(result.map(\.path) == expected.map(\.path))
        // The explicit orderBy first, then the inequality field, then __name__.
        #expect(q.normalizedOrderBy.map(\.field.description) == ["a", "b", "__name__"])
    }
}
