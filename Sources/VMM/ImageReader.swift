import Foundation
import KFCCore

/// One inode of an ext4 image, as far as the boot checks need it.
struct ImageEntry: Equatable {
    /// The file types the checks tell apart.
    enum Kind: Equatable {
        case file, directory, symlink, other
    }

    var kind: Kind
    /// The permission bits, such as 0o755.
    var mode: UInt32
    /// The size in bytes.
    var size: Int64
    /// The target of a symlink.
    var linkTarget: String?
}

/// Reads paths inside an ext4 image with e2fsprogs' `debugfs`, without mounting it.
///
/// NOTE: this reader takes the place of the `Ext4` module's image reader, which is not
/// written yet. It costs one `debugfs` run per lookup (about 10 ms).
struct ImageReader {
    /// The image file.
    let image: String
    let logger: Logger

    /// Looks up `path` (already free of symlinks in its parent folders) without following a
    /// final symlink; returns nil when it does not exist.
    func entry(_ path: String) throws -> ImageEntry? {
        let result = try debugfs("stat \(try quoted(path))")
        if result.errorText.contains("File not found by ext2_lookup") { return nil }
        let text = result.outputText
        guard let typeLine = text.range(of: "Type: ") else {
            throw KFCError.failed(
                "read \(path) in \(image)", "debugfs printed no inode",
                details: Command.tail(result.errorOutput))
        }
        let type = text[typeLine.upperBound...].prefix { !$0.isWhitespace }
        let kinds: [Substring: ImageEntry.Kind] = [
            "regular": .file, "directory": .directory, "symlink": .symlink,
        ]
        var entry = ImageEntry(
            kind: kinds[type] ?? .other, mode: UInt32(field("Mode:", in: text, radix: 8) ?? 0),
            size: Int64(field("Size:", in: text, radix: 10) ?? 0), linkTarget: nil)
        if entry.kind == .symlink {
            entry.linkTarget = try linkTarget(path, statOutput: text)
        }
        return entry
    }

    /// Reads the whole file at `path`.
    func read(_ path: String) throws -> Data {
        try debugfs("cat \(try quoted(path))").output
    }

    private func linkTarget(_ path: String, statOutput: String) throws -> String {
        // A target under 60 bytes lives in the inode ("fast"); a longer one in a data block.
        let fast = "Fast link dest: \""
        if let start = statOutput.range(of: fast) {
            let rest = statOutput[start.upperBound...]
            return String(rest.prefix { $0 != "\n" }.dropLast())
        }
        return String(decoding: try read(path), as: UTF8.self)
    }

    private func field(_ name: String, in text: String, radix: Int) -> Int? {
        guard let range = text.range(of: name) else { return nil }
        let value = text[range.upperBound...].drop { $0 == " " }.prefix { !$0.isWhitespace }
        return Int(value, radix: radix)
    }

    /// Quotes `path` for debugfs's own argument parser, which accepts only double quotes.
    private func quoted(_ path: String) throws -> String {
        guard !path.contains("\""), !path.contains("\n") else {
            throw KFCError.invalid(path, "a path with a double quote or newline cannot be read")
        }
        return "\"\(path)\""
    }

    private func debugfs(_ request: String) throws -> CommandResult {
        let result = try Command("debugfs", ["-R", request, image]).result(logger: logger)
        guard result.status == 0 else {
            throw KFCError.failed(
                "debugfs -R '\(request)' \(image)", "exited with status \(result.status)",
                details: Command.tail(result.errorOutput))
        }
        if result.errorText.contains("Bad magic number") || result.errorText.contains(
            "while opening filesystem")
        {
            throw KFCError.invalid(image, "debugfs could not open the filesystem")
        }
        return result
    }
}

/// Follows paths inside an image the way the guest kernel will, resolving every symlink
/// against the image's root and never against the host's.
struct PathResolver {
    /// The maximum number of symlinks followed, as Linux's MAXSYMLINKS.
    static let maxLinks = 40

    /// A path that was resolved, with the links it went through.
    struct Resolution {
        var path: String
        var entry: ImageEntry
        /// Each link followed, as `link -> target`.
        var links: [String]
    }

    /// The failures of a lookup.
    enum Failure: Error, Equatable {
        case missing(String)
        case notDirectory(String)
        case tooManyLinks
    }

    let reader: ImageReader

    /// Resolves `path`, following symlinks in every component including the last.
    func resolve(_ path: String) throws -> Result<Resolution, Failure> {
        var resolved: [String] = []
        var pending = components(path)
        var links: [String] = []
        var entry = ImageEntry(kind: .directory, mode: 0o755, size: 0)
        while !pending.isEmpty {
            let name = pending.removeFirst()
            if name == ".." {
                _ = resolved.popLast()
                continue
            }
            let candidate = "/" + (resolved + [name]).joined(separator: "/")
            guard let found = try reader.entry(candidate) else {
                return .failure(.missing(candidate))
            }
            if found.kind == .symlink, let target = found.linkTarget {
                links.append("\(candidate) -> \(target)")
                guard links.count <= PathResolver.maxLinks else { return .failure(.tooManyLinks) }
                if target.hasPrefix("/") { resolved = [] }
                pending = components(target) + pending
                continue
            }
            if !pending.isEmpty, found.kind != .directory {
                return .failure(.notDirectory(candidate))
            }
            resolved.append(name)
            entry = found
        }
        return .success(
            Resolution(path: "/" + resolved.joined(separator: "/"), entry: entry, links: links))
    }

    private func components(_ path: String) -> [String] {
        path.split(separator: "/").map(String.init).filter { $0 != "." }
    }
}
