import Archives
import Foundation
import KFCCore

extension Ext4Writer {
    /// Writes the entries of the archive `archive` (any format and compression libarchive
    /// reads) to the image file `image`, reading the archive twice: headers first to size
    /// the image, then the content.
    ///
    /// Folders the archive leaves out are created with mode 0755, owned by root, with the
    /// epoch as their times.
    public static func write(
        archive: String, to image: String, options: Ext4Options, logger: Logger
    ) throws -> Ext4Summary {
        try withContext("write \(image)") {
            let settings = try Settings(options)
            guard FileSystem.exists(archive) else {
                throw KFCError.notFound(archive, "archive not found")
            }
            logger.info("reading the archive headers", [("archive", archive)])
            let archiveTree = try ArchiveTree(archive: archive, epoch: options.epoch)
            return try write(
                tree: archiveTree.tree, source: archive, image: image, settings, logger
            ) { filesystem, fd, hasher in
                let content = ArchiveContent(
                    filesystem: filesystem, imageFD: fd, archiveTree: archiveTree,
                    archive: archive, hasher: hasher, logger: logger)
                try content.copyAll()
                return (content.extents, content.dataBlocks)
            }
        }
    }

    /// Returns the newest modification time in `source` (a folder, walked without following
    /// symlinks, or an archive), for callers that pick an epoch from their input.
    public static func newestModificationTime(source: String, logger: Logger) throws -> Int64 {
        if FileSystem.isDirectory(source) {
            let tree = try DirectoryScanner.scan(source, logger: logger)
            return tree.entries.map(\.modificationTime.seconds).max() ?? 0
        }
        guard FileSystem.exists(source) else {
            throw KFCError.notFound(source, "no such folder or archive")
        }
        return try ArchiveTree(archive: source, epoch: 1).newestModification
    }
}
