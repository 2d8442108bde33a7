/// An error that Flint reports to a client: a stable public code and a message that says what to fix.
///
/// The codes are the ones DESIGN.md lists; the HTTP edge maps each to one status.
/// A Swift error's own text never reaches a client: only a `FlintError` does.
public struct FlintError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The public error codes, as they appear in `{"error": {"code": …}}`.
    public enum Code: String, Sendable, CaseIterable {
        case invalidArgument = "invalid-argument"
        case notFound = "not-found"
        case alreadyExists = "already-exists"
        case failedPrecondition = "failed-precondition"
        case aborted
        case permissionDenied = "permission-denied"
        case unauthenticated
        case resourceExhausted = "resource-exhausted"
        case outOfRange = "out-of-range"
        case unavailable
        case `internal`
    }

    /// The public code.
    public var code: Code
    /// A sentence for the person who sent the request: what is wrong and how to fix it.
    public var message: String
    /// Structured detail a program can act on, such as every error of a rules file with its line and column.
    public var details: JSON?

    public init(_ code: Code, _ message: String, details: JSON? = nil) {
        self.code = code
        self.message = message
        self.details = details
    }

    public var description: String { "\(code.rawValue): \(message)" }

    public static func invalidArgument(_ message: String) -> FlintError { FlintError(.invalidArgument, message) }
    public static func notFound(_ message: String) -> FlintError { FlintError(.notFound, message) }
    public static func failedPrecondition(_ message: String) -> FlintError { FlintError(.failedPrecondition, message) }
}
