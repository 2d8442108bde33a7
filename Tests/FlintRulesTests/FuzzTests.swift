import FlintCore
import Testing

@testable import FlintRules

/// SplitMix64: a small seeded generator, so that every run tries the same inputs.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Hostile and random input never crashes the compiler or the evaluator.
@Suite struct FuzzTests {
    static let vocabulary = [
        "service", "cloud.firestore", "firebase.storage", "match", "allow", "read", "write", "get", "list", "create",
        "update", "delete", "if", "function", "let", "return", "rules_version", "=", "'2'", "{", "}", "(", ")", "[", "]",
        ";", ",", ".", ":", "?", "!", "==", "!=", "<", "<=", ">", ">=", "&&", "||", "+", "-", "*", "/", "%", "in", "is",
        "true", "false", "null", "0", "1", "-1", "9223372036854775807", "1.5", "1e308", "'s'", "\"d\"", "b'\\xff'",
        "request", "resource", "auth", "uid", "data", "database", "x", "y", "size", "matches", "math", "abs",
        "/databases/$(database)/documents", "/a/{b}", "/{c=**}", "$(", "{d=**}", "//c\n", "/*", "*/", "\n", " ",
        "'unterminated", "é", "\u{0}", "\u{FEFF}", "@", "#", "$", "&", "|", "\\", "`", "timestamp", "duration", "string",
    ]

    static let validRulesets = [
        firestore("""
            function isOwner(id) { let uid = request.auth.uid; return uid == id; }
            match /users/{userId} {
              allow read, update: if isOwner(userId) && request.resource.data.keys().hasOnly(['name', 'age']);
              allow create: if request.resource.data.name is string && request.resource.data.name.size() < 50;
              match /posts/{post=**} { allow read: if resource.data.public == true || isOwner(userId); }
            }
            match /rooms/{room}/messages/{m} {
              allow get: if get(/databases/$(database)/documents/rooms/$(room)).data.members.hasAny([request.auth.uid]);
              allow list: if request.query.limit <= 10 && request.time < timestamp.date(2100, 1, 1);
              allow write: if request.resource.data.diff(resource.data).affectedKeys().hasOnly(['text'])
                && request.resource.data.text.matches('^[a-z ]{1,20}$') && exists(/databases/$(database)/documents/users/$(request.auth.uid));
            }
            match /{path=**}/tags/{tag} { allow read: if tag in ['a', 'b'] && path is path; }
            """),
        """
        rules_version = '2';
        service firebase.storage {
          match /b/{bucket}/o {
            match /files/{userId}/{file=**} {
              allow read: if request.auth != null && (resource.size < 1000 || resource.metadata.owner == request.auth.uid);
              allow write: if request.resource.size < 5 * 1024 * 1024 && request.resource.contentType.matches('image/.*')
                && hashing.sha256(request.resource.name).size() == 32 && math.abs(request.resource.size) >= 0;
            }
          }
        }
        """,
    ]

    @Test func tokenSoupsNeverCrashTheCompiler() {
        var random = SplitMix64(seed: 0x5EED)
        var compiled = 0
        for _ in 0..<1500 {
            let count = Int.random(in: 1...60, using: &random)
            let source = (0..<count).map { _ in FuzzTests.vocabulary.randomElement(using: &random)! }
                .joined(separator: Bool.random(using: &random) ? " " : "")
            compiled += checkCompiles(source) ? 1 : 0
        }
        #expect(compiled < 1500)
    }

    @Test func mutatedRulesetsNeverCrashCompileOrEvaluate() async {
        var random = SplitMix64(seed: 42)
        for round in 0..<800 {
            var bytes = Array(FuzzTests.validRulesets[round % FuzzTests.validRulesets.count].utf8)
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let at = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<5, using: &random) {
                case 0: bytes.removeSubrange(at..<min(bytes.count, at + Int.random(in: 1...8, using: &random)))
                case 1: bytes.insert(contentsOf: Array(FuzzTests.vocabulary.randomElement(using: &random)!.utf8), at: at)
                case 2: bytes[at] = UInt8.random(in: 0...255, using: &random)
                case 3: bytes.insert(contentsOf: bytes[at..<min(bytes.count, at + 20)], at: at)
                default: bytes.removeSubrange(at...)
                }
                if bytes.isEmpty { bytes = Array("x".utf8) }
            }
            let source = String(decoding: bytes, as: UTF8.self)
            if checkCompiles(source), let rules = try? Ruleset.compile(source) {
                var requests = SplitMix64(seed: UInt64(round))
                for _ in 0..<3 { _ = await rules.evaluate(randomRequest(&requests), documents: randomDocuments(&requests), budget: RulesReadBudget(limit: 10)) }
            }
        }
    }

    @Test func randomRequestsNeverCrashEvaluation() async throws {
        var random = SplitMix64(seed: 7)
        let rulesets = try FuzzTests.validRulesets.map { try Ruleset.compile($0) }
        var allowed = 0
        for _ in 0..<1500 {
            for rules in rulesets {
                let decision = await rules.evaluate(randomRequest(&random), documents: randomDocuments(&random), budget: RulesReadBudget(limit: 10))
                #expect(!decision.explanation.isEmpty)
                allowed += decision.allowed ? 1 : 0
            }
        }
        #expect(allowed > 0)
    }

    @Test func randomExpressionsNeverCrashEvaluation() async {
        var random = SplitMix64(seed: 99)
        var results = 0
        for _ in 0..<2000 {
            let expression = randomExpression(&random, depth: 4)
            let source = firestore("match /things/{thing} { allow get: if \(expression); }")
            guard let rules = try? Ruleset.compile(source) else { continue }
            results += 1
            _ = await rules.evaluate(randomRequest(&random, path: ["things", "t1"]), documents: randomDocuments(&random), budget: RulesReadBudget(limit: 10))
        }
        #expect(results > 1000)
    }

    @Test func longFunctionChainsCompileAndAreCutAtEvaluation() async throws {
        var functions = "function f0() { return true; }\n"
        for i in 1..<3000 { functions += "function f\(i)() { return f\(i - 1)(); }\n" }
        let rules = try compile(firestore(functions + "match /a/{b} { allow read: if f2999(); allow write: if f10(); }"))
        let read = await rules.decide(.get, "a/b")
        #expect(!read.allowed)
        #expect(read.explanation.contains("more than 20 levels deep"))
        #expect(await rules.decide(.delete, "a/b").allowed)
    }

    @Test func concurrentEvaluationsOfOneRulesetAgree() async throws {
        let rules = try compile(firestore("""
            match /posts/{post} {
              allow create: if request.resource.data.title.matches('^[A-Z][a-z ]*$') && request.resource.data.tag.matches(post + '.*');
            }
            """))
        let outcomes = await withTaskGroup(of: (Int, Bool).self) { group in
            for i in 0..<400 {
                group.addTask {
                    let title = i % 2 == 0 ? "Hello world" : "hello"
                    let decision = await rules.decide(.create, "posts/p\(i % 7)", writing: ["title": .string(title), "tag": .string("p\(i % 7)-x")])
                    return (i, decision.allowed)
                }
            }
            var all: [(Int, Bool)] = []
            for await outcome in group { all.append(outcome) }
            return all
        }
        #expect(outcomes.count == 400)
        #expect(outcomes.allSatisfy { i, allowed in allowed == (i % 2 == 0) })
    }

    @Test func randomRegularExpressionsNeverCrash() async {
        var random = SplitMix64(seed: 2024)
        let pieces = ["(", ")", "[", "]", "{", "}", "*", "+", "?", "|", ".", "^", "$", "\\", "-", "a", "b", ",", "1", "2",
                      "d", "w", "s", "p", "P", ":", "=", "!", "<", ">", "#", "&", "~", "é", "x", "u", "0"]
        var valid = 0
        for _ in 0..<2000 {
            let pattern = (0..<Int.random(in: 1...10, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined()
            let literal = "'" + pattern.replacingOccurrences(of: "'", with: "\\'") + "'"
            for expression in ["'aab-12'.matches(\(literal))", "'aab-12'.replace(\(literal) + '', 'z').size() >= 0", "'a,b'.split(\(literal) + '').size() > 0"] {
                let source = firestore("match /things/{thing} { allow get: if \(expression); }")
                guard let rules = try? Ruleset.compile(source) else { continue }
                valid += 1
                _ = await rules.decide(.get, "things/t1")
            }
        }
        #expect(valid > 0)
    }

    /// Compiles; on failure the diagnostics must be well-formed. Returns whether it compiled.
    func checkCompiles(_ source: String) -> Bool {
        do {
            _ = try Ruleset.compile(source)
            return true
        } catch {
            #expect(!error.diagnostics.isEmpty)
            #expect(error.diagnostics.allSatisfy { $0.line >= 1 && $0.column >= 1 && !$0.message.isEmpty })
            return false
        }
    }

    func randomExpression(_ random: inout SplitMix64, depth: Int) -> String {
        let leaves = [
            "1", "0", "-1", "2.5", "0.0", "'a'", "''", "'a/b'", "true", "false", "null", "[]", "[1, 'a']", "{}", "{'k': 1}",
            "request", "request.auth", "request.auth.uid", "request.time", "request.path", "request.resource", "resource",
            "resource.data", "resource.data.n", "thing", "database", "b'\\x00'", "9223372036854775807", "-9223372036854775807",
            "duration.value(1, 's')", "timestamp.value(0)", "latlng.value(1, 2)", "/databases/$(database)/documents/users/$(thing)",
            "request.query", "'[a-'", "'.*'", "request.time.date()", "(request.time - timestamp.value(0))",
            "resource.data.members", "get(/databases/$(database)/documents/users/alice)", "path('a/{x}')",
        ]
        guard depth > 0, Int.random(in: 0..<4, using: &random) != 0 else { return leaves.randomElement(using: &random)! }
        let a = randomExpression(&random, depth: depth - 1)
        let b = randomExpression(&random, depth: depth - 1)
        switch Int.random(in: 0..<8, using: &random) {
        case 0: return "(\(a) \(["+", "-", "*", "/", "%", "==", "!=", "<", ">=", "&&", "||", "in"].randomElement(using: &random)!) \(b))"
        case 1: return "(\(["!", "-"].randomElement(using: &random)!)\(a))"
        case 2: return "(\(a) ? \(b) : \(a))"
        case 3: return "\(a)[\(b)]"
        case 4: return "\(a)[\(b):\(a)]"
        case 5:
            let method = Method.allCases.randomElement(using: &random)!
            let arguments = (0..<method.arity.upperBound).map { _ in randomExpression(&random, depth: depth - 1) }
            return "(\(a)).\(method.rawValue)(\(arguments.joined(separator: ", ")))"
        case 6:
            let builtin = Builtin.allCases.randomElement(using: &random)!
            let arguments = (0..<builtin.arity).map { _ in randomExpression(&random, depth: depth - 1) }
            return "\(builtin.rawValue)(\(arguments.joined(separator: ", ")))"
        default: return "(\(a) is \(RulesType.allCases.randomElement(using: &random)!.rawValue))"
        }
    }

    func randomValue(_ random: inout SplitMix64, depth: Int) -> Value {
        switch Int.random(in: 0..<(depth > 0 ? 11 : 9), using: &random) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &random))
        case 2: return .integer([0, 1, -1, .max, .min, Int64.random(in: -1000...1000, using: &random)].randomElement(using: &random)!)
        case 3: return .double([0, -0.0, 1.5, .nan, .infinity, -.infinity, 1e300].randomElement(using: &random)!)
        case 4: return .string(["", "a", "alice", "é", "a/b", String(repeating: "x", count: 300)].randomElement(using: &random)!)
        case 5: return .bytes([0, 255])
        case 6: return .timestamp([Timestamp.min, .max, Timestamp(microseconds: .min), Timestamp(microseconds: .max)].randomElement(using: &random)!)
        case 7: return .reference(try! DocumentPath("users/alice"))
        case 8: return .geoPoint(try! GeoPoint(latitude: 90, longitude: -180))
        case 9: return .array((0..<Int.random(in: 0...3, using: &random)).map { _ in randomValue(&random, depth: depth - 1) })
        default:
            let keys = ["n", "name", "members", "public", "owner", "text", "size", "metadata"]
            return .map(Dictionary((0..<Int.random(in: 0...4, using: &random)).map { _ in
                (keys.randomElement(using: &random)!, randomValue(&random, depth: depth - 1))
            }, uniquingKeysWith: { a, _ in a }))
        }
    }

    func randomData(_ random: inout SplitMix64) -> [String: Value] {
        guard case .map(let fields) = randomValue(&random, depth: 3) else { return ["n": 1] }
        return fields
    }

    func randomDocuments(_ random: inout SplitMix64) -> MemoryDocuments {
        var documents = MemoryDocuments()
        for name in ["users/alice", "rooms/r1", "users/bob"] where Bool.random(using: &random) {
            documents.before[name] = randomData(&random)
        }
        return documents
    }

    func randomRequest(_ random: inout SplitMix64, path fixed: [String]? = nil) -> RulesRequest {
        let segments = ["users", "alice", "posts", "rooms", "r1", "messages", "m1", "tags", "a", "files", "x.png", "", "é"]
        let path = fixed ?? (0..<Int.random(in: 0...7, using: &random)).map { _ in segments.randomElement(using: &random)! }
        let document = (try? DocumentPath(segments: path)) ?? (try! DocumentPath("users/alice"))
        func resource(_ random: inout SplitMix64) -> RulesResource? {
            switch Int.random(in: 0..<3, using: &random) {
            case 0: return nil
            case 1: return .document(path: document, data: randomData(&random))
            default: return .object(name: path.joined(separator: "/"), bucket: "b", properties: randomData(&random))
            }
        }
        return RulesRequest(
            method: RulesMethod.allCases.randomElement(using: &random)!, path: path,
            auth: Bool.random(using: &random) ? RulesAuth(uid: ["alice", "bob", ""].randomElement(using: &random)!, token: randomData(&random)) : nil,
            time: [Timestamp.min, .max, Timestamp(microseconds: 0), Timestamp(microseconds: .min), Timestamp(microseconds: .max)].randomElement(using: &random)!,
            resource: resource(&random), requestResource: resource(&random),
            query: Bool.random(using: &random) ? RulesQuery(limit: .random(in: -5...50, using: &random), offset: .max, orderBy: "n") : nil,
            bucket: ["default", "b", ""].randomElement(using: &random)!)
    }
}
