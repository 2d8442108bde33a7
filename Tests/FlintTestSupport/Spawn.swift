#if canImport(Glibc)
import Glibc
#endif
import Foundation

private typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

/// A function of the C library looked up by name.
private func glibcFunction<F>(_ name: String, as type: F.Type) -> F? {
    guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }
    return unsafeBitCast(symbol, to: type)
}

/// Starts `executable` with posix_spawn (standard input, output and error redirected to files, descriptors above 2
/// closed) and waits for it; returns its exit status, or 128 + the signal that ended it. Blocks: call it on a thread
/// of its own. Foundation's `Process` is not used: with the many descriptors the whole test suite holds open, its
/// `run()` has crashed copying them.
public func spawnAndWait(
    _ executable: String, _ arguments: [String], environment: [String: String], directory: String,
    stdin: String, stdout: String, stderr: String
) throws -> Int32 {
    let pid = try spawn(executable, arguments, environment: environment, directory: directory, stdin: stdin, stdout: stdout, stderr: stderr)
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 {
        guard errno == EINTR else { throw TestSupportError("waitpid failed: \(String(cString: strerror(errno)))") }
    }
    let signal = status & 0x7F
    return signal == 0 ? (status >> 8) & 0xFF : 128 + signal
}

/// Starts `executable` as `spawnAndWait` does, without waiting for it; returns its process id.
public func spawn(
    _ executable: String, _ arguments: [String], environment: [String: String], directory: String,
    stdin: String, stdout: String, stderr: String
) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    if stderr == stdout {
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
    } else {
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    }
    // glibc's _np additions are not in Swift's Glibc module; they are in every glibc since 2.34.
    guard let addChdir = glibcFunction("posix_spawn_file_actions_addchdir_np", as: AddChdir.self),
        let addCloseFrom = glibcFunction("posix_spawn_file_actions_addclosefrom_np", as: AddCloseFrom.self)
    else { throw TestSupportError("this C library lacks posix_spawn_file_actions_addchdir_np or _addclosefrom_np (glibc 2.34+)") }
    _ = addCloseFrom(&actions, 3)
    _ = addChdir(&actions, directory)
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
        for pointer in argv { free(pointer) }
        for pointer in envp { free(pointer) }
    }
    var pid = pid_t()
    let spawned = posix_spawn(&pid, executable, &actions, nil, argv, envp)
    guard spawned == 0 else { throw TestSupportError("cannot start \(executable): \(String(cString: strerror(spawned)))") }
    return pid
}
