import Testing
@testable import FlintCore

/// Runs `body`, expects it to throw a `FlintError` with `code` whose message mentions every fragment,
/// and returns that error. Records an issue when nothing, or something else, is thrown.
@discardableResult
func expectFlintError<R>(
    _ code: FlintError.Code,
    mentioning fragments: String...,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> R
) -> FlintError? {
    expectFlintError(code, mentioningAll: fragments, sourceLocation: sourceLocation, body)
}

/// `expectFlintError(_:mentioning:_:)` with the fragments as an array.
@discardableResult
func expectFlintError<R>(
    _ code: FlintError.Code,
    mentioningAll fragments: [String],
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> R
) -> FlintError? {
    do {
        let result = try body()
        Issue.record("expected a \(code.rawValue) error, got \(result)", sourceLocation: sourceLocation)
        return nil
    } catch let error as FlintError {
        #expect(error.code == code, "unexpected error: \(error)", sourceLocation: sourceLocation)
        for fragment in fragments {
            #expect(
                error.message.contains(fragment), "the message \"\(error.message)\" should mention \"\(fragment)\"",
                sourceLocation: sourceLocation)
        }
        return error
    } catch {
        Issue.record("expected a FlintError, got \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// Parses JSON text.
func json(_ text: String) throws -> JSON { try JSON(parsing: text) }

/// Reads a value from its JSON text form.
func value(_ text: String, field: String = "value") throws -> Value {
    try Value(json: JSON(parsing: text), field: field)
}

/// A stored document with the given fields.
func document(
    _ path: String, _ fields: [String: Value] = [:], version: Int64 = 1,
    updateTime: Timestamp = Timestamp(microseconds: 1_000_000)
) throws -> Document {
    Document(
        path: try DocumentPath(path), fields: fields, createTime: Timestamp(microseconds: 0), updateTime: updateTime,
        version: version)
}

/// A reference value to a document path.
func ref(_ path: String) throws -> Value { .reference(try DocumentPath(path)) }

/// A field path from its dotted form.
func field(_ text: String) throws -> FieldPath { try FieldPath(text) }

/// Nests `inner` in `levels` single-element arrays.
func nestedArrays(_ levels: Int, around inner: Value = 1) -> Value {
    var v = inner
    for _ in 0..<levels { v = .array([v]) }
    return v
}

/// JSON text of `levels` nested arrays around `inner`.
func nestedArrayText(_ levels: Int, around inner: String = "1") -> String {
    String(repeating: "[", count: levels) + inner + String(repeating: "]", count: levels)
}
