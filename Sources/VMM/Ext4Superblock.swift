import Foundation
import KFCCore
import Kernels

/// The ext4 superblock fields that decide whether a guest kernel can mount an image.
struct Ext4Superblock {
    /// The superblock's offset in the image, in bytes.
    static let offset = 1024
    /// `s_magic`.
    static let magic: UInt16 = 0xEF53

    /// `s_feature_compat`; these never stop a mount.
    var compatible: UInt32
    /// `s_feature_incompat`; a kernel that lacks one of these cannot mount the image.
    var incompatible: UInt32
    /// `s_feature_ro_compat`; a kernel that lacks one of these can mount it read-only only.
    var readOnlyCompatible: UInt32

    /// Reads the superblock of the image at `path`.
    init(path: String) throws {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(Ext4Superblock.offset))
        let bytes = try handle.read(upToCount: 1024) ?? Data()
        let view = ByteView(Array(bytes))
        guard view.u16(0x38) == Ext4Superblock.magic else {
            throw KFCError.invalid(
                path, "not an ext2/3/4 filesystem image (no superblock magic 0xEF53 at 1080)")
        }
        compatible = view.u32(0x5C) ?? 0
        incompatible = view.u32(0x60) ?? 0
        readOnlyCompatible = view.u32(0x64) ?? 0
    }
}

/// An ext4 feature flag, with the first Linux release that mounts images using it.
struct Ext4Feature {
    /// The flag words of the superblock.
    enum Word { case incompatible, readOnlyCompatible }

    var name: String
    var word: Word
    var bit: UInt32
    /// The first release that supports it, as (major, minor).
    var since: (Int, Int)

    /// The features Linux 6.1 mounts read-write, with the releases that added them.
    ///
    /// NOTE: the releases are recalled, not checked against the kernel's git history, and
    /// options a feature also needs (CONFIG_UNICODE for casefold, CONFIG_FS_VERITY for
    /// verity, CONFIG_FS_ENCRYPTION for encrypt) are not checked.
    static let known: [Ext4Feature] = [
        Ext4Feature(name: "filetype", word: .incompatible, bit: 0x2, since: (2, 6)),
        Ext4Feature(name: "needs_recovery", word: .incompatible, bit: 0x4, since: (2, 6)),
        Ext4Feature(name: "meta_bg", word: .incompatible, bit: 0x10, since: (2, 6)),
        Ext4Feature(name: "extent", word: .incompatible, bit: 0x40, since: (2, 6)),
        Ext4Feature(name: "64bit", word: .incompatible, bit: 0x80, since: (2, 6)),
        Ext4Feature(name: "mmp", word: .incompatible, bit: 0x100, since: (3, 0)),
        Ext4Feature(name: "flex_bg", word: .incompatible, bit: 0x200, since: (2, 6)),
        Ext4Feature(name: "ea_inode", word: .incompatible, bit: 0x400, since: (4, 13)),
        Ext4Feature(name: "metadata_csum_seed", word: .incompatible, bit: 0x2000, since: (4, 4)),
        Ext4Feature(name: "large_dir", word: .incompatible, bit: 0x4000, since: (4, 13)),
        Ext4Feature(name: "inline_data", word: .incompatible, bit: 0x8000, since: (3, 8)),
        Ext4Feature(name: "encrypt", word: .incompatible, bit: 0x10000, since: (4, 1)),
        Ext4Feature(name: "casefold", word: .incompatible, bit: 0x20000, since: (5, 2)),
        Ext4Feature(name: "sparse_super", word: .readOnlyCompatible, bit: 0x1, since: (2, 6)),
        Ext4Feature(name: "large_file", word: .readOnlyCompatible, bit: 0x2, since: (2, 6)),
        Ext4Feature(name: "huge_file", word: .readOnlyCompatible, bit: 0x8, since: (2, 6)),
        Ext4Feature(name: "uninit_bg", word: .readOnlyCompatible, bit: 0x10, since: (2, 6)),
        Ext4Feature(name: "dir_nlink", word: .readOnlyCompatible, bit: 0x20, since: (2, 6)),
        Ext4Feature(name: "extra_isize", word: .readOnlyCompatible, bit: 0x40, since: (2, 6)),
        Ext4Feature(name: "quota", word: .readOnlyCompatible, bit: 0x100, since: (3, 6)),
        Ext4Feature(name: "bigalloc", word: .readOnlyCompatible, bit: 0x200, since: (3, 2)),
        Ext4Feature(name: "metadata_csum", word: .readOnlyCompatible, bit: 0x400, since: (3, 18)),
        Ext4Feature(name: "read-only", word: .readOnlyCompatible, bit: 0x1000, since: (4, 1)),
        Ext4Feature(name: "project", word: .readOnlyCompatible, bit: 0x2000, since: (4, 5)),
        Ext4Feature(name: "verity", word: .readOnlyCompatible, bit: 0x8000, since: (5, 4)),
        Ext4Feature(
            name: "orphan_present", word: .readOnlyCompatible, bit: 0x10000, since: (5, 15)),
    ]

    /// Lists why `kernel` cannot mount `superblock` read-write; empty when it can.
    static func problems(_ superblock: Ext4Superblock, kernel: KernelReport?) -> [String] {
        var problems: [String] = []
        let release = kernel?.version.flatMap(parseRelease)
        for (word, flags) in [
            (Word.incompatible, superblock.incompatible),
            (.readOnlyCompatible, superblock.readOnlyCompatible),
        ] {
            let knownBits = known.filter { $0.word == word }.reduce(0) { $0 | $1.bit }
            if flags & ~knownBits != 0 {
                let label = word == .incompatible ? "incompatible" : "read-only compatible"
                problems.append(
                    "the image uses unknown \(label) ext4 features "
                        + "0x\(String(flags & ~knownBits, radix: 16)), which Linux 6.1 cannot "
                        + "mount read-write")
            }
            for feature in known where feature.word == word && flags & feature.bit != 0 {
                problems += feature.problems(release: release, kernel: kernel)
            }
        }
        if superblock.incompatible & 0x8 != 0 {
            problems.append("the image is an external ext4 journal, not a filesystem")
        }
        return problems
    }

    private func problems(release: (Int, Int)?, kernel: KernelReport?) -> [String] {
        var problems: [String] = []
        if let release, release < since, let version = kernel?.version {
            problems.append(
                "the image uses the ext4 feature \(name), which Linux \(version) cannot "
                    + "mount (it needs \(since.0).\(since.1) or later)")
        }
        return problems
    }

    private static func parseRelease(_ version: String) -> (Int, Int)? {
        let parts = version.split(separator: ".").prefix(2).compactMap {
            Int($0.prefix { $0.isNumber })
        }
        return parts.count == 2 ? (parts[0], parts[1]) : nil
    }
}
