public import Foundation

/// Security rules for tests.
public enum TestRules {
    /// The repository's `rules/open` (allow all reads and writes to everyone), for tests of behaviour other than
    /// the rules; README's walk-through runs with them too.
    public static let open: [String: String] = {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../rules/open")
        var files: [String: String] = [:]
        for name in ["firestore.rules", "storage.rules"] {
            guard let source = try? String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8) else {
                fatalError("the test rules \(folder.path)/\(name) are missing")
            }
            files[name] = source
        }
        return files
    }()

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
