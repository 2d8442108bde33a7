/// One problem found while compiling a rules file, at a 1-based line and column of the offending token.
public struct RulesDiagnostic: Sendable, Equatable, CustomStringConvertible {
    /// The 1-based line of the offending token.
    public var line: Int
    /// The 1-based column of the offending token, counted in Unicode scalars.
    public var column: Int
    /// What is wrong and, where it helps, how to fix it.
    public var message: String

    /// Makes a diagnostic.
    public init(line: Int, column: Int, message: String) {
        self.line = line
        self.column = column
        self.message = message
    }

    /// `line:column: message`, as compilers print it.
    public var description: String { "\(line):\(column): \(message)" }
}

/// A rules file that does not compile: every problem found, in source order.
public struct RulesCompileError: Error, Sendable, CustomStringConvertible {
    /// The problems, sorted by line and column; never empty.
    public var diagnostics: [RulesDiagnostic]

    /// Makes an error from its diagnostics.
    public init(diagnostics: [RulesDiagnostic]) { self.diagnostics = diagnostics }

    /// One diagnostic per line.
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

/// A position in the rules source, 1-based.
struct SourcePosition: Sendable, Equatable, Comparable, CustomStringConvertible {
    var line: Int32
    var column: Int32

    init(line: Int, column: Int) {
        self.line = Int32(clamping: line)
        self.column = Int32(clamping: column)
    }

    static let none = SourcePosition(line: 0, column: 0)

    static func < (a: SourcePosition, b: SourcePosition) -> Bool {
        a.line != b.line ? a.line < b.line : a.column < b.column
    }

    var description: String { "\(line):\(column)" }
}
