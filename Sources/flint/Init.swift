import ArgumentParser
import FlintCore
import Foundation

/// `flint init`: a `rules/` folder to start from.
struct Init: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a rules/ folder with rules files and their test cases.",
        discussion: """
            Writes rules/firestore.rules and rules/storage.rules (each signed-in user owns users/{uid}, nothing \
            else is open) and rules/firestore.tests.json and rules/storage.tests.json with cases that pass. \
            Existing files are kept unless --force. Then edit, `flint rules test`, and `flint rules deploy`.

            Examples:
              flint init
              flint init my-app
            """)

    @OptionGroup var options: OutputOptions

    @Argument(help: "The project folder (default: the current one).") var folder: String = "."

    @Flag(help: "Overwrite existing files.") var force = false

    func run() async throws {
        let output = options.output
        let rules = (folder as NSString).appendingPathComponent("rules")
        do {
            try FileManager.default.createDirectory(atPath: rules, withIntermediateDirectories: true)
        } catch {
            throw CLIError("cannot create \(rules): \(error.localizedDescription)")
        }
        var created: [String] = []
        var kept: [String] = []
        for (name, text) in Templates.files {
            let path = (rules as NSString).appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: path), !force {
                kept.append(path)
                continue
            }
            guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) else { throw CLIError("cannot write \(path)") }
            created.append(path)
        }
        output.document(.object(["created": .array(created.map(JSON.string)), "kept": .array(kept.map(JSON.string))]))
        for path in created { output.line(output.styled("created", .green) + " \(path)") }
        for path in kept { output.line(output.styled("kept", .yellow) + "    \(path) (exists; --force overwrites it)") }
        output.line()
        output.line("Next: edit the rules, run `flint rules test`, then `flint rules deploy`.")
    }
}

/// The files `flint init` writes.
enum Templates {
    static let files: [(String, String)] = [
        ("firestore.rules", firestoreRules), ("firestore.tests.json", firestoreTests),
        ("storage.rules", storageRules), ("storage.tests.json", storageTests),
    ]

    static let firestoreRules = """
        rules_version = '2';

        // Documents. Each signed-in user reads and writes users/{uid} and everything below it; nothing else is
        // open. Test with `flint rules test`, deploy with `flint rules deploy`; the language is Firebase's.
        service cloud.firestore {
          match /databases/{database}/documents {
            function isOwner(userId) {
              return request.auth != null && request.auth.uid == userId;
            }

            match /users/{userId}/{document=**} {
              allow read, write: if isOwner(userId);
            }
          }
        }

        """

    static let firestoreTests = """
        {"description": "Each user reads and writes users/{uid} and below; nothing else.",
         "cases": [
          {"name": "alice reads her profile", "auth": {"uid": "alice"}, "method": "get", "path": "users/alice",
           "existing": {"users/alice": {"name": "Alice"}}, "expect": "allow"},
          {"name": "alice writes a note", "auth": {"uid": "alice"}, "method": "create", "path": "users/alice/notes/n1",
           "request": {"data": {"text": "hello"}}, "expect": "allow"},
          {"name": "bob cannot read alice's profile", "auth": {"uid": "bob"}, "method": "get", "path": "users/alice",
           "existing": {"users/alice": {"name": "Alice"}}, "expect": "deny"},
          {"name": "signed out cannot read", "method": "get", "path": "users/alice", "expect": "deny"},
          {"name": "nothing else is open", "auth": {"uid": "alice"}, "method": "create", "path": "posts/p1",
           "request": {"data": {"title": "hi"}}, "expect": "deny"}
         ]}

        """

    static let storageRules = """
        rules_version = '2';

        // Files. Each signed-in user reads, uploads and deletes files under users/{uid}/, uploads of at most
        // 10 MiB; nothing else is open.
        service firebase.storage {
          match /b/{bucket}/o {
            function isOwner(userId) {
              return request.auth != null && request.auth.uid == userId;
            }

            match /users/{userId}/{allPaths=**} {
              allow read, delete: if isOwner(userId);
              allow create, update: if isOwner(userId) && request.resource.size <= 10 * 1024 * 1024;
            }
          }
        }

        """

    static let storageTests = """
        {"description": "Each user owns the files under users/{uid}/; uploads are at most 10 MiB.",
         "cases": [
          {"name": "alice uploads a photo", "auth": {"uid": "alice"}, "method": "create", "path": "users/alice/me.png",
           "request": {"size": 2048, "contentType": "image/png"}, "expect": "allow"},
          {"name": "alice cannot upload 11 MiB", "auth": {"uid": "alice"}, "method": "create", "path": "users/alice/big.zip",
           "request": {"size": 11534336, "contentType": "application/zip"}, "expect": "deny"},
          {"name": "bob cannot read alice's photo", "auth": {"uid": "bob"}, "method": "get", "path": "users/alice/me.png",
           "existing": {"users/alice/me.png": {"size": 2048, "contentType": "image/png", "metadata": {}}}, "expect": "deny"},
          {"name": "signed out cannot upload", "method": "create", "path": "users/alice/me.png",
           "request": {"size": 10, "contentType": "image/png"}, "expect": "deny"}
         ]}

        """
}
