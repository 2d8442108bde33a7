import FlintCore
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A signed-in session: the user, the latest access token with its expiry, and the refresh token.
struct Session: Sendable, Equatable {
    var user: User
    var accessToken: String
    var refreshToken: String
    var expiresAt: Date

    /// Reads the server's token answer (RFC 6749 §5.1, with `user`). A refresh answer may leave out `user`: the
    /// previous session's user stays.
    init(answer: JSON, previous: Session?) throws(FlintError) {
        let object = try JSONObject(answer, context: "token answer")
        accessToken = try object.string("access_token")
        refreshToken = try object.string("refresh_token")
        let lifetime = try object.optionalInteger("expires_in") ?? 3600
        expiresAt = Date(timeIntervalSinceNow: Double(lifetime))
        if let userJSON = object["user"] {
            user = try User(json: userJSON)
        } else if let previous {
            user = previous.user
        } else {
            throw FlintError(.internal, "the server's token answer has no user")
        }
    }

    init(user: User, accessToken: String, refreshToken: String, expiresAt: Date) {
        self.user = user
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.expiresAt = expiresAt
    }

    var json: JSON {
        var user: [String: JSON] = [
            "uid": .string(self.user.uid), "provider": .string(self.user.provider), "anonymous": .bool(self.user.isAnonymous),
        ]
        if let email = self.user.email { user["email"] = .string(email) }
        return .object([
            "user": .object(user), "accessToken": .string(accessToken), "refreshToken": .string(refreshToken),
            "expiresAt": .double(expiresAt.timeIntervalSince1970),
        ])
    }

    init(stored json: JSON) throws(FlintError) {
        let object = try JSONObject(json, context: "session")
        guard let userJSON = object["user"] else { throw .invalidArgument("session.user is missing") }
        user = try User(json: userJSON)
        accessToken = try object.string("accessToken")
        refreshToken = try object.string("refreshToken")
        guard let expiry = object["expiresAt"]?.number else { throw .invalidArgument("session.expiresAt is missing") }
        expiresAt = Date(timeIntervalSince1970: expiry)
    }
}

/// The session on disk: `session.json` in the cache directory, created with mode 0600 (owner read and write only)
/// and replaced atomically (written to a temporary file, synced, renamed over the old one).
struct SessionFile: Sendable {
    let path: String

    func load() -> Session? {
        guard let data = FileManager.default.contents(atPath: path), let json = try? JSON(parsing: Array(data)) else { return nil }
        return try? Session(stored: json)
    }

    func save(_ session: Session) throws {
        let temporary = path + ".tmp"
        unlink(temporary)
        // Created 0600 from the first byte: the refresh token is never readable by others, not even briefly.
        let fd = open(temporary, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FlintError(.internal, "cannot create \(temporary): errno \(errno)") }
        let bytes = session.json.serialized
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                close(fd)
                unlink(temporary)
                throw FlintError(.internal, "cannot write \(temporary): errno \(errno)")
            }
            written += n
        }
        fsync(fd)
        close(fd)
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw FlintError(.internal, "cannot replace \(path): errno \(errno)")
        }
    }

    func remove() {
        unlink(path)
    }
}
