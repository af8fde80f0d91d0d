import Foundation
import KFCCore

/// Writes ext4 images with libext2fs: no mke2fs, no mount, no loop device.
///
/// The same tree with the same options gives a byte-identical image whatever folder it is
/// in, the clock, the source's inode numbers or readdir order. The image is written to a
/// temporary file beside the target and renamed over it only when complete. On failure
/// the temporary file is removed and the target is left as it was.
public enum Ext4Writer {
    /// Writes the tree below `directory` to the image file `image`.
    ///
    /// Symlinks below `directory` are stored, never followed; `directory` itself may be a
    /// symlink to a folder. Times newer than `options.epoch` are clamped to it.
    public static func write(
        directory: String, to image: String, options: Ext4Options, logger: Logger
    ) throws -> Ext4Summary {
        try withContext("write \(image)") {
            let settings = try Settings(options)
            guard FileSystem.isDirectory(directory) else {
                throw KFCError.notFound(directory, "source folder not found")
            }
            logger.info("scanning the source tree", [("source", directory)])
            let tree = try DirectoryScanner.scan(directory, logger: logger)
            return try write(tree: tree, source: directory, image: image, settings, logger) {
                filesystem, fd, hasher in
                let copier = ContentCopier(
                    filesystem: filesystem, imageFD: fd, tree: tree, root: directory,
                    hasher: hasher, logger: logger)
                try copier.copyAll()
                return (copier.extents, copier.dataBlocks)
            }
        }
    }

    /// Checked options in the form the writer uses.
    struct Settings {
        var options: Ext4Options
        var features: Ext4Features
        var label: [UInt8]

        init(_ options: Ext4Options) throws {
            self.options = options
            features = try Ext4Features(names: options.features ?? Ext4Options.defaultFeatures)
            label = try OptionCheck.labelBytes(options.label)
            try OptionCheck.epoch(options.epoch)
        }
    }

    /// Copies file content into the image and returns the extents and data block count of
    /// each entry; the hasher, when given, receives every byte read.
    typealias ContentWriter = (Ext4Filesystem, Int32, Digest.Hasher?) throws -> (
        [[Extent]], [UInt64]
    )

    /// Lays out the file system for `tree`, writes content then metadata, and commits.
    static func write(
        tree: SourceTree, source: String, image: String, _ settings: Settings, _ logger: Logger,
        content: ContentWriter
    ) throws -> Ext4Summary {
        let options = settings.options
        try MetadataWriter.checkLostAndFound(in: tree, root: source)
        let temporary = try TemporaryImage(target: image)
        let filesystem = try ImageGeometry.create(
            path: temporary.path, estimate: SpaceEstimate(tree: tree), size: options.size,
            features: settings.features, epoch: options.epoch)
        let bytes = filesystem.blockCount * Int64(Ext4Filesystem.blockSize)
        try temporary.resize(to: bytes)
        logger.info(
            "writing the image",
            [
                ("image", image), ("size", ByteSize.format(bytes)),
                ("inodes", "\(filesystem.inodeCount)"), ("entries", "\(tree.count)"),
            ])
        try filesystem.reserveJournal()

        let hasher = options.uuid == nil ? Digest.Hasher(.sha256) : nil
        let (extents, dataBlocks) = try content(filesystem, temporary.fd, hasher)
        let identity = identity(options, settings, tree, hasher)
        filesystem.setIdentity(
            label: settings.label, uuid: identity.uuid, hashSeed: identity.hashSeed)
        try filesystem.reserveSpecialInodes()
        try filesystem.addJournal()

        var metadata = try MetadataWriter(
            filesystem: filesystem, tree: tree, extents: extents, dataBlocks: dataBlocks,
            root: source)
        try metadata.writeAll()
        let summary = Ext4Summary(
            bytes: bytes, blockCount: filesystem.blockCount, inodeCount: filesystem.inodeCount,
            uuid: identity.foundationUUID, files: tree.count)
        // close() frees the libext2fs handle, so nothing reads the file system after it.
        try filesystem.close()
        try temporary.commit()
        return summary
    }

    /// Returns the given UUID, or derives one from the content digest in `hasher`, the
    /// tree's metadata and the options that shape the image.
    private static func identity(
        _ options: Ext4Options, _ settings: Settings, _ tree: SourceTree,
        _ hasher: Digest.Hasher?
    ) -> ImageIdentity {
        if let uuid = options.uuid { return ImageIdentity(uuid: uuid) }
        let content = hasher.map { ImageIdentity.bytes(of: $0.finish()) } ?? []
        let outer = Digest.Hasher(.sha256)
        outer.update(Data("kfc ext4 image v1".utf8))
        outer.update(Data(content))
        let shape = "\(options.size) \(options.epoch) \(settings.features.names) \(settings.label)"
        outer.update(Data(shape.utf8))
        ImageIdentity.addMetadata(of: tree, epoch: options.epoch, to: outer)
        return ImageIdentity(digest: ImageIdentity.bytes(of: outer.finish()))
    }
}
