import Foundation
import KFCCore

#if canImport(Glibc)
    import Glibc
#endif

/// An exclusive flock(2) on a file or folder, released when the lock is freed or the
/// process dies, so that `gc` can distinguish a live build from a killed one.
final class FileLock: Sendable {
    private let descriptor: Int32
    /// The locked path.
    let path: String

    private init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    deinit { close(descriptor) }

    /// Locks `path`, creating it as an empty file when missing; waits for other holders.
    static func acquire(_ path: String) throws -> FileLock {
        let fd = try open(path)
        do {
            try SystemCall.retrying("lock \(path)") { flock(fd, LOCK_EX) }
        } catch {
            close(fd)
            throw error
        }
        return FileLock(descriptor: fd, path: path)
    }

    /// Locks `path` unless another holder has it, and returns nil in that case.
    static func attempt(_ path: String) throws -> FileLock? {
        let fd = try open(path)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            close(fd)
            if code == EWOULDBLOCK { return nil }
            throw SystemCall.error("lock \(path)", errno: code)
        }
        return FileLock(descriptor: fd, path: path)
    }

    /// Runs `body` while holding the lock on `path`.
    static func withLock<T>(_ path: String, _ body: () throws -> T) throws -> T {
        let lock = try acquire(path)
        return try withExtendedLifetime(lock) { try body() }
    }

    private static func open(_ path: String) throws -> Int32 {
        if FileSystem.isDirectory(path) {
            return try SystemCall.retrying("open \(path)") {
                Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            }
        }
        return try SystemCall.retrying("open \(path)") {
            Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        }
    }
}

/// Locks held from `beginVersion` until `publish` or `discard`, keyed by pending token.
final class HeldLocks: @unchecked Sendable {
    // The dictionary is only touched while `guardLock` is held.
    private var locks: [String: FileLock] = [:]
    private let guardLock = NSLock()

    /// Keeps `lock` until `release(token)`.
    func hold(_ lock: FileLock, for token: String) {
        guardLock.withLock { locks[token] = lock }
    }

    /// Drops the lock kept for `token`, releasing it.
    func release(_ token: String) {
        _ = guardLock.withLock { locks.removeValue(forKey: token) }
    }
}
