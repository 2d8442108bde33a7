import Testing
@testable import FlintCore

@Suite struct DocumentTests {
    @Test func valueAtReadsNestedFieldsAndTheName() throws {
        let doc = try document("rooms/r1", ["a": ["b": 1], "s": "x"])
        #expect(doc.value(at: try field("a.b")) == 1)
        #expect(doc.value(at: try field("s")) == "x")
        #expect(doc.value(at: try field("a.c")) == nil)
        #expect(doc.value(at: try field("s.t")) == nil)
        #expect(doc.value(at: .documentName) == (try ref("rooms/r1")))
    }

    @Test func jsonFormCarriesPathIDDataAndBookkeeping() throws {
        let doc = Document(
            path: try DocumentPath("rooms/r1"), fields: ["$k": 1, "t": .timestamp(Timestamp(microseconds: 0))],
            createTime: Timestamp(microseconds: 0), updateTime: Timestamp(microseconds: 1), version: 9)
        #expect(doc.json == .object([
            "path": .string("rooms/r1"), "id": .string("r1"),
            "data": .object(["$$k": .integer(1), "t": .object(["$timestamp": .string("1970-01-01T00:00:00.000000Z")])]),
            "createTime": .string("1970-01-01T00:00:00.000000Z"), "updateTime": .string("1970-01-01T00:00:00.000001Z"),
            "version": .integer(9),
        ]))
    }

    @Test func flintErrorsDescribeThemselvesWithTheirPublicCode() {
        #expect(FlintError.invalidArgument("bad").description == "invalid-argument: bad")
        #expect(FlintError(.alreadyExists, "x").code.rawValue == "already-exists")
        #expect(FlintError.Code.allCases.count == 11)
    }
}
