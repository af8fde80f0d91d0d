#pragma once
#include <ext2fs/ext2fs.h>
#include <ext2fs/ext2_err.h>
#include <et/com_err.h>

/* Swift 6 treats a C global such as unix_io_manager as shared mutable state, so the
   wrapper reads it through this function instead of touching the variable. */
static inline io_manager kfc_unix_io_manager(void) { return unix_io_manager; }
