// The ext2fs module header also exports sys/xattr.h, which Swift's Glibc module omits.
internal import CExt2fs
import Foundation
import KFCCore

#if canImport(Glibc)
    import Glibc
#endif

/// Makes files for test trees with byte-string names and exact metadata; every call
/// fails the test by throwing when the system call fails.
struct TreeBuilder {
    let root: [UInt8]

    init(root: String) { self.root = Array(root.utf8) }

    func path(_ relative: [UInt8]) -> [UInt8] { root + [0x2f] + relative }

    func call(_ what: String, _ result: Int32) throws {
        guard result == 0 else {
            throw KFCError.failed(what, String(cString: strerror(errno)))
        }
    }

    func directory(_ relative: String, mode: mode_t = 0o755) throws {
        try directory(Array(relative.utf8), mode: mode)
    }

    func directory(_ relative: [UInt8], mode: mode_t = 0o755) throws {
        let full = path(relative)
        try call("mkdir", TreeSnapshot.withPath(full) { mkdir($0, mode) })
        try call("chmod", TreeSnapshot.withPath(full) { chmod($0, mode) })
    }

    func file(_ relative: String, _ content: [UInt8] = [], mode: mode_t = 0o644) throws {
        try file(Array(relative.utf8), content, mode: mode)
    }

    func file(_ relative: [UInt8], _ content: [UInt8] = [], mode: mode_t = 0o644) throws {
        let full = path(relative)
        let fd = TreeSnapshot.withPath(full) { open($0, O_WRONLY | O_CREAT | O_TRUNC, 0o600) }
        guard fd >= 0 else { throw KFCError.failed("create", String(cString: strerror(errno))) }
        defer { close(fd) }
        var done = 0
        while done < content.count {
            let count = content[done...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { throw KFCError.failed("write", "short write") }
            done += count
        }
        try call("chmod", fchmod(fd, mode))
    }

    /// Creates a sparse file of `size` bytes with `pieces` written at their offsets.
    func sparseFile(_ relative: String, size: Int64, pieces: [(Int64, [UInt8])]) throws {
        let full = path(Array(relative.utf8))
        let fd = TreeSnapshot.withPath(full) { open($0, O_WRONLY | O_CREAT | O_TRUNC, 0o644) }
        guard fd >= 0 else { throw KFCError.failed("create", String(cString: strerror(errno))) }
        defer { close(fd) }
        try call("truncate", ftruncate(fd, off_t(size)))
        for (offset, bytes) in pieces {
            let count = bytes.withUnsafeBytes {
                pwrite(fd, $0.baseAddress, $0.count, off_t(offset))
            }
            guard count == bytes.count else { throw KFCError.failed("pwrite", "short write") }
        }
    }

    func symlink(_ relative: [UInt8], to target: [UInt8]) throws {
        let full = path(relative)
        try call(
            "symlink",
            TreeSnapshot.withPath(target) { t in
                TreeSnapshot.withPath(full) { Glibc.symlink(t, $0) }
            })
    }

    func hardLink(_ relative: String, to existing: String) throws {
        let from = path(Array(existing.utf8))
        let to = path(Array(relative.utf8))
        // linkat without AT_SYMLINK_FOLLOW links a symlink itself, not its target.
        try call(
            "link",
            TreeSnapshot.withPath(from) { f in
                TreeSnapshot.withPath(to) { linkat(AT_FDCWD, f, AT_FDCWD, $0, 0) }
            })
    }

    func node(_ relative: String, mode: mode_t, major: UInt32 = 0, minor: UInt32 = 0) throws {
        let device =
            (UInt64(major & 0xfff) << 8) | (UInt64(major & ~0xfff) << 32)
            | UInt64(minor & 0xff) | (UInt64(minor & ~0xff) << 12)
        try call(
            "mknod",
            TreeSnapshot.withPath(path(Array(relative.utf8))) {
                mknod($0, mode, dev_t(device))
            })
    }

    func socket(_ relative: String) throws {
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = path(Array(relative.utf8))
        guard bytes.count < 108 else { throw KFCError.failed("bind", "socket path too long") }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        try call("bind", result)
    }

    func owner(_ relative: [UInt8], uid: uid_t, gid: gid_t) throws {
        try call("lchown", TreeSnapshot.withPath(path(relative)) { lchown($0, uid, gid) })
    }

    func attribute(_ relative: [UInt8], _ name: String, _ value: [UInt8]) throws {
        try call(
            "lsetxattr \(name)",
            TreeSnapshot.withPath(path(relative)) { lsetxattr($0, name, value, value.count, 0) })
    }

    /// Sets access and modification times without following a final symlink.
    func times(_ relative: [UInt8], seconds: Int, nanoseconds: Int) throws {
        var both = [
            timespec(tv_sec: seconds, tv_nsec: nanoseconds),
            timespec(tv_sec: seconds, tv_nsec: nanoseconds),
        ]
        try call(
            "utimensat",
            TreeSnapshot.withPath(path(relative)) {
                utimensat(AT_FDCWD, $0, &both, AT_SYMLINK_NOFOLLOW)
            })
    }

    func chmodPath(_ relative: [UInt8], _ mode: mode_t) throws {
        try call("chmod", TreeSnapshot.withPath(path(relative)) { chmod($0, mode) })
    }
}

/// A POSIX ACL in the Linux xattr form: version 2, then (tag, permissions, id) entries.
func posixACL(_ entries: [(tag: UInt16, permissions: UInt16, id: UInt32)]) -> [UInt8] {
    var bytes: [UInt8] = [2, 0, 0, 0]
    for entry in entries {
        withUnsafeBytes(of: entry.tag.littleEndian) { bytes += $0 }
        withUnsafeBytes(of: entry.permissions.littleEndian) { bytes += $0 }
        withUnsafeBytes(of: entry.id.littleEndian) { bytes += $0 }
    }
    return bytes
}
