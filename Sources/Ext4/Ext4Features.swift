internal import CExt2fs
import Foundation
import KFCCore

/// The superblock feature words, filled from mke2fs-style feature names.
struct Ext4Features: Equatable {
    var compat: UInt32 = 0
    var incompat: UInt32 = 0
    var readOnlyCompat: UInt32 = 0

    /// The superblock word a feature bit belongs to.
    enum Word { case compat, incompat, readOnlyCompat }

    /// The features this writer can produce, by mke2fs name. Features it cannot produce
    /// (inline_data, bigalloc, quota, casefold, encrypt, …) are rejected by name.
    static let known: [(name: String, word: Word, mask: UInt32)] = [
        ("has_journal", .compat, UInt32(EXT3_FEATURE_COMPAT_HAS_JOURNAL)),
        ("ext_attr", .compat, UInt32(EXT2_FEATURE_COMPAT_EXT_ATTR)),
        ("dir_index", .compat, UInt32(EXT2_FEATURE_COMPAT_DIR_INDEX)),
        ("filetype", .incompat, UInt32(EXT2_FEATURE_INCOMPAT_FILETYPE)),
        ("extent", .incompat, UInt32(EXT3_FEATURE_INCOMPAT_EXTENTS)),
        ("flex_bg", .incompat, UInt32(EXT4_FEATURE_INCOMPAT_FLEX_BG)),
        ("64bit", .incompat, UInt32(EXT4_FEATURE_INCOMPAT_64BIT)),
        ("sparse_super", .readOnlyCompat, UInt32(EXT2_FEATURE_RO_COMPAT_SPARSE_SUPER)),
        ("large_file", .readOnlyCompat, UInt32(EXT2_FEATURE_RO_COMPAT_LARGE_FILE)),
        ("huge_file", .readOnlyCompat, UInt32(EXT4_FEATURE_RO_COMPAT_HUGE_FILE)),
        ("dir_nlink", .readOnlyCompat, UInt32(EXT4_FEATURE_RO_COMPAT_DIR_NLINK)),
        ("extra_isize", .readOnlyCompat, UInt32(EXT4_FEATURE_RO_COMPAT_EXTRA_ISIZE)),
        ("metadata_csum", .readOnlyCompat, UInt32(EXT4_FEATURE_RO_COMPAT_METADATA_CSUM)),
    ]

    /// Features that images made elsewhere may have and the reader names, but this writer
    /// cannot produce.
    static let readable: [(name: String, word: Word, mask: UInt32)] = [
        ("resize_inode", .compat, UInt32(EXT2_FEATURE_COMPAT_RESIZE_INODE)),
        ("sparse_super2", .compat, UInt32(EXT4_FEATURE_COMPAT_SPARSE_SUPER2)),
        ("fast_commit", .compat, UInt32(EXT4_FEATURE_COMPAT_FAST_COMMIT)),
        ("stable_inodes", .compat, UInt32(EXT4_FEATURE_COMPAT_STABLE_INODES)),
        ("orphan_file", .compat, UInt32(EXT4_FEATURE_COMPAT_ORPHAN_FILE)),
        ("needs_recovery", .incompat, UInt32(EXT3_FEATURE_INCOMPAT_RECOVER)),
        ("journal_dev", .incompat, UInt32(EXT3_FEATURE_INCOMPAT_JOURNAL_DEV)),
        ("meta_bg", .incompat, UInt32(EXT2_FEATURE_INCOMPAT_META_BG)),
        ("mmp", .incompat, UInt32(EXT4_FEATURE_INCOMPAT_MMP)),
        ("ea_inode", .incompat, UInt32(EXT4_FEATURE_INCOMPAT_EA_INODE)),
        ("metadata_csum_seed", .incompat, UInt32(EXT4_FEATURE_INCOMPAT_CSUM_SEED)),
        ("large_dir", .incompat, UInt32(EXT4_FEATURE_INCOMPAT_LARGEDIR)),
        ("inline_data", .incompat, UInt32(EXT4_FEATURE_INCOMPAT_INLINE_DATA)),
        ("encrypt", .incompat, UInt32(EXT4_FEATURE_INCOMPAT_ENCRYPT)),
        ("casefold", .incompat, UInt32(EXT4_FEATURE_INCOMPAT_CASEFOLD)),
        ("uninit_bg", .readOnlyCompat, UInt32(EXT4_FEATURE_RO_COMPAT_GDT_CSUM)),
        ("quota", .readOnlyCompat, UInt32(EXT4_FEATURE_RO_COMPAT_QUOTA)),
        ("bigalloc", .readOnlyCompat, UInt32(EXT4_FEATURE_RO_COMPAT_BIGALLOC)),
        ("project", .readOnlyCompat, UInt32(EXT4_FEATURE_RO_COMPAT_PROJECT)),
        ("verity", .readOnlyCompat, UInt32(EXT4_FEATURE_RO_COMPAT_VERITY)),
        ("orphan_present", .readOnlyCompat, UInt32(EXT4_FEATURE_RO_COMPAT_ORPHAN_PRESENT)),
    ]

    /// Parses `names`; `extents` is accepted as another spelling of `extent`.
    init(names: [String]) throws {
        for raw in names {
            let name = raw == "extents" ? "extent" : raw
            guard let feature = Ext4Features.known.first(where: { $0.name == name }) else {
                let choices = Ext4Features.known.map(\.name).joined(separator: ", ")
                throw KFCError.invalid(
                    "feature '\(raw)'", "is not one this writer supports (\(choices))")
            }
            switch feature.word {
            case .compat: compat |= feature.mask
            case .incompat: incompat |= feature.mask
            case .readOnlyCompat: readOnlyCompat |= feature.mask
            }
        }
        guard has(.incompat, UInt32(EXT3_FEATURE_INCOMPAT_EXTENTS)) else {
            throw KFCError.invalid(
                "features \(names.joined(separator: ","))",
                "must include 'extent': the writer maps every file by extents")
        }
    }

    /// Reads the feature words of an open file system.
    init(superblock: UnsafeMutablePointer<ext2_super_block>) {
        compat = superblock.pointee.s_feature_compat
        incompat = superblock.pointee.s_feature_incompat
        readOnlyCompat = superblock.pointee.s_feature_ro_compat
    }

    /// Returns whether the feature `mask` of `word` is on.
    func has(_ word: Word, _ mask: UInt32) -> Bool {
        switch word {
        case .compat: compat & mask != 0
        case .incompat: incompat & mask != 0
        case .readOnlyCompat: readOnlyCompat & mask != 0
        }
    }

    var journal: Bool { has(.compat, UInt32(EXT3_FEATURE_COMPAT_HAS_JOURNAL)) }
    var extendedAttributes: Bool { has(.compat, UInt32(EXT2_FEATURE_COMPAT_EXT_ATTR)) }
    var directoryIndex: Bool { has(.compat, UInt32(EXT2_FEATURE_COMPAT_DIR_INDEX)) }
    var fileType: Bool { has(.incompat, UInt32(EXT2_FEATURE_INCOMPAT_FILETYPE)) }
    var checksums: Bool { has(.readOnlyCompat, UInt32(EXT4_FEATURE_RO_COMPAT_METADATA_CSUM)) }
    var directoryLinks: Bool { has(.readOnlyCompat, UInt32(EXT4_FEATURE_RO_COMPAT_DIR_NLINK)) }

    /// The names of the features that are on, known ones by name and others as hex bits.
    var names: [String] {
        let named = Ext4Features.known + Ext4Features.readable
        var result = named.filter { has($0.word, $0.mask) }.map(\.name)
        let knownCompat = Ext4Features.mask(of: .compat)
        let knownIncompat = Ext4Features.mask(of: .incompat)
        let knownReadOnly = Ext4Features.mask(of: .readOnlyCompat)
        if compat & ~knownCompat != 0 { result.append(hex("compat", compat & ~knownCompat)) }
        if incompat & ~knownIncompat != 0 {
            result.append(hex("incompat", incompat & ~knownIncompat))
        }
        if readOnlyCompat & ~knownReadOnly != 0 {
            result.append(hex("ro_compat", readOnlyCompat & ~knownReadOnly))
        }
        return result
    }

    private static func mask(of word: Word) -> UInt32 {
        (known + readable).filter { $0.word == word }.reduce(0) { $0 | $1.mask }
    }

    private func hex(_ word: String, _ bits: UInt32) -> String {
        "\(word)_0x" + String(bits, radix: 16)
    }
}
