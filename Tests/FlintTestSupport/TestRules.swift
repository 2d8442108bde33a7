public import Foundation

/// Security rules for tests.
public enum TestRules {
    /// Open rules: allow all reads and writes to everyone, for tests of behaviour other than the rules.
    public static let open: [String: String] = [
        "firestore.rules": """
            rules_version = '2';
            service cloud.firestore {
              match /databases/{database}/documents {
                match /{document=**} {
                  allow read, write: if true;
                }
              }
            }
            """,
        "storage.rules": """
            rules_version = '2';
            service firebase.storage {
              match /b/{bucket}/o {
                match /{allPaths=**} {
                  allow read, write: if true;
                }
              }
            }
            """,
    ]

    /// Writes rules files (name to source) into a new folder inside `directory` and returns the folder's path.
    public static func folder(_ files: [String: String], in directory: String) throws -> String {
        let folder = URL(fileURLWithPath: directory).appendingPathComponent("rules-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (name, source) in files {
            try Data(source.utf8).write(to: folder.appendingPathComponent(name))
        }
        return folder.path
    }
}
