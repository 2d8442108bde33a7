#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import FlintCore
import Foundation

/// One server's credentials, as `flint login` stores them: the client credentials of a service account and the
/// last access token obtained with them.
struct Profile: Equatable {
    var url: String
    var clientID: String
    var clientSecret: String
    /// The cached access token, the URL it was issued by, and when it expires (Unix seconds).
    var accessToken: String? = nil
    var tokenURL: String? = nil
    var expiresAt: Int64? = nil

    var json: JSON {
        var members: [String: JSON] = [
            "url": .string(url), "clientId": .string(clientID), "clientSecret": .string(clientSecret),
        ]
        if let accessToken { members["accessToken"] = .string(accessToken) }
        if let tokenURL { members["tokenUrl"] = .string(tokenURL) }
        if let expiresAt { members["expiresAt"] = .integer(expiresAt) }
        return .object(members)
    }

    init(url: String, clientID: String, clientSecret: String) {
        self.url = url
        self.clientID = clientID
        self.clientSecret = clientSecret
    }

    init?(json: JSON) {
        guard let url = json["url"]?.string, let clientID = json["clientId"]?.string, let secret = json["clientSecret"]?.string
        else { return nil }
        self.init(url: url, clientID: clientID, clientSecret: secret)
        accessToken = json["accessToken"]?.string
        tokenURL = json["tokenUrl"]?.string
        if case .integer(let expiry)? = json["expiresAt"] { expiresAt = expiry }
    }
}

/// The credentials file, `$XDG_CONFIG_HOME/flint/credentials.json` (`~/.config/flint/credentials.json` without
/// the variable): profiles by name. The folder is made with mode 0700 and the file is always written with mode 0600,
/// whole, through a temporary file renamed into place.
struct ProfileStore {
    /// The folder that holds the file.
    let folder: String

    /// The folder from the environment.
    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        if let xdg = environment["XDG_CONFIG_HOME"], xdg.hasPrefix("/") {
            folder = xdg + "/flint"
        } else {
            let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
            folder = home + "/.config/flint"
        }
    }

    var path: String { folder + "/credentials.json" }

    /// Every stored profile by name; none when the file does not exist yet.
    func load() throws -> [String: Profile] {
        guard FileManager.default.fileExists(atPath: path) else { return [:] }
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError("cannot read \(path)") }
        let json: JSON
        do {
            json = try JSON(parsing: data)
        } catch {
            throw CLIError("\(path) is not valid JSON (\(error.message)); remove it and log in again")
        }
        var profiles: [String: Profile] = [:]
        if case .object(let members)? = json["profiles"] {
            for (name, value) in members {
                if let profile = Profile(json: value) { profiles[name] = profile }
            }
        }
        return profiles
    }

    /// One profile, or nil.
    func profile(_ name: String) throws -> Profile? { try load()[name] }

    /// Stores `profile` under `name` (nil removes it), keeping the others.
    func save(_ profile: Profile?, as name: String) throws {
        var profiles = try load()
        profiles[name] = profile
        try write(profiles)
    }

    private func write(_ profiles: [String: Profile]) throws {
        try makeFolder()
        let document = JSON.object(["profiles": .object(profiles.mapValues(\.json))])
        var bytes = document.serialized
        bytes.append(UInt8(ascii: "\n"))
        let temporary = path + ".tmp-\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard descriptor >= 0 else { throw CLIError("cannot write \(temporary): \(String(cString: strerror(errno)))") }
        // The mode given to open() is narrowed by the umask, never widened; fchmod makes it exactly 0600 either way.
        fchmod(descriptor, 0o600)
        do {
            try Terminal.write(bytes, to: descriptor)
            fsync(descriptor)
            close(descriptor)
        } catch {
            close(descriptor)
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw CLIError("cannot write \(path): \(reason)")
        }
    }

    private func makeFolder() throws {
        var isFolder: ObjCBool = false
        if !FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) {
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw CLIError("cannot create \(folder): \(error.localizedDescription)")
            }
        } else if !isFolder.boolValue {
            throw CLIError("\(folder) is not a folder")
        }
        chmod(folder, 0o700)
    }
}
