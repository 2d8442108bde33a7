import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The HTTP exchange every provider makes: one request, the status, the headers and a bounded body.
struct PushHTTP: Sendable {
    let client: HTTPClient
    var timeout: TimeAmount = .seconds(30)

    struct Reply: Sendable {
        var status: UInt
        var headers: HTTPHeaders
        var body: [UInt8]

        var text: String { String(decoding: body, as: UTF8.self) }

        /// The `Retry-After` header (RFC 9110 §10.2.3), in seconds or as an HTTP date, as a wait from now.
        var retryAfter: Duration? { PushHTTP.retryAfter(headers.first(name: "retry-after")) }
    }

    /// Sends the request and reads the answer (the first 64 KiB of its body).
    /// - Throws: transport errors (connection refused, TLS, timeout): the caller retries.
    func send(_ request: HTTPClientRequest) async throws -> Reply {
        let response = try await client.execute(request, timeout: timeout)
        let body = try await response.body.collect(upTo: 64 * 1024)
        return Reply(status: response.status.code, headers: response.headers, body: Array(body.readableBytesView))
    }

    static func retryAfter(_ value: String?, now: Date = Date()) -> Duration? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Int(value) { return seconds >= 0 ? .seconds(min(seconds, 24 * 3600)) : nil }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        let seconds = date.timeIntervalSince(now)
        return .milliseconds(Int64(max(0, min(seconds, 24 * 3600)) * 1000))
    }

    /// A short description of a transport error for `lastError` (no secrets in it: URLs carry none).
    static func describe(_ error: any Error) -> String {
        "\(error)".prefix(200).description
    }
}
