@testable import FlintClient
import Foundation
import Testing

/// `FlintEncoder` and `FlintDecoder`: Swift values to document fields and back.
@Suite struct CodableTests {
    struct Message: Codable, Equatable {
        enum Kind: String, Codable { case text, image }
        var text: String
        var kind: Kind
        var sent: Date
        var likes: Int64
        var ratio: Double
        var flags: [Bool]
        var extra: [String: Int]
        var reply: String?
        var location: GeoPoint
        var author: DocumentPath
    }

    @Test func aStructRoundTripsThroughFields() throws {
        let message = Message(
            text: "hi", kind: .image, sent: Date(timeIntervalSince1970: 1_700_000_000.5), likes: 3, ratio: 0.25,
            flags: [true, false], extra: ["a": 1], reply: nil, location: try GeoPoint(latitude: 59.9, longitude: 10.7),
            author: try DocumentPath("users/ada"))
        let fields = try FlintEncoder().encode(message)
        #expect(fields["kind"] == "image")
        #expect(fields["sent"] == .timestamp(Timestamp(microseconds: 1_700_000_000_500_000)))
        #expect(fields["likes"] == .integer(3))
        #expect(fields["reply"] == nil, "a nil optional is left out")
        #expect(fields["author"] == .reference(try DocumentPath("users/ada")))
        #expect(try FlintDecoder().decode(Message.self, from: fields) == message)
    }

    @Test func numbersConvertWhenExact() throws {
        struct Numbers: Codable, Equatable {
            var a: Int
            var b: Double
            var c: UInt8
        }
        let decoded = try FlintDecoder().decode(Numbers.self, from: ["a": .double(2), "b": .integer(3), "c": .integer(255)])
        #expect(decoded == Numbers(a: 2, b: 3, c: 255))
        #expect(throws: DecodingError.self) { try FlintDecoder().decode(Numbers.self, from: ["a": .double(2.5), "b": 1, "c": 1]) }
        #expect(throws: DecodingError.self) { try FlintDecoder().decode(Numbers.self, from: ["a": 1, "b": 1, "c": 256]) }
    }

    @Test func aValueThatIsNotAKeyedContainerIsNotADocument() {
        #expect(throws: EncodingError.self) { try FlintEncoder().encode([1, 2, 3]) }
    }

    @Test func fieldValuesSplitIntoDataAndTransforms() throws {
        let write = try WriteBuilder.set(
            try DocumentPath("a/b"), ["n": 1, "meta": ["at": .serverTimestamp(), "by": "ada"], "counts": ["x": .increment(1)]],
            merge: true)
        guard case .set(let data, merge: true) = write.operation else {
            Issue.record("not a merge")
            return
        }
        #expect(data == ["n": 1, "meta": ["by": "ada"]])
        #expect(write.transforms.map(\.field.description) == ["counts.x", "meta.at"])
        #expect(throws: FlintError.self) { try WriteBuilder.set(try DocumentPath("a/b"), ["x": .delete()], merge: false) }
        let update = try WriteBuilder.update(try DocumentPath("a/b"), ["a.b": 1, "`c.d`": .arrayUnion([1])])
        guard case .update(let fields, let mask) = update.operation else {
            Issue.record("not an update")
            return
        }
        #expect(fields == ["a": ["b": 1]])
        #expect(mask?.map(\.description) == ["a.b"])
        #expect(update.transforms.map(\.field.segments) == [["c.d"]])
        #expect(update.precondition == .exists(true))
        #expect(throws: FlintError.self) { try WriteBuilder.update(try DocumentPath("a/b"), ["a": 1, "a.b": 2]) }
    }
}
