import Foundation
import KFCCore

#if canImport(Glibc)
    import Glibc
#endif

/// A tree with every kind of entry ext4 stores and the hard cases of each (needs root for
/// owners, device nodes and trusted./security. xattrs).
enum FidelityTree {
    /// The epoch the fidelity images use: 2096, so times after 2038 survive and one later
    /// time is clamped.
    static let epoch: Int64 = 4_000_000_000

    /// Builds the tree in the empty folder `root`.
    static func build(in root: String, bigDirectoryEntries: Int = 20_000) throws {
        let tree = TreeBuilder(root: root)
        try files(tree)
        try names(tree, bigDirectoryEntries: bigDirectoryEntries)
        try links(tree)
        try specials(tree)
        try attributes(tree)
        try modes(tree)
        try setTimes(root)
    }

    private static func files(_ tree: TreeBuilder) throws {
        try tree.file("empty")
        try tree.file("small", Array("hello, ext4\n".utf8))
        var random = SystemRandomNumberGenerator()
        try tree.file(
            "random-1M", (0..<(1 << 20)).map { _ in UInt8.random(in: 0...255, using: &random) })
        try tree.sparseFile(
            "sparse", size: 64 << 20,
            pieces: [
                (0, Array("start".utf8)), (20 << 20, Array("middle".utf8)),
                ((64 << 20) - 3, Array("end".utf8)),
            ])
        // 300 separate data blocks give more extents than fit in the inode.
        let pieces = (0..<300).map { (Int64($0) * 3 * 4096, Array("piece \($0)".utf8)) }
        try tree.sparseFile("fragmented", size: 300 * 3 * 4096, pieces: pieces)
    }

    private static func names(_ tree: TreeBuilder, bigDirectoryEntries: Int) throws {
        try tree.directory("names")
        try tree.file(Array("names/".utf8) + [UInt8](repeating: UInt8(ascii: "n"), count: 255))
        try tree.file("names/with space")
        try tree.file("names/with\nnewline")
        try tree.file(Array("names/".utf8) + [0xff, 0xfe, 0x41, 0x80])
        try tree.directory("big")
        // Names of 120 bytes make the htree need a second index level.
        let padding = String(repeating: "x", count: 110)
        for index in 0..<bigDirectoryEntries {
            try tree.file("big/\(padding)-\(index)")
        }
        var deep = "deep"
        try tree.directory(deep)
        for level in 0..<100 {
            deep += "/d\(level)"
            try tree.directory(deep)
        }
        try tree.file(deep + "/bottom", Array("at the bottom".utf8))
    }

    private static func links(_ tree: TreeBuilder) throws {
        try tree.directory("links")
        try tree.symlink(Array("links/fast".utf8), to: Array("../small".utf8))
        try tree.symlink(
            Array("links/slow".utf8), to: [UInt8](repeating: UInt8(ascii: "s"), count: 4095))
        try tree.symlink(Array("links/dangling".utf8), to: Array("no/such/file".utf8))
        try tree.symlink(Array("links/absolute".utf8), to: Array("/etc/passwd".utf8))
        try tree.file("links/original", Array("linked content".utf8))
        try tree.hardLink("links/second", to: "links/original")
        try tree.hardLink("names/third", to: "links/original")
        try tree.hardLink("links/fast-again", to: "links/fast")
    }

    private static func specials(_ tree: TreeBuilder) throws {
        try tree.directory("dev")
        try tree.node("dev/null", mode: S_IFCHR | 0o666, major: 1, minor: 3)
        try tree.node("dev/big-numbers", mode: S_IFBLK | 0o660, major: 300, minor: 70000)
        try tree.node("dev/fifo", mode: S_IFIFO | 0o644)
        try tree.socket("dev/socket")
    }

    private static func attributes(_ tree: TreeBuilder) throws {
        try tree.file("xattrs", Array("with attributes".utf8))
        let path = Array("xattrs".utf8)
        try tree.attribute(path, "user.small", Array("value".utf8))
        try tree.attribute(path, "user.large", [UInt8](repeating: 0x61, count: 3000))
        try tree.attribute(path, "trusted.secret", [0, 1, 2, 0])
        let capability: [UInt8] = [0, 0, 0, 2, 0, 0x20, 0, 0] + [UInt8](repeating: 0, count: 12)
        try tree.attribute(path, "security.capability", capability)
        let acl = posixACL([
            (1, 6, 0xffff_ffff), (2, 4, 1000), (4, 4, 0xffff_ffff),
            (0x10, 4, 0xffff_ffff), (0x20, 4, 0xffff_ffff),
        ])
        try tree.attribute(path, "system.posix_acl_access", acl)
        try tree.attribute(Array("names".utf8), "system.posix_acl_default", acl)
        try tree.attribute(Array("names".utf8), "user.on-a-folder", Array("yes".utf8))
        try tree.attribute(Array("links/fast".utf8), "trusted.on-a-symlink", Array("yes".utf8))
    }

    private static func modes(_ tree: TreeBuilder) throws {
        try tree.directory("modes")
        try tree.file("modes/setuid", mode: 0o4755)
        try tree.file("modes/setgid", mode: 0o2711)
        try tree.file("modes/nothing", mode: 0)
        try tree.directory("modes/sticky", mode: 0o1777)
        try tree.directory("modes/read-only", mode: 0o755)
        try tree.file("modes/read-only/inside")
        try tree.chmodPath(Array("modes/read-only".utf8), 0o555)
        try tree.file("modes/high-ids")
        try tree.owner(Array("modes/high-ids".utf8), uid: 70_000, gid: 4_000_000_000)
        try tree.owner(Array("links/slow".utf8), uid: 1234, gid: 5678)
    }

    /// Gives every entry its own time, deepest first: nanoseconds, times before and after
    /// 2038, and some after the epoch that the writer must clamp.
    private static func setTimes(_ root: String) throws {
        let tree = TreeBuilder(root: root)
        var paths: [[UInt8]] = []
        func collect(_ relative: [UInt8]) throws {
            let full = tree.path(relative)
            var info = stat()
            guard TreeSnapshot.withPath(full, { lstat($0, &info) }) == 0 else { return }
            if info.st_mode & S_IFMT == S_IFDIR {
                for name in try TreeSnapshot.names(full) {
                    try collect(relative.isEmpty ? name : relative + [0x2f] + name)
                }
            }
            paths.append(relative)
        }
        try collect([])
        let bases = [1_000_000_000, 2_200_000_000, 3_900_000_000, 4_100_000_000]
        for (index, relative) in paths.enumerated() {
            let full = relative.isEmpty ? Array(root.utf8) : tree.path(relative)
            var both = [
                timespec(tv_sec: bases[index % 4] + index, tv_nsec: (index * 7919) % 1_000_000_000),
                timespec(
                    tv_sec: bases[(index + 1) % 4] + index,
                    tv_nsec: (index * 104729) % 1_000_000_000),
            ]
            try tree.call(
                "utimensat",
                TreeSnapshot.withPath(full) {
                    utimensat(AT_FDCWD, $0, &both, AT_SYMLINK_NOFOLLOW)
                })
        }
    }
}
