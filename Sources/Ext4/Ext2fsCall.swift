internal import CExt2fs
import Foundation
import KFCCore

/// The one gate for libext2fs return codes.
enum Ext2fsCall {
    /// Registers the ext2 error table with com_err once, as mke2fs does at start-up, so
    /// `error_message` can name libext2fs codes.
    private static let errorTable: Void = { initialize_ext2_error_table() }()

    /// Throws a `KFCError` for `what` when `code` is not zero.
    ///
    /// `what` names the operation and its subject, as in `write inode 12 (/etc/passwd)`.
    static func check(_ code: errcode_t, _ what: @autoclosure () -> String) throws {
        guard code != 0 else { return }
        throw error(code, what())
    }

    /// Returns the error for the libext2fs code `code` while doing `what`.
    static func error(_ code: errcode_t, _ what: String) -> KFCError {
        _ = errorTable
        if code == errcode_t(EXT2_ET_BLOCK_ALLOC_FAIL) || code == errcode_t(EXT2_ET_DIR_NO_SPACE)
            || code == errcode_t(EXT2_ET_INODE_ALLOC_FAIL)
        {
            return KFCError.failed(what, "the image is full (\(message(code)))")
        }
        if code == errcode_t(ENOSPC) {
            return KFCError.failed(what, "no space left on the device")
        }
        return KFCError.failed(what, message(code))
    }

    /// Returns the text com_err gives for `code`.
    static func message(_ code: errcode_t) -> String {
        _ = errorTable
        guard let text = error_message(code) else { return "error \(code)" }
        return String(cString: text)
    }
}
