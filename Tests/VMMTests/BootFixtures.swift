import Ext4
import Foundation
import KFCCore
import TestSupport

/// Builds ext4 images of the Alpine minirootfs for the boot tests.
enum BootFixtures {
    /// Whether the fixtures and tools the image tests need are present.
    static var canBuildImages: Bool {
        TestEnvironment.hasFixtures && TestEnvironment.hasTools("tar", "debugfs")
    }

    /// Whether a QEMU boot can run here.
    static var canBoot: Bool { canBuildImages && TestEnvironment.hasTools("qemu-system-x86_64") }

    /// Writes `folder/rootfs.ext4` from the Alpine minirootfs with the `Ext4` writer and
    /// returns its path. When `edit` is given, the tarball is unpacked into `folder/tree`
    /// with tar (as root, to keep owners), `edit` changes the tree, and the tree is written.
    static func alpineImage(in folder: String, edit: ((String) throws -> Void)? = nil) throws
        -> String
    {
        let image = "\(folder)/rootfs.ext4"
        guard let edit else {
            _ = try Ext4Writer.write(
                archive: TestEnvironment.alpineTarball, to: image, options: Ext4Options(),
                logger: .silent)
            return image
        }
        let tree = "\(folder)/tree"
        try FileSystem.createDirectory(tree)
        defer { try? FileSystem.remove(tree) }
        try Command("tar", ["-xzf", TestEnvironment.alpineTarball, "-C", tree]).run()
        try edit(tree)
        _ = try Ext4Writer.write(
            directory: tree, to: image, options: Ext4Options(), logger: .silent)
        return image
    }

    /// Replaces whatever is at `path` with a symlink to `target`.
    static func link(_ path: String, to target: String) throws {
        try FileSystem.remove(path)
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: target)
    }

    /// The pids of this process's living children whose command name starts with `name`.
    ///
    /// Suites run in parallel, so each suite checks only for its own VMM program.
    static func livingChildren(named name: String) -> [Int32] {
        let me = getpid()
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")")
            else { return false }
            let command = stat[stat.index(after: open)..<close]
            // The fields after the command name start with the state and the parent pid.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return command.hasPrefix(name) && fields.count > 1 && Int32(fields[1]) == me
                && fields[0] != "Z"
        }
    }
}
