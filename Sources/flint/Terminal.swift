#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Standard output and standard error as file descriptors: unbuffered writes, whether each is a terminal, and
/// whether to colour it (only on a terminal, never with `NO_COLOR` set, never on a dumb terminal).
enum Terminal {
    static let standardOutput: Int32 = 1
    static let standardError: Int32 = 2
    static let standardInput: Int32 = 0

    /// Whether `descriptor` is a terminal.
    static func isTerminal(_ descriptor: Int32) -> Bool { isatty(descriptor) == 1 }

    /// Whether text written to `descriptor` may carry ANSI colours (see https://no-color.org).
    static func colours(_ descriptor: Int32) -> Bool {
        let environment = ProcessInfo.processInfo.environment
        if let noColor = environment["NO_COLOR"], !noColor.isEmpty { return false }
        if environment["TERM"] == "dumb" { return false }
        return isTerminal(descriptor)
    }

    /// Writes all of `bytes` to `descriptor`, retrying after interruptions.
    static func write(_ bytes: some Collection<UInt8>, to descriptor: Int32) throws {
        let array = Array(bytes)
        var offset = 0
        while offset < array.count {
            let written = array[offset...].withUnsafeBytes { buffer in
                #if canImport(Glibc)
                Glibc.write(descriptor, buffer.baseAddress, buffer.count)
                #elseif canImport(Musl)
                Musl.write(descriptor, buffer.baseAddress, buffer.count)
                #else
                Darwin.write(descriptor, buffer.baseAddress, buffer.count)
                #endif
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw CLIError("cannot write the output: \(String(cString: strerror(errno)))")
            }
            offset += written
        }
    }

    /// Writes text to standard output.
    static func out(_ text: String) {
        try? write(Array(text.utf8), to: standardOutput)
    }

    /// Writes text to standard error.
    static func err(_ text: String) {
        try? write(Array(text.utf8), to: standardError)
    }
}

/// ANSI styles, applied only when colours are on.
enum Style: String {
    case bold = "1"
    case dim = "2"
    case red = "31"
    case green = "32"
    case yellow = "33"
    case cyan = "36"

    func apply(_ text: String, if enabled: Bool) -> String {
        enabled ? "\u{1B}[\(rawValue)m\(text)\u{1B}[0m" : text
    }
}
