import Foundation
import KFCCore
import TestSupport

/// Builds ext4 images of the Alpine minirootfs for the boot tests.
enum BootFixtures {
    /// Whether the fixtures and tools the image tests need are present.
    static var canBuildImages: Bool {
        TestEnvironment.hasFixtures && TestEnvironment.hasTools("tar", "mke2fs", "debugfs")
    }

    /// Whether a QEMU boot can run here.
    static var canBoot: Bool { canBuildImages && TestEnvironment.hasTools("qemu-system-x86_64") }

    /// Unpacks the Alpine minirootfs into `folder/tree`, lets `edit` change the tree, and
    /// writes `folder/rootfs.ext4` from it; returns the image path.
    ///
    /// This uses `mke2fs -d` rather than the `Ext4` module's writer, which is not written
    /// yet; it is a fallback for these tests only.
    static func alpineImage(in folder: String, edit: (String) throws -> Void = { _ in }) throws
        -> String
    {
        let tree = "\(folder)/tree"
        try FileSystem.createDirectory(tree)
        try Command("tar", ["-xzf", TestEnvironment.alpineTarball, "-C", tree]).run()
        try edit(tree)
        let image = "\(folder)/rootfs.ext4"
        try Command("mke2fs", ["-q", "-F", "-t", "ext4", "-d", tree, image, "64M"]).run()
        try FileSystem.remove(tree)
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
