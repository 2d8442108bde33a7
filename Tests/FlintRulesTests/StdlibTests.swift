import FlintCore
import Testing

@testable import FlintRules

/// Each expression must evaluate to true (see `outcome` for the request it sees).
@Suite struct StdlibTests {
    @Test(arguments: [
        "1 == 1.0", "1 < 1.5", "2.5 >= 2", "-3 < 2", "7 / 2 == 3", "7 % 3 == 1", "-7 / 2 == -3", "7.0 / 2 == 3.5",
        "1 + 2 * 3 == 7", "(1 + 2) * 3 == 9", "10 - 2 - 3 == 5", "!(1 > 2)", "true ? 1 == 1 : false",
        "'abc' < 'abd'", "'B' < 'a'", "'ab' + 'cd' == 'abcd'", "null == null", "1 != '1'", "[1, 2] == [1.0, 2]",
        "{'a': 1} == {'a': 1.0}", "{'a': 1} != {'a': 2}", "0.1 + 0.2 != 0.3", "-(3) == -3", "1e3 == 1000",
        "b'\\x01\\x02' < b'\\x01\\x03'", "\"double\" == 'double'", "'it\\'s' == \"it's\"", "'\\u00e9' == 'é'",
    ])
    func operators(_ expression: String) async {
        #expect(await outcome(expression) == .value(.bool(true)), "\(expression)")
    }

    @Test(arguments: [
        "'hello'.size() == 5", "'héllo'.size() == 5", "'Hello'.lower() == 'hello'", "'Hello'.upper() == 'HELLO'",
        "'  x y  '.trim() == 'x y'", "'a/b/c'.split('/') == ['a', 'b', 'c']", "'a1b22c'.split('[0-9]+') == ['a', 'b', 'c']",
        "'banana'.replace('a', 'o') == 'bonono'", "'banana'.replace('ana', 'ee') == 'beena'",
        "'foo@test.com'.replace('.', '-') == '------------'", "'user@domain.com'.matches('.*@domain[.]com')",
        "!'banana'.matches('.*@domain[.]com')", "!'abc'.matches('b')", "'abc'.matches('a' + '.c')",
        "'abc'.toUtf8() == b'abc'", "'abc'.toUtf8().size() == 3", "string(true) == 'true'", "string(1) == '1'",
        "string(2.0) == '2.0'", "string(null) == 'null'", "int('42') == 42", "int(3.9) == 3", "int(-3.9) == -3",
        "float(2) == 2.0", "float('1.5') == 1.5", "'abc'[1] == 'b'", "'abcdef'[1:3] == 'bc'", "'abc'[:2] == 'ab'",
        "'AbC'.lower().upper() == 'ABC'", "b'\\x0f\\xaa'.toHexString() == '0FAA'", "b'hi'.toBase64() == 'aGk='",
    ])
    func strings(_ expression: String) async {
        #expect(await outcome(expression) == .value(.bool(true)), "\(expression)")
    }

    @Test(arguments: [
        "[1, 2, 3].size() == 3", "2 in [1, 2, 3]", "!(4 in [1, 2, 3])", "[1, 2, 3].hasAll([1, 3])", "![1, 2].hasAll([1, 3])",
        "[1, 2].hasAny([3, 2])", "![1, 2].hasAny([])", "[1, 1, 2].hasOnly([1, 2, 3])", "![1, 4].hasOnly([1, 2])",
        "['a', 'b'].join('-') == 'a-b'", "['a', 'b'].join() == 'ab'", "[1].concat([2]) == [1, 2]", "[1] + [2] == [1, 2]",
        "[1, 2, 1, 3].removeAll([1]) == [2, 3]", "[1, 2, 2].toSet() == [2, 1].toSet()", "[1, 2, 2].toSet().size() == 2",
        "[10, 20, 30][1] == 20", "[1, 2, 3, 4][1:3] == [2, 3]", "[1, 2, 3][2:] == [3]",
        "{'a': 1, 'b': 2}.keys() == ['a', 'b']", "{'a': 1, 'b': 2}.values() == [1, 2]", "{'a': 1}.size() == 1",
        "'a' in {'a': 1}", "!('b' in {'a': 1})", "{'a': 1}.get('b', 7) == 7", "{'a': 1}.get('a', 7) == 1",
        "{'a': {'b': 2}}.get(['a', 'b'], 0) == 2", "{'a': {'b': 2}}.get(['a', 'c'], 0) == 0", "{'a': 1}['a'] == 1",
        "{'a': 1}.a == 1", "{'a': 1, 'b': 2}.diff({'a': 1, 'c': 3}).addedKeys() == ['b'].toSet()",
        "{'a': 1, 'b': 2}.diff({'a': 1, 'c': 3}).removedKeys() == ['c'].toSet()",
        "{'a': 1, 'b': 2}.diff({'a': 0, 'b': 2}).changedKeys() == ['a'].toSet()",
        "{'a': 1, 'b': 2}.diff({'a': 0, 'b': 2}).unchangedKeys() == ['b'].toSet()",
        "{'a': 1, 'b': 2}.diff({'a': 0, 'c': 2}).affectedKeys() == ['a', 'b', 'c'].toSet()",
        "[1, 2].toSet().union([3].toSet()) == [1, 2, 3].toSet()", "[1, 2].toSet().intersection([2, 3]) == [2].toSet()",
        "[1, 2].toSet().difference([2].toSet()) == [1].toSet()", "2 in [1, 2].toSet()", "[1, 2].toSet().hasAll([1])",
        "[1, 2].toSet().hasAny([2, 9])", "[1, 2].toSet().hasOnly([1, 2, 3])", "1.0 in [1]", "[[1]] == [[1.0]]",
    ])
    func collections(_ expression: String) async {
        #expect(await outcome(expression) == .value(.bool(true)), "\(expression)")
    }

    @Test(arguments: [
        "timestamp.date(2026, 11, 26) < request.time", "request.time.year() == 2026", "request.time.month() == 11",
        "request.time.day() == 26", "request.time.hours() == 10", "request.time.minutes() == 0", "request.time.seconds() == 0",
        "request.time.nanos() == 0", "request.time.dayOfWeek() == 4", "request.time.dayOfYear() == 330",
        "timestamp.value(1000).toMillis() == 1000", "timestamp.value(0) == timestamp.date(1970, 1, 1)",
        "request.time.date() == timestamp.date(2026, 11, 26)", "request.time.time() == duration.time(10, 0, 0, 0)",
        "request.time + duration.value(1, 'd') > request.time", "request.time - duration.value(2, 'h') < request.time",
        "request.time - timestamp.date(2026, 11, 26) == duration.value(10, 'h')", "duration.value(90, 's').seconds() == 90",
        "duration.value(1500, 'ms').nanos() == 500000000", "duration.value(1, 'w') == duration.value(7, 'd')",
        "duration.abs(duration.value(-10, 's')) == duration.value(10, 's')", "duration.value(1, 'm') < duration.value(61, 's')",
        "timestamp.value(1700000000123).nanos() == 123000000", "timestamp.date(2024, 12, 31).dayOfYear() == 366",
        "timestamp.date(2026, 11, 30).dayOfWeek() == 1", "timestamp.date(2026, 11, 29).dayOfWeek() == 7",
        "timestamp.value(-1).toMillis() == -1", "timestamp.value(-1).year() == 1969",
    ])
    func time(_ expression: String) async {
        #expect(await outcome(expression) == .value(.bool(true)), "\(expression)")
    }

    @Test(arguments: [
        "math.abs(-2) == 2", "math.abs(-2.5) == 2.5", "math.ceil(2.1) == 3", "math.ceil(2.0) == 2", "math.floor(2.7) == 2",
        "math.round(2.5) == 3", "math.round(2.4) == 2", "math.round(-2.5) == -3", "math.sqrt(2.25) == 1.5",
        "math.pow(2, 10) == 1024", "math.pow(4, 0.5) == 2", "math.isInfinite(1.0 / 0)", "!math.isInfinite(100)",
        "math.isNaN(math.sqrt(-1.0))", "!math.isNaN(1)", "math.ceil(2) is int", "math.sqrt(4) is float",
        "latlng.value(1, 2).latitude() == 1", "latlng.value(1, 2).longitude() == 2.0",
        "math.abs(latlng.value(0, 0).distance(latlng.value(0, 1)) - 111195) < 10",
        "hashing.sha256('abc') == hashing.sha256(b'abc')", "hashing.md5('').toHexString() == 'D41D8CD98F00B204E9800998ECF8427E'",
        "hashing.crc32('123456789').toHexString() == 'CBF43926'", "hashing.crc32c('123456789').toHexString() == 'E3069283'",
        "debug(5) == 5", "path('users/alice') == /users/alice", "path('/a/b')[1] == 'b'",
        "path('/a/{x}').bind({'x': 'b'}) == /a/b", "/databases/$(database)/documents/x == path('databases/(default)/documents/x')",
        "/a/$(thing)/b$(thing) == /a/t1/bt1", "request.path == /databases/(default)/documents/things/t1",
        "request.path[4] == 't1'", "resource.__name__ == request.path", "resource.id == 't1'", "resource.data.owner == 'alice'",
        "request.auth.token.admin", "request.method == 'get'", "request.resource == null", "database == '(default)'",
        "exists(/databases/$(database)/documents/users/alice)", "!exists(/databases/$(database)/documents/users/bob)",
        "get(/databases/$(database)/documents/users/alice).data.role == 'admin'",
        "get(/databases/$(database)/documents/users/alice).id == 'alice'",
        "1 is int", "1.0 is float", "1 is number", "1.5 is number", "'' is string", "true is bool", "[] is list", "{} is map",
        "request.time is timestamp", "duration.value(1, 's') is duration", "request.path is path", "latlng.value(0, 0) is latlng",
        "b'' is bytes", "[].toSet() is set", "!(null is map)", "!(1 is string)", "resource.data is map", "request.auth is map",
    ])
    func functionsAndRequest(_ expression: String) async {
        #expect(await outcome(expression) == .value(.bool(true)), "\(expression)")
    }

    @Test func hashingMatchesKnownDigests() {
        func hex(_ bytes: [UInt8]) -> String { bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined() }
        #expect(hex(Hashing.sha256([])) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(hex(Hashing.sha256(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let long = Array(String(repeating: "a", count: 1000).utf8)
        #expect(hex(Hashing.sha256(long)) == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
        #expect(hex(Hashing.md5(Array("The quick brown fox jumps over the lazy dog".utf8))) == "9e107d9d372bb6826bd81d3542a419d6")
        #expect(hex(Hashing.md5(Array(String(repeating: "1234567890", count: 8).utf8))) == "57edf4a22be3c955ac49da2e2107b67a")
    }
}
