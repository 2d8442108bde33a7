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
/// of its own. The tests start no child with Foundation's `Process`: its `run()` on Linux crashes now and then
/// reading `/proc/self/fd` (an over-read of `dirent.d_name`, swift-corelibs-foundation pull request 5472), more
/// often the more descriptors the test process holds open.
public func spawnAndWait(
    _ executable: String, _ arguments: [String], environment: [String: String], directory: String,
    stdin: String, stdout: String, stderr: String
) throws -> Int32 {
    try waitForExit(spawn(executable, arguments, environment: environment, directory: directory, stdin: stdin, stdout: stdout, stderr: stderr))
}

/// Starts `executable` with its output going to a new file, and reads that file (with `eventually`: no event says
/// when a line is written) until a line contains `marker`; returns the process id and that line. Throws, and kills
/// the child, if it exits first or says nothing of the kind before `eventually`'s hang guard.
public func spawn(
    _ executable: String, _ arguments: [String], inputDescriptor: Int32? = nil, output: String, untilLineContaining marker: String
) async throws -> (pid: pid_t, line: String) {
    let pid = try spawn(
        executable, arguments, environment: ProcessInfo.processInfo.environment, directory: FileManager.default.currentDirectoryPath,
        inputDescriptor: inputDescriptor, stdout: output, stderr: output)
    do {
        let line = try await eventually("\(executable) says \"\(marker)\"") { () throws -> String? in
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            // Only whole lines: the child may be halfway through writing the last one.
            let lines = text[..<(text.lastIndex(of: "\n") ?? text.startIndex)].split(separator: "\n")
            if let line = lines.first(where: { $0.contains(marker) }) { return String(line) }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                throw TestSupportError("\(executable) exited before saying \"\(marker)\": \(text.suffix(2000))")
            }
            return nil
        }
        return (pid, line)
    } catch {
        kill(pid, SIGKILL)
        throw error
    }
}

/// Waits for the child `pid` to end; returns its exit status, or 128 + the signal that ended it. Blocks: call it on a
/// thread of its own.
public func waitForExit(_ pid: pid_t) throws -> Int32 {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 {
        guard errno == EINTR else { throw TestSupportError("waitpid failed: \(String(cString: strerror(errno)))") }
    }
    let signal = status & 0x7F
    return signal == 0 ? (status >> 8) & 0xFF : 128 + signal
}

/// Starts `executable` as `spawnAndWait` does, without waiting for it; returns its process id.
/// - Parameter inputDescriptor: the read end of a pipe to be the child's standard input instead of the file `stdin`.
public func spawn(
    _ executable: String, _ arguments: [String], environment: [String: String], directory: String,
    stdin: String = "/dev/null", inputDescriptor: Int32? = nil, stdout: String, stderr: String
) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    if let inputDescriptor {
        posix_spawn_file_actions_adddup2(&actions, inputDescriptor, 0)
    } else {
        posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0)
    }
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
