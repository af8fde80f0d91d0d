import Foundation
import KFCCore
import Recipes

#if canImport(Glibc)
    import Glibc
#endif

/// Writes a recipe's `files` into a tree, resolving every path inside the tree.
///
/// A symlink in the tree is followed as the guest would follow it, with `/` meaning the
/// tree's root and `..` stopping there, so an added file never lands on the host.
enum TreeFiles {
    /// The maximum number of symlinks followed while resolving one path, as in the kernel.
    static let maxSymlinks = 40

    /// Adds every file of `recipe` to the tree at `root`.
    static func add(_ recipe: Recipe, root: String, logger: Logger) throws {
        guard !recipe.files.isEmpty else { return }
        let accounts = try Accounts(root: root)
        let recipeFolder = (recipe.path as NSString).deletingLastPathComponent
        for file in recipe.files {
            try withContext("\(file.mark): file \(file.path)") {
                let data = try content(of: file, recipeFolder: recipeFolder)
                let owner = try accounts.resolve(file.owner)
                let parent = try resolveInside(
                    root: root, path: (file.path as NSString).deletingLastPathComponent,
                    createMissing: true)
                let target = "\(parent)/\((file.path as NSString).lastPathComponent)"
                try write(data, to: target, mode: file.mode, owner: owner)
            }
            logger.debug("added file", [("path", file.path)])
        }
    }

    private static func content(of file: Recipe.File, recipeFolder: String) throws -> Data {
        switch file.content {
        case .inline(let text): return Data(text.utf8)
        case .file(let from):
            let path = from.hasPrefix("/") ? from : "\(recipeFolder)/\(from)"
            return try FileSystem.read(path)
        }
    }

    /// Writes `data` without following a symlink at `target`: one there is replaced.
    private static func write(
        _ data: Data, to target: String, mode: UInt32, owner: (uid: UInt32, gid: UInt32)
    ) throws {
        var info = stat()
        if lstat(target, &info) == 0, info.st_mode & S_IFMT != S_IFREG {
            guard info.st_mode & S_IFMT == S_IFLNK else {
                throw KFCError.invalid(target, "exists and is not a regular file")
            }
            unlink(target)
        }
        let fd = try SystemCall.retrying("open \(target)") {
            open(target, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o600)
        }
        defer { close(fd) }
        try FileSystem.writeAll(data, to: fd, path: target)
        try SystemCall.retrying("chown \(target)") { fchown(fd, owner.uid, owner.gid) }
        // fchmod after fchown, because chown clears setuid and setgid bits.
        try SystemCall.retrying("chmod \(target)") { fchmod(fd, mode_t(mode)) }
    }

    /// Resolves the folder `path` inside the tree at `root` to a host path, following
    /// symlinks within the tree. Missing folders are created with mode 0755 when asked.
    static func resolveInside(root: String, path: String, createMissing: Bool) throws -> String {
        var pending = path.split(separator: "/").map(String.init)
        var resolved: [String] = []
        var followed = 0
        while !pending.isEmpty {
            let component = pending.removeFirst()
            if component == "." || component.isEmpty { continue }
            if component == ".." {
                _ = resolved.popLast()
                continue
            }
            let host = ([root] + resolved + [component]).joined(separator: "/")
            var info = stat()
            if lstat(host, &info) != 0 {
                guard createMissing else { throw KFCError.notFound(path, "no such folder in the tree") }
                try SystemCall.retrying("create folder \(host)") { mkdir(host, 0o755) }
                resolved.append(component)
                continue
            }
            if info.st_mode & S_IFMT == S_IFLNK {
                followed += 1
                guard followed <= maxSymlinks else {
                    throw KFCError.invalid(path, "too many levels of symlinks in the tree")
                }
                let target = try FileManager.default.destinationOfSymbolicLink(atPath: host)
                if target.hasPrefix("/") { resolved = [] }
                pending = target.split(separator: "/").map(String.init) + pending
                continue
            }
            guard info.st_mode & S_IFMT == S_IFDIR else {
                throw KFCError.invalid(path, "'\(component)' in the tree is not a folder")
            }
            resolved.append(component)
        }
        return ([root] + resolved).joined(separator: "/")
    }
}

/// User and group names of a tree, read from its /etc/passwd and /etc/group.
struct Accounts {
    private var users: [String: (uid: UInt32, gid: UInt32)] = [:]
    private var groups: [String: UInt32] = [:]

    init(root: String) throws {
        for line in Accounts.lines("\(root)/etc/passwd") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count >= 4, let uid = UInt32(fields[2]), let gid = UInt32(fields[3])
            else { continue }
            users[String(fields[0])] = (uid, gid)
        }
        for line in Accounts.lines("\(root)/etc/group") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count >= 3, let gid = UInt32(fields[2]) else { continue }
            groups[String(fields[0])] = gid
        }
    }

    /// Returns the ids of `owner`: `USER`, `USER:GROUP` or numbers.
    func resolve(_ owner: String) throws -> (uid: UInt32, gid: UInt32) {
        let parts = owner.split(separator: ":", maxSplits: 1).map(String.init)
        guard let userPart = parts.first else { throw KFCError.invalid(owner, "empty owner") }
        let user: (uid: UInt32, gid: UInt32)
        if let uid = UInt32(userPart) {
            user = (uid, users.values.first { $0.uid == uid }?.gid ?? uid)
        } else if let known = users[userPart] {
            user = known
        } else {
            throw KFCError.invalid("owner \(owner)", "user '\(userPart)' is not in the tree's /etc/passwd")
        }
        guard parts.count == 2 else { return user }
        if let gid = UInt32(parts[1]) { return (user.uid, gid) }
        guard let gid = groups[parts[1]] else {
            throw KFCError.invalid("owner \(owner)", "group '\(parts[1])' is not in the tree's /etc/group")
        }
        return (user.uid, gid)
    }

    private static func lines(_ path: String) -> [Substring] {
        guard let data = try? FileSystem.read(path) else { return [] }
        return String(decoding: data, as: UTF8.self).split(separator: "\n")
    }
}
