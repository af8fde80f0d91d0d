internal import CExt2fs
import Foundation
import KFCCore

/// An ext4 file system being created in an image file through libext2fs. It is the one
/// owner of its `ext2_filsys` handle, which `deinit` frees unless `close()` did.
final class Ext4Filesystem {
    let handle: ext2_filsys
    let features: Ext4Features
    let epoch: Int64
    /// The image file, for messages.
    let path: String
    static let blockSize = 4096
    private var closed = false
    /// The blocks set aside for the journal until `addJournal()` places it there.
    private var journalReservation: (start: blk64_t, params: ext2fs_journal_params)?

    /// Lays out a file system of `blocks` blocks and about `inodes` inodes in `path`.
    ///
    /// Nothing is written to `path` until `close()`; the group tables are only allocated.
    init(path: String, blocks: Int64, inodes: Int64, features: Ext4Features, epoch: Int64)
        throws
    {
        var parameters = ext2_super_block()
        ext2fs_blocks_count_set(&parameters, blk64_t(blocks))
        parameters.s_log_block_size = 2
        parameters.s_rev_level = UInt32(EXT2_DYNAMIC_REV)
        parameters.s_inode_size = 256
        parameters.s_inodes_count = UInt32(clamping: inodes)
        parameters.s_min_extra_isize = 32
        parameters.s_want_extra_isize = 32
        parameters.s_feature_compat = features.compat
        parameters.s_feature_incompat = features.incompat
        parameters.s_feature_ro_compat = features.readOnlyCompat
        if features.has(.incompat, UInt32(EXT4_FEATURE_INCOMPAT_FLEX_BG)) {
            parameters.s_log_groups_per_flex = 4
        }
        if features.has(.incompat, UInt32(EXT4_FEATURE_INCOMPAT_64BIT)) {
            parameters.s_desc_size = UInt16(EXT2_MIN_DESC_SIZE_64BIT)
        }
        var created: ext2_filsys?
        try Ext2fsCall.check(
            ext2fs_initialize(
                path, EXT2_FLAG_64BITS | EXT2_FLAG_EXCLUSIVE, &parameters,
                kfc_unix_io_manager(), &created),
            "create the file system in \(path)")
        guard let created else {
            throw KFCError(.bug, "create the file system in \(path)", "no handle returned")
        }
        handle = created
        self.features = features
        self.epoch = epoch
        self.path = path
        kfc_set_now(handle, time_t(epoch))
        try configureSuperblock()
        try Ext2fsCall.check(ext2fs_allocate_tables(handle), "allocate the group tables")
    }

    deinit {
        if !closed { ext2fs_free(handle) }
    }

    var superblock: UnsafeMutablePointer<ext2_super_block> { kfc_superblock(handle) }
    var blockCount: Int64 { Int64(kfc_blocks_count(handle)) }
    var freeBlocks: Int64 { Int64(kfc_free_blocks_count(handle)) }
    var inodeCount: Int64 { Int64(superblock.pointee.s_inodes_count) }

    /// The blocks the default journal of this file system takes, or 0 without a journal.
    var journalBlocks: Int64 { Ext4Filesystem.journalBlocks(for: blockCount, features: features) }

    /// Returns the size libext2fs gives the default journal of a file system of `blocks`
    /// blocks, in blocks.
    static func journalBlocks(for blocks: Int64, features: Ext4Features) -> Int64 {
        guard features.journal else { return 0 }
        return Int64(max(0, ext2fs_default_journal_size(UInt64(blocks))))
    }

    /// Sets the fields mke2fs sets after `ext2fs_initialize`, with times from the epoch.
    private func configureSuperblock() throws {
        let sb = superblock
        sb.pointee.s_max_mnt_count = -1
        sb.pointee.s_checkinterval = 0
        sb.pointee.s_default_mount_opts = UInt32(EXT2_DEFM_XATTR_USER | EXT2_DEFM_ACL)
        sb.pointee.s_def_hash_version = UInt8(EXT2_HASH_HALF_MD4)
        // Unsigned hashing is fixed here so the image does not depend on the signedness of
        // `char` on the machine that wrote it.
        sb.pointee.s_flags &= ~UInt32(EXT2_FLAGS_SIGNED_HASH)
        sb.pointee.s_flags |= UInt32(EXT2_FLAGS_UNSIGNED_HASH)
        sb.pointee.s_kbytes_written = 1
        if features.checksums { sb.pointee.s_checksum_type = UInt8(EXT2_CRC32C_CHKSUM) }
        let low = UInt32(truncatingIfNeeded: epoch)
        let high = UInt8(truncatingIfNeeded: epoch >> 32)
        sb.pointee.s_mkfs_time = low
        sb.pointee.s_lastcheck = low
        sb.pointee.s_wtime = low
        sb.pointee.s_mkfs_time_hi = high
        sb.pointee.s_lastcheck_hi = high
        sb.pointee.s_wtime_hi = high
    }

    /// Sets the label, UUID and directory hash seed, then the checksum seed derived from the
    /// UUID. Must come before anything with a checksum is written.
    func setIdentity(label: [UInt8], uuid: [UInt8], hashSeed: [UInt8]) {
        let sb = superblock
        withUnsafeMutableBytes(of: &sb.pointee.s_volume_name) { raw in
            raw.initializeMemory(as: UInt8.self, repeating: 0)
            raw.copyBytes(from: label.prefix(raw.count))
        }
        withUnsafeMutableBytes(of: &sb.pointee.s_uuid) { $0.copyBytes(from: uuid.prefix(16)) }
        withUnsafeMutableBytes(of: &sb.pointee.s_hash_seed) {
            $0.copyBytes(from: hashSeed.prefix(16))
        }
        ext2fs_init_csum_seed(handle)
        ext2fs_mark_super_dirty(handle)
    }

    /// Sets aside a contiguous run for the journal in the middle of the file system, so
    /// file data written before the UUID is known flows around it.
    func reserveJournal() throws {
        guard features.journal else { return }
        var params = ext2fs_journal_params()
        try Ext2fsCall.check(
            ext2fs_get_journal_params(&params, handle), "size the journal of \(path)")
        let length = blk64_t(params.num_journal_blocks + params.num_fc_blocks)
        let goal = ext2fs_group_first_block2(handle, handle.pointee.group_desc_count / 2)
        var start: blk64_t = 0
        var found: blk64_t = 0
        try Ext2fsCall.check(
            ext2fs_new_range(
                handle, Int32(EXT2_NEWRANGE_MIN_LENGTH), goal, length, nil, &start, &found),
            "reserve \(length) blocks for the journal")
        ext2fs_block_alloc_stats_range(handle, start, blk_t(length), 1)
        journalReservation = (start, params)
    }

    /// Creates the journal inode in the reserved run. Its blocks are not written: the image
    /// file is sparse, so they already read as zeros.
    func addJournal() throws {
        guard var reservation = journalReservation else { return }
        let length = blk_t(reservation.params.num_journal_blocks + reservation.params.num_fc_blocks)
        ext2fs_block_alloc_stats_range(handle, reservation.start, length, -1)
        try Ext2fsCall.check(
            ext2fs_add_journal_inode3(
                handle, &reservation.params, reservation.start,
                EXT2_MKJOURNAL_LAZYINIT | EXT2_MKJOURNAL_NO_MNT_CHECK),
            "create the journal")
        journalReservation = nil
    }

    /// Marks the inodes below the first ordinary one as used and writes the bad-block
    /// inode, as mke2fs does.
    func reserveSpecialInodes() throws {
        ext2fs_inode_alloc_stats2(handle, ext2_ino_t(EXT2_BAD_INO), 1, 0)
        try Ext2fsCall.check(ext2fs_update_bb_inode(handle, nil), "write the bad-block inode")
        let first = superblock.pointee.s_first_ino
        for number in (UInt32(EXT2_ROOT_INO) + 1)..<first {
            ext2fs_inode_alloc_stats2(handle, number, 1, 0)
        }
        ext2fs_mark_ib_dirty(handle)
    }

    /// Marks every inode table as zeroed, as it is in a new sparse file, so the kernel does
    /// not start zeroing it on first mount. Then writes everything and closes.
    func close() throws {
        for group in 0..<handle.pointee.group_desc_count {
            let flags = ext2fs_bg_flags(handle, group) | UInt16(EXT2_BG_INODE_ZEROED)
            ext2fs_bg_flags_set(handle, group, flags)
            ext2fs_group_desc_csum_set(handle, group)
        }
        ext2fs_mark_super_dirty(handle)
        try Ext2fsCall.check(ext2fs_close2(handle, 0), "write the file system to \(path)")
        closed = true
    }
}
