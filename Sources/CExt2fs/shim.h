#pragma once
#include <ext2fs/ext2fs.h>
#include <ext2fs/ext2_err.h>
#include <et/com_err.h>

/* Swift 6 treats a C global such as unix_io_manager as shared mutable state, so the
   wrapper reads it through this function instead of touching the variable. */
static inline io_manager kfc_unix_io_manager(void) { return unix_io_manager; }

/* The superblock field of the file system handle is named `super`, a Swift keyword. */
static inline struct ext2_super_block *kfc_superblock(ext2_filsys fs) { return fs->super; }

/* The clock libext2fs reads for every time field it fills in; zero means the wall clock. */
static inline void kfc_set_now(ext2_filsys fs, time_t now) { fs->now = now; }

/* Block counts are split into low and high halves, which these functions join. */
static inline blk64_t kfc_blocks_count(ext2_filsys fs) { return ext2fs_blocks_count(fs->super); }
static inline blk64_t kfc_free_blocks_count(ext2_filsys fs)
{
    return ext2fs_free_blocks_count(fs->super);
}

/* Swift's Glibc module leaves out sys/xattr.h; the tree scanner needs llistxattr and
   lgetxattr to copy extended attributes. */
#include <sys/xattr.h>
