import Foundation
import KFCCore

#if canImport(Glibc)
    import Glibc
#endif

/// The fields a test compares of one file system entry.
public struct EntrySummary: Equatable, Sendable, CustomStringConvertible {
    /// `file`, `dir`, `link`, `char`, `block`, `fifo` or `socket`.
    public var type: String
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    /// The size of regular files and symlinks; 0 for the rest.
    public var size: Int64
    /// The sha256 of a regular file's content, or a symlink's target.
    public var content: String
    public var modificationSeconds: Int64
    public var device: UInt64

    public var description: String {
        "\(type) \(String(mode, radix: 8)) \(uid):\(gid) size=\(size) \(content) "
            + "mtime=\(modificationSeconds) rdev=\(device)"
    }
}

/// A listing of a tree, path to summary, that tests compare between a folder and a mount.
public enum TreeDump {
    /// Lists every entry below `root` (not `root` itself), keyed by its path relative to `root`.
    public static func entries(_ root: String) throws -> [String: EntrySummary] {
        var result: [String: EntrySummary] = [:]
        try walk(root, relative: "", into: &result)
        return result
    }

    /// Returns the lines on which two dumps differ, `path: expected | actual`, sorted.
    public static func differences(
        _ expected: [String: EntrySummary], _ actual: [String: EntrySummary]
    ) -> [String] {
        let paths = Set(expected.keys).union(actual.keys).sorted()
        return paths.compactMap { path in
            let left = expected[path]
            let right = actual[path]
            guard left != right else { return nil }
            return "\(path): \(left.map(\.description) ?? "missing") | "
                + "\(right.map(\.description) ?? "missing")"
        }
    }

    private static func walk(
        _ folder: String, relative: String, into result: inout [String: EntrySummary]
    ) throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        for name in names {
            let path = "\(folder)/\(name)"
            let key = relative.isEmpty ? name : "\(relative)/\(name)"
            let summary = try summarize(path)
            result[key] = summary
            if summary.type == "dir" { try walk(path, relative: key, into: &result) }
        }
    }

    private static func summarize(_ path: String) throws -> EntrySummary {
        var info = stat()
        try SystemCall.retrying("lstat \(path)") { lstat(path, &info) }
        let format = info.st_mode & S_IFMT
        var summary = EntrySummary(
            type: typeName(format), mode: UInt32(info.st_mode & 0o7777), uid: info.st_uid,
            gid: info.st_gid, size: 0, content: "", modificationSeconds: Int64(info.st_mtim.tv_sec),
            device: 0)
        switch format {
        case S_IFREG:
            summary.size = Int64(info.st_size)
            summary.content = try Digest.ofFile(path).hex
        case S_IFLNK:
            summary.size = Int64(info.st_size)
            summary.content = try FileManager.default.destinationOfSymbolicLink(atPath: path)
        case S_IFCHR, S_IFBLK:
            summary.device = UInt64(info.st_rdev)
        default:
            break
        }
        return summary
    }

    private static func typeName(_ format: mode_t) -> String {
        switch format {
        case S_IFREG: "file"
        case S_IFDIR: "dir"
        case S_IFLNK: "link"
        case S_IFCHR: "char"
        case S_IFBLK: "block"
        case S_IFIFO: "fifo"
        default: "socket"
        }
    }
}

/// A read-only loop mount of an image, made and removed by one test.
public final class LoopMount {
    /// The folder the image is mounted on.
    public let point: String

    /// Mounts `image` read-only on a fresh folder.
    public init(_ image: String) throws {
        point = try TestEnvironment.temporaryDirectory("kfc-mount")
        do {
            try Command("mount", ["-o", "loop,ro", image, point]).run()
        } catch {
            try? FileSystem.remove(point)
            throw error
        }
    }

    /// Unmounts (which also frees the loop device) and removes the folder.
    public func unmount() {
        _ = try? Command("umount", [point]).run()
        rmdir(point)
    }
}

/// Lists the mount points below `path` in this process's mount namespace.
public func mountPoints(below path: String) -> [String] {
    guard let table = try? FileSystem.read("/proc/self/mountinfo") else { return [] }
    return String(decoding: table, as: UTF8.self).split(separator: "\n").compactMap { line in
        let fields = line.split(separator: " ")
        guard fields.count > 4 else { return nil }
        let point = String(fields[4])
        return point.hasPrefix(path) ? point : nil
    }
}
