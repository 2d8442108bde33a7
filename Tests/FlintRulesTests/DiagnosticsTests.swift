import Testing

@testable import FlintRules

@Suite struct DiagnosticsTests {
    /// One broken line inside a valid file; the diagnostic's position and the start of its message.
    @Test(arguments: [
        ("allow reed: if true;", 4, 13, "unknown method 'reed' in allow; expected get, list, create, update, delete, read or write; did you mean 'read'?"),
        ("allow read: if usrId == 'x';", 4, 22, "unknown name 'usrId'; did you mean 'userId'?"),
        ("allow read: if request.auth.uid = 'x';", 4, 39, "'=' assigns only in 'let'; use '==' to compare"),
        ("allow read: if request.auht != null;", 4, 30, "request has no field 'auht'"),
        ("allow read: if isOwner();", 4, 22, "unknown function 'isOwner'"),
        ("allow read: if 'x'.sizee() > 0;", 4, 26, "unknown method 'sizee'; did you mean 'size'?"),
        ("allow read: if 'x'.size(1) > 0;", 4, 26, "method 'size' takes 0 arguments, but 1 were given"),
        ("allow read: if math.cube(2) > 0;", 4, 27, "unknown function 'math.cube'"),
        ("allow read: if 1 is integer;", 4, 27, "unknown type 'integer' after 'is'"),
        ("allow read: if 'x'.matches('[');", 4, 34, "invalid regular expression '['"),
        ("allow read: if true", 5, 7, "expected ';' after the allow statement, found 'allow'"),
        ("allow read if true;", 4, 18, "expected ':' before 'if' in an allow statement"),
        ("allow read: if (true;", 4, 27, "expected ')' to close the parenthesis, found ';'"),
        ("allow read: if 'abc;", 4, 22, "a string is not closed on its line"),
        ("allow read: if a & b;", 4, 24, "'&' is not an operator; did you mean '&&'?"),
        ("allow read: if math > 1;", 4, 22, "'math' is a namespace of functions"),
        ("allow read: if get(/x/y, 1);", 4, 22, "get() takes 1 argument, but 2 were given"),
    ])
    func brokenLineIsReportedWhereItIs(_ line: String, _ expectedLine: Int, _ column: Int, _ message: String) {
        let source = """
            service cloud.firestore {
              match /databases/{database}/documents {
                match /users/{userId} {
                  \(line)
                  allow write: if false;
                }
              }
            }
            """
        let found = diagnostics(source)
        #expect(found.count == 1, "\(found)")
        guard let first = found.first else { return }
        #expect(first.line == expectedLine)
        #expect(first.column == column)
        #expect(first.message.hasPrefix(message), "\(first.message)")
        #expect(first.description.hasPrefix("\(expectedLine):\(column): "))
    }

    @Test func severalErrorsAreReportedAtOnce() {
        let found = diagnostics("""
            service cloud.firestore {
              match /databases/{database}/documents {
                function isOwner(id) { return request.auth.uid == id; }
                match /a/{id} {
                  allow reed: if isOwner(id, 1);
                  allow read: if nope;
                  allow write: if (;
                  allow update: if isOwner(id)
                }
                match /b/{x=**}/c/{y=**} {
                  allow read: if true;
                }
              }
            }
            """)
        #expect(found.map(\.description) == [
            "5:13: unknown method 'reed' in allow; expected get, list, create, update, delete, read or write; did you mean 'read'?",
            "5:22: function 'isOwner' takes 1 argument, but 2 were given",
            "6:22: unknown name 'nope'",
            "7:24: expected an expression, found ';'",
            "10:23: a match path may have only one recursive wildcard {name=**}",
        ])
    }

    @Test func recursionIsRejected() {
        let found = diagnostics(firestore("""
            function a(x) { return b(x); }
            function b(x) { return x > 0 && a(x - 1); }
            function c() { return c(); }
            match /x/{y} { allow read: if a(1) && c(); }
            """))
        #expect(found.map(\.message) == [
            "function 'a' is recursive (a → b → a); rules do not allow recursion",
            "function 'c' is recursive (c → c); rules do not allow recursion",
        ])
        #expect(found.map(\.line) == [4, 6])
    }

    @Test(arguments: [
        ("", "missing 'service'"),
        ("service cloud.firebase { }", "unknown service 'cloud.firebase'"),
        ("rules_version = '3'; service cloud.firestore { }", "unknown rules_version '3'"),
        ("service cloud.firestore { allow read; }", "'allow' must be inside a match block"),
        ("service cloud.firestore { match /a { allow read; }", "missing '}' to close the block opened at 1:25"),
        ("service cloud.firestore { match a { } }", "expected a path starting with '/' after 'match'"),
        ("service cloud.firestore { match /a/{b { } }", "expected '}' to close {b"),
        ("service cloud.firestore { match /a/{b}/{b} { } }", "the match path uses the variable 'b' twice"),
        ("service cloud.firestore { function f() { return 1; } function f() { return 2; } }", "function 'f' is already declared at 1:36"),
        ("service cloud.firestore { function f(a) { let a = 1; return a; } }", "'a' is already defined in this function"),
        ("service cloud.firestore { function f() { let x = y; let y = 1; return x; } }", "unknown name 'y'"),
        ("service cloud.firestore { function f() { 1; } }", "expected 'return <expression>;'"),
        ("service cloud.firestore { match /a { allow read: if 99999999999999999999; } }", "the integer 99999999999999999999 does not fit in 64 bits"),
        ("service cloud.firestore { match /a { allow read: if /*; } }", "a /* comment is never closed"),
        ("service cloud.firestore {} service firebase.storage {}", "a rules file has one service"),
        ("match /a { }", "expected 'service' or 'rules_version' at the top level"),
    ])
    func fileLevelProblems(_ source: String, _ message: String) {
        let found = diagnostics(source)
        #expect(found.contains { $0.message.hasPrefix(message) }, "\(found)")
    }

    @Test func deepNestingIsADiagnosticNotACrash() {
        for expression in [
            String(repeating: "(", count: 5000) + "true" + String(repeating: ")", count: 5000),
            String(repeating: "!", count: 5000) + "true",
            "true" + String(repeating: " && true", count: 5000),
            "request" + String(repeating: ".a", count: 5000),
            String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000),
        ] {
            let found = diagnostics(firestore("match /a/{b} { allow read: if \(expression); }"))
            #expect(found.first?.message.hasPrefix("the expression nests too deeply") == true, "\(found.prefix(2))")
        }
        var matches = ""
        for _ in 0..<200 { matches += "match /a { " }
        matches += String(repeating: "}", count: 200)
        #expect(diagnostics(firestore(matches)).first?.message.contains("match blocks nest more than 32 levels deep") == true)
    }

    @Test func aValidFileCompilesWithItsService() throws {
        let rules = try compile(firestore("match /a/{b} { allow read: if true; }"))
        #expect(rules.service == .firestore)
        #expect(rules.source.contains("match /a/{b}"))
    }
}
