import Ext4
import Foundation
import KFCCore

/// `kfc-image ls`: lists a folder of an ext4 image.
let lsCommand = Subcommand(
    "ls", summary: "list a folder inside an ext4 image",
    usage: """
        Usage: kfc-image ls IMAGE [PATH]

        Lists the entries of the folder PATH (default: /) inside the ext4 image IMAGE, one
        per line: mode, links, owner, group, size, modification time (UTC) and name, with
        the target of a symlink after '->'. Names are printed as stored; bytes that are
        not UTF-8 show as U+FFFD.
        """,
    run: { arguments, _ in
        let imagePath = try arguments.positional("IMAGE")
        let path = arguments.optionalPositional() ?? "/"
        try arguments.finish()
        let image = try Ext4Image(path: imagePath)
        let target = try image.stat(path)
        let entries = target.kind == .directory ? try image.list(path) : [target]
        for entry in entries {
            var line = ListingFormat.line(entry)
            if entry.kind == .symlink {
                let linkPath = target.kind == .directory ? join(path, entry.name) : path
                line += " -> " + String(decoding: try image.readlink(linkPath), as: UTF8.self)
            }
            StandardOutput.line(line)
        }
        return 0
    })

private func join(_ folder: String, _ name: String) -> String {
    folder.hasSuffix("/") ? folder + name : folder + "/" + name
}

/// The text of one `ls` line.
enum ListingFormat {
    static func line(_ entry: Ext4Entry) -> String {
        let time = Date(timeIntervalSince1970: TimeInterval(entry.modificationTime))
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        let size =
            entry.kind == .characterDevice || entry.kind == .blockDevice
            ? "\(entry.deviceMajor),\(entry.deviceMinor)" : "\(entry.size)"
        return [
            modeString(entry), "\(entry.linkCount)", "\(entry.uid)", "\(entry.gid)", size,
            formatter.string(from: time), entry.name,
        ].joined(separator: " ")
    }

    /// Formats the mode as `ls -l` does, such as `drwxr-xr-x` or `-rwsr-xr-x`.
    static func modeString(_ entry: Ext4Entry) -> String {
        let type: Character =
            switch entry.kind {
            case .directory: "d"
            case .symlink: "l"
            case .characterDevice: "c"
            case .blockDevice: "b"
            case .fifo: "p"
            case .socket: "s"
            case .regular: "-"
            }
        let bits = entry.permissions
        var text = String(type)
        let special: [(UInt16, Character, Character)] = [
            (0o4000, "s", "S"), (0o2000, "s", "S"), (0o1000, "t", "T"),
        ]
        for group in 0..<3 {
            let shift = UInt16(6 - group * 3)
            text.append(bits & (0o4 << shift) != 0 ? "r" : "-")
            text.append(bits & (0o2 << shift) != 0 ? "w" : "-")
            let execute = bits & (0o1 << shift) != 0
            let (mask, on, off) = special[group]
            if bits & mask != 0 {
                text.append(execute ? on : off)
            } else {
                text.append(execute ? "x" : "-")
            }
        }
        return text
    }
}
