import FlintCore
import Testing

@testable import FlintRules

@Suite struct ErrorSemanticsTests {
    /// Each expression is an evaluation error: its allow is false, never a crash.
    @Test(arguments: [
        ("resource.data.missing == 1", "no field 'missing' in the map"),
        ("request.resource.data.x == 1", "null value has no field 'data'"),
        ("1 / 0 == 0", "division by zero"),
        ("1 % 0 == 0", "division by zero"),
        ("'a' + 1 == 'a1'", "'+' does not apply to string and int"),
        ("'a' < 1", "cannot compare string with int"),
        ("!'x'", "'!' does not apply to string"),
        ("[1][5] == 1", "index 5 is out of range"),
        ("9223372036854775807 + 1 > 0", "integer overflow"),
        ("-9223372036854775807 - 2 < 0", "integer overflow"),
        ("'abc'.keys() == []", "string value has no method 'keys'"),
        ("null.size() == 0", "null value has no method 'size'"),
        ("'x'.matches('(' + '') ", "invalid regular expression"),
        ("int('x') == 0", "int() cannot convert"),
        ("get(/databases/$(database)/documents/users/nobody).data.role == 'x'", "no document at"),
        ("get(/databases/$(database)/documents/users) == null", "is not a document path"),
        ("exists(/somewhere/else)", "reads documents under /databases/(default)/documents/"),
        ("timestamp.date(2026, 2, 30) < request.time", "is not a date"),
        ("duration.value(1, 'y') < duration.value(2, 's')", "unknown duration unit 'y'"),
        ("1 in 'abc'", "'in' needs a list, set or map"),
        ("1 ? true : false", "the condition of '?:' is int, not bool"),
        ("1 && true", "'&&' needs bools, not int"),
        ("{1: 2} == {}", "map keys must be strings"),
        ("math.ceil(1.0 / 0) == 0", "does not fit in an int"),
        ("latlng.value(100, 0) == null", "latitude must be in [-90, 90]"),
    ])
    func errorsDeny(_ expression: String, _ message: String) async {
        let result = await outcome(expression)
        guard case .error(let text) = result else {
            Issue.record("\(expression) gave \(result), not an error")
            return
        }
        #expect(text.contains(message), "\(expression): \(text)")
    }

    @Test(arguments: [
        ("false && (1 / 0 == 0)", false), ("(1 / 0 == 0) && false", false), ("true || (1 / 0 == 0)", true),
        ("(1 / 0 == 0) || true", true), ("resource.data.owner == 'alice' || resource.data.nope", true),
        ("false ? 1 / 0 : true", true),
    ])
    func aDecidingSideWinsOverAnError(_ expression: String, _ expected: Bool) async {
        #expect(await outcome(expression) == .value(.bool(expected)), "\(expression)")
    }

    @Test(arguments: ["(1 / 0 == 0) && true", "true && (1 / 0 == 0)", "(1 / 0 == 0) || false", "false || (1 / 0 == 0)"])
    func anUndecidedErrorStaysAnError(_ expression: String) async {
        #expect(await outcome(expression).isError, "\(expression)")
    }

    @Test func anotherAllowCanStillGrantAfterAnError() async throws {
        let rules = try compile(firestore("""
            match /docs/{id} {
              allow read: if request.auth.uid == resource.data.owner;
              allow read: if 1 / 0 == 1;
              allow read: if resource.data.public == true;
            }
            """))
        let decision = await rules.decide(.get, "docs/d", existing: ["docs/d": ["public": true]])
        #expect(decision.allowed)
        #expect(decision.explanation == "line 7: allow read")
        let denied = await rules.decide(.get, "docs/d", existing: ["docs/d": ["public": false]])
        #expect(!denied.allowed)
        #expect(denied.explanation.contains("line 5: allow read: line 5:31: null value has no field 'uid'"), "\(denied.explanation)")
        #expect(denied.explanation.contains("line 6: allow read: line 6:20: division by zero"), "\(denied.explanation)")
        #expect(denied.explanation.contains("line 7: allow read: false"), "\(denied.explanation)")
    }

    @Test func aConditionThatIsNotABoolDenies() async throws {
        let rules = try compile(firestore("match /docs/{id} { allow read: if 'yes'; }"))
        let decision = await rules.decide(.get, "docs/d")
        #expect(!decision.allowed)
        #expect(decision.explanation.contains("the condition is string, not bool"))
    }

    @Test func exponentialFunctionChainsHitTheStepLimit() async throws {
        var functions = "function f0(x) { return x == 1; }\n"
        for i in 1...18 { functions += "function f\(i)(x) { return f\(i - 1)(x) || f\(i - 1)(x + 0); }\n" }
        let rules = try compile(firestore(functions + "match /docs/{id} { allow read: if f18(2); allow read; }"))
        let decision = await rules.decide(.get, "docs/d")
        // The first allow gives up at the step limit; the second has no steps left either, but is unconditional.
        #expect(decision.allowed)
        #expect(decision.explanation.hasPrefix("line"))
        let strict = try compile(firestore(functions + "match /docs/{id} { allow read: if f18(2); }"))
        let denied = await strict.decide(.get, "docs/d")
        #expect(!denied.allowed)
        #expect(denied.explanation.contains("more than 10000 expressions"))
    }

    @Test func deepFunctionCallChainsAreCut() async throws {
        var functions = "function f0(x) { return x; }\n"
        for i in 1...25 { functions += "function f\(i)(x) { return f\(i - 1)(x); }\n" }
        let rules = try compile(firestore(functions + "match /docs/{id} { allow read: if f25(true); allow write: if f15(true); }"))
        let read = await rules.decide(.get, "docs/d")
        #expect(!read.allowed)
        #expect(read.explanation.contains("more than 20 levels deep"))
        #expect(await rules.decide(.delete, "docs/d").allowed)
    }

    @Test func stringGrowthIsBounded() async throws {
        var expression = "'aaaaaaaaaaaaaaaa'"
        for _ in 0..<20 { expression = "f(\(expression))" }
        let rules = try compile(firestore("""
            function f(s) { return s + s; }
            match /docs/{id} { allow read: if \(expression).size() > 0; }
            """))
        let decision = await rules.decide(.get, "docs/d")
        #expect(!decision.allowed)
        #expect(decision.explanation.contains("longer than 1048576 bytes"))
    }
}
