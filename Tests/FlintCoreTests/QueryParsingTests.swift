import Testing
@testable import FlintCore

@Suite struct QueryParsingTests {
    func query(_ text: String) throws -> Query { try Query(json: JSON(parsing: text)) }

    @Test func theDesignExampleParses() throws {
        let q = try query(
            #"""
            {"collection": "rooms/r1/messages",
             "where": {"and": [{"field": "author", "op": "==", "value": "alice"},
                               {"or": [{"field": "n", "op": ">", "value": 3}, {"field": "tags", "op": "array-contains", "value": "x"}]}]},
             "orderBy": [{"field": "sent", "direction": "desc"}],
             "limit": 20, "startAfter": [{"$timestamp": "2026-11-24T10:00:00Z"}]}
            """#)
        #expect(q.parent == ["rooms", "r1"])
        #expect(q.collectionID == "messages")
        #expect(!q.allDescendants)
        #expect(q.collectionPath.description == "rooms/r1/messages")
        let expectedFilter = Query.Filter.and([
            .field(.init(field: try field("author"), op: .equal, value: "alice")),
            .or([
                .field(.init(field: try field("n"), op: .greaterThan, value: 3)),
                .field(.init(field: try field("tags"), op: .arrayContains, value: "x")),
            ]),
        ])
        #expect(q.filter == expectedFilter)
        #expect(q.orderBy == [Query.Order(field: try field("sent"), descending: true)])
        #expect(q.limit == 20)
        #expect(q.limitToLast == nil)
        #expect(q.start == Query.Cursor(values: [.timestamp(Timestamp(rfc3339: "2026-11-24T10:00:00Z")!)], inclusive: false))
        #expect(q.end == nil)
    }

    @Test func aMinimalQueryHasNoFilterOrderOrLimit() throws {
        let q = try query(#"{"collection": "users"}"#)
        #expect(q.parent == [])
        #expect(q.collectionID == "users")
        #expect(q.filter == nil && q.orderBy.isEmpty && q.limit == nil && q.start == nil && q.end == nil)
    }

    static let operatorCases: [(String, String, Query.Operator)] = [
        ("==", "1", .equal), ("!=", "1", .notEqual), ("<", "1", .lessThan), ("<=", "1", .lessThanOrEqual),
        (">", "1", .greaterThan), (">=", "1", .greaterThanOrEqual), ("in", "[1, 2]", .in), ("not-in", "[1, 2]", .notIn),
        ("array-contains", "1", .arrayContains), ("array-contains-any", "[1, 2]", .arrayContainsAny),
    ]

    @Test(arguments: operatorCases)
    func everyOperatorParses(op: String, valueText: String, expected: Query.Operator) throws {
        let q = try query(#"{"collection": "c", "where": {"field": "f", "op": "\#(op)", "value": \#(valueText)}}"#)
        #expect(q.filter == .field(.init(field: try field("f"), op: expected, value: try value(valueText))))
    }

    @Test func theOperatorCasesCoverEveryOperator() {
        #expect(Set(Self.operatorCases.map(\.2.rawValue)) == Set(Query.Operator.allCases.map(\.rawValue)))
    }

    @Test(arguments: ["=", "===", "contains", "IN", "array_contains", ""])
    func unknownOperatorsAreRejectedListingTheKnownOnes(op: String) {
        expectFlintError(.invalidArgument, mentioning: "query.where.op", "array-contains-any") {
            try query(#"{"collection": "c", "where": {"field": "f", "op": "\#(op)", "value": 1}}"#)
        }
    }

    @Test func andAndOrNest() throws {
        let q = try query(
            #"""
            {"collection": "c", "where": {"or": [
                {"and": [{"field": "a", "op": "==", "value": 1}, {"field": "b", "op": "==", "value": 2}]},
                {"or": [{"field": "c", "op": "<", "value": 3}, {"and": [{"field": "d", "op": "!=", "value": 4}]}]}]}}
            """#)
        guard case .or(let parts)? = q.filter, parts.count == 2, case .and(let first) = parts[0], case .or(let second) = parts[1]
        else {
            Issue.record("unexpected shape: \(String(describing: q.filter))")
            return
        }
        #expect(first.count == 2)
        #expect(second.count == 2)
        #expect(q.filter?.fieldFilters.map(\.field.description) == ["a", "b", "c", "d"])
        #expect(q.filter?.conjuncts == [])
    }

    @Test func conjunctsAreTheTopLevelOfAnAnd() throws {
        let q = try query(
            #"""
            {"collection": "c", "where": {"and": [{"field": "a", "op": "==", "value": 1},
                {"and": [{"field": "b", "op": "==", "value": 2}]}, {"or": [{"field": "c", "op": "==", "value": 3}]},
                {"or": [{"field": "d", "op": "==", "value": 4}, {"field": "e", "op": "==", "value": 5}]}]}}
            """#)
        #expect(q.filter?.conjuncts.map(\.field.description) == ["a", "b", "c"])
    }

    @Test(arguments: [
        (#"{"and": []}"#, "non-empty array of filters"),
        (#"{"or": {}}"#, "non-empty array of filters"),
        (#"{"and": [{"field": "a", "op": "==", "value": 1}], "or": []}"#, "unknown field"),
        (#"{"and": [{"field": "a", "op": "==", "value": 1}], "field": "x"}"#, "unknown field \"field\""),
        (#"{"field": "a", "op": "==", "value": 1, "extra": 2}"#, "unknown field \"extra\""),
        (#"{"field": "a", "op": "=="}"#, "query.where.value is missing"),
        (#"{"op": "==", "value": 1}"#, "query.where.field is missing"),
        (#"{"field": "a", "value": 1}"#, "query.where.op is missing"),
        (#"{"field": 1, "op": "==", "value": 1}"#, "must be a string"),
        (#"{"field": "a..b", "op": "==", "value": 1}"#, "query.where.field"),
        (#"[{"field": "a", "op": "==", "value": 1}]"#, "must be a JSON object"),
        (#"{"and": [{"field": "a", "op": "==", "value": {"$bytes": "!"}}]}"#, "query.where.and[0].value"),
        (#"{"and": [1]}"#, "query.where.and[0] must be a JSON object"),
    ])
    func malformedFiltersAreRejected(whereText: String, fragment: String) {
        expectFlintError(.invalidArgument, mentioning: fragment) {
            try query(#"{"collection": "c", "where": \#(whereText)}"#)
        }
    }

    @Test(arguments: [
        (#"{"collection": "c", "filter": {}}"#, ["unknown field \"filter\""]),
        (#"{"collection": "c", "offset": 1}"#, ["unknown field \"offset\""]),
        (#"{"collection": "c", "orderBy": [{"field": "a", "dir": "asc"}]}"#, ["query.orderBy[0]", "unknown field \"dir\""]),
        (#"{"collection": "c", "orderBy": [{"field": "a", "direction": "up"}]}"#, ["\"asc\" or \"desc\""]),
        (#"{"collection": "c", "orderBy": {"field": "a"}}"#, ["query.orderBy must be an array"]),
        (#"{"collection": "c", "orderBy": [{"field": "a"}, {"field": "a", "direction": "desc"}]}"#, ["twice"]),
        (#"{"collection": "c", "orderBy": ["a"]}"#, ["query.orderBy[0] must be a JSON object"]),
        (#"{"collection": "c", "orderBy": [{"direction": "asc"}]}"#, ["query.orderBy[0].field is missing"]),
        (#"{"where": {"field": "a", "op": "==", "value": 1}}"#, ["query.collection is missing"]),
        (#"{"collection": "c/d"}"#, ["query.collection", "names a document"]),
        (#"{"collection": ""}"#, ["query.collection"]),
        (#"{"collection": "c//d/e"}"#, ["query.collection", "empty segment"]),
        (#"{"collection": 5}"#, ["query.collection must be a string"]),
        (#"{"collection": "c", "allDescendants": "yes"}"#, ["true or false"]),
        (#"{"collection": "c", "limit": -1}"#, ["query.limit must be between 0"]),
        (#"{"collection": "c", "limit": 2147483648}"#, ["query.limit must be between 0"]),
        (#"{"collection": "c", "limit": 1.0}"#, ["query.limit must be an integer"]),
        (#"{"collection": "c", "limit": "10"}"#, ["query.limit must be an integer"]),
        ("[]", ["query must be a JSON object"]),
    ])
    func malformedQueriesAreRejectedNamingTheProblem(text: String, fragments: [String]) {
        expectFlintError(.invalidArgument, mentioningAll: fragments) { try query(text) }
    }

    @Test func unknownKeysAreRejectedEverywhere() {
        expectFlintError(.invalidArgument, mentioning: "query has an unknown field \"colection\"", "allowed:") {
            try query(#"{"colection": "c"}"#)
        }
    }

    @Test func collectionGroupQueriesKeepTheirParent() throws {
        let root = try query(#"{"collection": "messages", "allDescendants": true}"#)
        #expect(root.allDescendants && root.parent == [] && root.collectionID == "messages")
        let below = try query(#"{"collection": "rooms/r1/messages", "allDescendants": true}"#)
        #expect(below.allDescendants && below.parent == ["rooms", "r1"] && below.collectionID == "messages")
    }

    @Test func orderByDefaultsToAscending() throws {
        let q = try query(#"{"collection": "c", "orderBy": [{"field": "a"}, {"field": "`b.c`", "direction": "desc"}, {"field": "d", "direction": "asc"}]}"#)
        #expect(q.orderBy == [
            Query.Order(field: try field("a")), Query.Order(field: try FieldPath(segments: ["b.c"]), descending: true),
            Query.Order(field: try field("d")),
        ])
    }

    @Test func limitAndLimitToLastParse() throws {
        #expect(try query(#"{"collection": "c", "limit": 0}"#).limit == 0)
        #expect(try query(#"{"collection": "c", "limit": 2147483647}"#).limit == 2_147_483_647)
        let q = try query(#"{"collection": "c", "orderBy": [{"field": "a"}], "limitToLast": 3}"#)
        #expect(q.limitToLast == 3 && q.limit == nil)
    }

    @Test func limitAndLimitToLastTogetherAreRejected() {
        expectFlintError(.invalidArgument, mentioning: "either limit or limitToLast") {
            try query(#"{"collection": "c", "orderBy": [{"field": "a"}], "limit": 1, "limitToLast": 1}"#)
        }
    }

    @Test func limitToLastWithoutOrderByIsRejected() {
        expectFlintError(.invalidArgument, mentioning: "limitToLast needs at least one orderBy") {
            try query(#"{"collection": "c", "limitToLast": 1}"#)
        }
        // An implicit ordering from an inequality is not enough.
        expectFlintError(.invalidArgument, mentioning: "limitToLast needs at least one orderBy") {
            try query(#"{"collection": "c", "where": {"field": "a", "op": ">", "value": 1}, "limitToLast": 1}"#)
        }
    }

    @Test(arguments: [("startAt", true), ("startAfter", false), ("endAt", true), ("endBefore", false)])
    func cursorsParseWithTheirInclusiveness(key: String, inclusive: Bool) throws {
        let q = try query(#"{"collection": "c", "orderBy": [{"field": "a"}], "\#(key)": [5, "doc1"]}"#)
        let cursor = key.hasPrefix("start") ? q.start : q.end
        #expect(cursor == Query.Cursor(values: [5, try ref("c/doc1")], inclusive: inclusive))
        #expect((key.hasPrefix("start") ? q.end : q.start) == nil)
    }

    @Test func cursorsMayHaveOneValuePerNormalizedOrdering() throws {
        // orderBy a, then the implicit __name__: two values at most.
        _ = try query(#"{"collection": "c", "orderBy": [{"field": "a"}], "startAt": [1, "x"]}"#)
        expectFlintError(.invalidArgument, mentioning: "query.startAt has 3 values but the query orders by only 2 fields") {
            try query(#"{"collection": "c", "orderBy": [{"field": "a"}], "startAt": [1, "x", 2]}"#)
        }
        // No orderBy: only __name__.
        expectFlintError(.invalidArgument, mentioning: "query.endBefore has 2 values") {
            try query(#"{"collection": "c", "endBefore": ["x", "y"]}"#)
        }
        // An inequality adds its implicit ordering.
        let q = try query(#"{"collection": "c", "where": {"field": "n", "op": ">", "value": 1}, "startAfter": [2, "x"]}"#)
        #expect(q.start?.values == [2, try ref("c/x")])
    }

    @Test(arguments: [
        (#""startAt": [], "orderBy": [{"field": "a"}]"#, "query.startAt must be a non-empty array"),
        (#""startAt": 1, "orderBy": [{"field": "a"}]"#, "query.startAt must be a non-empty array"),
        (#""startAt": [1], "startAfter": [1], "orderBy": [{"field": "a"}]"#, "either startAt or startAfter"),
        (#""endAt": [1], "endBefore": [1], "orderBy": [{"field": "a"}]"#, "either endAt or endBefore"),
        (#""endAt": [{"$bytes": "?"}], "orderBy": [{"field": "a"}]"#, "query.endAt[0]"),
    ])
    func malformedCursorsAreRejected(members: String, fragment: String) {
        expectFlintError(.invalidArgument, mentioning: fragment) { try query(#"{"collection": "c", \#(members)}"#) }
    }

    @Test(arguments: ["in", "not-in", "array-contains-any"])
    func listOperatorsTakeOneToThirtyValues(op: String) throws {
        let thirty = "[" + (1...30).map(String.init).joined(separator: ",") + "]"
        let q = try query(#"{"collection": "c", "where": {"field": "f", "op": "\#(op)", "value": \#(thirty)}}"#)
        #expect(q.filter?.fieldFilters.first?.value == .array((1...30).map { .integer(Int64($0)) }))
        let thirtyOne = "[" + (1...31).map(String.init).joined(separator: ",") + "]"
        for bad in [thirtyOne, "[]", "1", #""a""#, #"{"a": 1}"#] {
            expectFlintError(.invalidArgument, mentioning: "at most 30 values") {
                try query(#"{"collection": "c", "where": {"field": "f", "op": "\#(op)", "value": \#(bad)}}"#)
            }
        }
    }

    @Test(arguments: ["<", "<=", ">", ">=", "array-contains"])
    func nullAndNaNOnlyCompareWithEqualityOperators(op: String) throws {
        for bad in ["null", #"{"$double": "NaN"}"#] {
            expectFlintError(.invalidArgument, mentioning: "null and NaN can only be compared with == and !=") {
                try query(#"{"collection": "c", "where": {"field": "f", "op": "\#(op)", "value": \#(bad)}}"#)
            }
        }
        // Infinity is an ordinary number.
        _ = try query(#"{"collection": "c", "where": {"field": "f", "op": "\#(op)", "value": {"$double": "Infinity"}}}"#)
    }

    @Test(arguments: ["==", "!="])
    func nullAndNaNCompareWithEqualityOperators(op: String) throws {
        #expect(try query(#"{"collection": "c", "where": {"field": "f", "op": "\#(op)", "value": null}}"#).filter?.fieldFilters.first?.value == .null)
        let nan = try query(#"{"collection": "c", "where": {"field": "f", "op": "\#(op)", "value": {"$double": "NaN"}}}"#)
        #expect(nan.filter?.fieldFilters.first?.value == .double(.nan))
    }

    @Test func nullInsideInListsIsAllowed() throws {
        _ = try query(#"{"collection": "c", "where": {"field": "f", "op": "in", "value": [null, 1]}}"#)
    }

    @Test func documentNameWithAPlainIDResolvesToAReference() throws {
        let q = try query(#"{"collection": "rooms/r1/messages", "where": {"field": "__name__", "op": ">=", "value": "m5"}}"#)
        #expect(q.filter == .field(.init(field: .documentName, op: .greaterThanOrEqual, value: try ref("rooms/r1/messages/m5"))))
    }

    @Test func documentNameKeepsAReference() throws {
        let q = try query(#"{"collection": "c", "where": {"field": "__name__", "op": "==", "value": {"$ref": "other/x"}}}"#)
        #expect(q.filter?.fieldFilters.first?.value == (try ref("other/x")))
    }

    @Test func documentNameListsResolveEachID() throws {
        let q = try query(#"{"collection": "c", "where": {"field": "__name__", "op": "in", "value": ["a", {"$ref": "c/b"}]}}"#)
        #expect(q.filter?.fieldFilters.first?.value == .array([try ref("c/a"), try ref("c/b")]))
        let notIn = try query(#"{"collection": "c", "where": {"field": "__name__", "op": "not-in", "value": ["a"]}}"#)
        #expect(notIn.filter?.fieldFilters.first?.value == .array([try ref("c/a")]))
    }

    @Test func documentNameCursorsResolveIDs() throws {
        let q = try query(#"{"collection": "c", "orderBy": [{"field": "__name__", "direction": "desc"}], "startAt": ["k"]}"#)
        #expect(q.start?.values == [try ref("c/k")])
        #expect(q.normalizedOrderBy == [Query.Order(field: .documentName, descending: true)])
    }

    @Test(arguments: [
        (#"{"collection": "c", "where": {"field": "__name__", "op": "==", "value": 1}}"#, "__name__ is compared with"),
        (#"{"collection": "c", "where": {"field": "__name__", "op": "==", "value": "a/b"}}"#, "'/'"),
        (#"{"collection": "c", "where": {"field": "__name__", "op": "==", "value": ".."}}"#, "not allowed"),
        (#"{"collection": "c", "where": {"field": "__name__", "op": "in", "value": ["a", 2]}}"#, "__name__ is compared with"),
        (#"{"collection": "m", "allDescendants": true, "where": {"field": "__name__", "op": "==", "value": "a"}}"#, "{\"$ref\": path}"),
        (#"{"collection": "m", "allDescendants": true, "startAt": ["a"]}"#, "query.startAt[0]"),
    ])
    func documentNameRejectsWhatIsNotADocument(text: String, fragment: String) {
        expectFlintError(.invalidArgument, mentioning: fragment) { try query(text) }
    }

    @Test func collectionGroupsAcceptReferencesForDocumentName() throws {
        let q = try query(#"{"collection": "m", "allDescendants": true, "where": {"field": "__name__", "op": ">", "value": {"$ref": "r/1/m/x"}}}"#)
        #expect(q.filter?.fieldFilters.first?.value == (try ref("r/1/m/x")))
    }

    @Test func backtickFieldPathsWorkInFiltersAndOrders() throws {
        let q = try query(#"{"collection": "c", "where": {"field": "`a.b`.c", "op": "==", "value": 1}, "orderBy": [{"field": "`x y`"}]}"#)
        #expect(q.filter?.fieldFilters.first?.field.segments == ["a.b", "c"])
        #expect(q.orderBy.first?.field.segments == ["x y"])
    }
}
