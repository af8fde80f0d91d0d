import Ext4
import Foundation
import KFCCore

/// `kfc-image mkfs`: writes a folder or an archive to an ext4 image.
let mkfsCommand = Subcommand(
    "mkfs", summary: "write a folder or tar archive to an ext4 image",
    usage: """
        Usage: kfc-image mkfs SOURCE_DIR|ARCHIVE IMAGE [OPTIONS]

        Writes the tree of SOURCE_DIR, or of a tar archive, to the ext4 image file IMAGE
        with libext2fs. The image is sparse and byte-identical for the same input and options.

        Options:
          --size SIZE        image size such as 200M or 2G, or 'auto' (default: auto)
          --headroom N%      free space and inodes an automatic size adds (default: 20%)
          --label LABEL      volume label, at most 16 bytes
          --uuid UUID        file system UUID (default: derived from the content)
          --epoch SECONDS    time for the superblock and journal; newer file times are
                             clamped to it (default: $SOURCE_DATE_EPOCH, else the newest
                             modification time in the source, and at least 1)
          --features LIST    comma-separated ext4 features replacing the default list:
        \(defaultFeatureLines)
        """,
    run: { arguments, logger in
        let options = try MkfsOptions.parse(&arguments)
        let source = try arguments.positional("SOURCE_DIR or ARCHIVE")
        let image = try arguments.positional("IMAGE")
        try arguments.finish()
        guard FileSystem.exists(source) else {
            throw KFCError.notFound(source, "no such folder or archive")
        }
        var ext4 = options.ext4
        ext4.epoch = try options.epoch ?? MkfsOptions.defaultEpoch(source: source, logger: logger)
        let summary =
            FileSystem.isDirectory(source)
            ? try Ext4Writer.write(directory: source, to: image, options: ext4, logger: logger)
            : try Ext4Writer.write(archive: source, to: image, options: ext4, logger: logger)
        StandardOutput.line(
            "\(image): \(ByteSize.format(summary.bytes)), \(summary.files) entries, "
                + "\(summary.inodeCount) inodes, UUID \(summary.uuid.uuidString.lowercased())")
        return 0
    })

/// The default feature names, five to an indented line of the usage text.
private let defaultFeatureLines = stride(
    from: 0, to: Ext4Options.defaultFeatures.count, by: 5
).map { start in
    let names = Ext4Options.defaultFeatures[
        start..<min(start + 5, Ext4Options.defaultFeatures.count)]
    return "                       " + names.joined(separator: ",")
}.joined(separator: ",\n")

/// The options of `mkfs` once parsed.
struct MkfsOptions {
    var ext4 = Ext4Options()
    var epoch: Int64?

    static func parse(_ arguments: inout Arguments) throws -> MkfsOptions {
        var result = MkfsOptions()
        let command = arguments.command
        var headroom = 20
        if let text = try arguments.option("--headroom") {
            let digits = text.hasSuffix("%") ? String(text.dropLast()) : text
            guard let value = Int(digits), value >= 0 else {
                throw KFCError.usage("\(command): invalid --headroom '\(text)', expected like 20%")
            }
            headroom = value
        }
        result.ext4.size = .auto(headroomPercent: headroom)
        if let text = try arguments.option("--size"), text != "auto" {
            guard let bytes = ByteSize.parse(text) else {
                throw KFCError.usage("\(command): invalid --size '\(text)', expected like 200M")
            }
            result.ext4.size = .fixed(bytes)
        }
        result.ext4.label = try arguments.option("--label")
        if let text = try arguments.option("--uuid") {
            guard let uuid = UUID(uuidString: text) else {
                throw KFCError.usage("\(command): invalid --uuid '\(text)'")
            }
            result.ext4.uuid = uuid
        }
        if let text = try arguments.option("--epoch") {
            guard let value = Int64(text) else {
                throw KFCError.usage("\(command): invalid --epoch '\(text)', expected seconds")
            }
            result.epoch = value
        }
        if let text = try arguments.option("--features") {
            result.ext4.features = text.split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces)
            }
        }
        return result
    }

    /// SOURCE_DATE_EPOCH when set, else the newest modification time in the source, and
    /// at least 1 because libext2fs reads 0 as "use the wall clock".
    static func defaultEpoch(source: String, logger: Logger) throws -> Int64 {
        if let text = ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"] {
            guard let value = Int64(text) else {
                throw KFCError.invalid("SOURCE_DATE_EPOCH '\(text)'", "is not a number of seconds")
            }
            return value
        }
        let newest = try Ext4Writer.newestModificationTime(source: source, logger: logger)
        return max(1, newest)
    }
}
