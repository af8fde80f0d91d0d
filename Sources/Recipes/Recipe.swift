import Foundation
import KFCCore

/// A recipe: how to turn a distribution tarball into a golden image.
///
/// The build applies it in this order: unpack `source`, install `packages`, add `files`,
/// run `setup`, write the image, fetch the `kernel`.
public struct Recipe: Sendable {
    /// A downloadable input and the digest it must have.
    public struct Source: Sendable, Equatable {
        /// An http, https or file URL.
        public var url: String
        public var digest: Digest
        /// The file name looked up in a darksite folder: the URL's last component.
        public var fileName: String {
            URL(string: url)?.lastPathComponent ?? (url as NSString).lastPathComponent
        }
    }

    /// A file added to the tree.
    public struct File: Sendable, Equatable {
        /// The file's absolute path inside the tree.
        public var path: String
        /// Its bytes: given inline with `content`, or read from `from` (relative to the recipe).
        public var content: FileContent
        public var mode: UInt32
        /// `USER:GROUP`, names or numbers, resolved against the tree's /etc/passwd and group.
        public var owner: String
        public var mark: SourceMark
    }

    /// The source of an added file's bytes.
    public enum FileContent: Sendable, Equatable {
        case inline(String)
        case file(String)
    }

    /// The image to write.
    public struct Image: Sendable, Equatable {
        /// A size in bytes, or nil for a size computed from the tree.
        public var size: Int64?
        /// Free space added to a computed size, in percent.
        public var headroomPercent: Int
        public var label: String?
    }

    public var name: String
    public var version: String
    public var arch: String
    public var source: Source
    public var packages: [String]
    public var files: [File]
    /// Shell commands run with /bin/sh inside the tree.
    public var setup: String?
    public var image: Image
    public var kernel: Source?
    /// The time all image timestamps are set from; nil means derived from the source.
    public var epoch: Int64?
    /// The recipe file.
    public var path: String
    /// The digest of the recipe file's bytes.
    public var digest: Digest
}

extension Recipe {
    /// The keys a recipe may have at its top level.
    public static let topLevelKeys = [
        "name", "version", "arch", "source", "packages", "files", "setup", "image", "kernel",
        "epoch",
    ]

    /// The smallest image size a recipe may give: room for the metadata and the journal
    /// with something left for files.
    public static let minimumImageSize: Int64 = 8 << 20

    /// The latest epoch ext4's 34-bit inode times can store (the year 2514).
    public static let maximumEpoch: Int64 = (1 << 34) - 1

    /// Reads and validates the recipe at `path`.
    public static func load(_ path: String) throws -> Recipe {
        let data = try FileSystem.read(path)
        let root = try YAML.load(data: data, file: path)
        return try Recipe(root, path: path, digest: Digest.of(data))
    }

    /// Validates a parsed recipe document.
    public init(_ root: YAMLNode, path: String, digest: Digest) throws {
        let fields = try root.mappingReader(allowed: Recipe.topLevelKeys)
        name = try fields.requiredString("name")
        try Recipe.checkName(name, at: fields.mark("name"))
        version = try fields.requiredString("version")
        try Recipe.checkName(version, at: fields.mark("version"))
        arch = try fields.string("arch") ?? "x86_64"
        guard arch == "x86_64" else {
            throw fields.mark("arch").error("unsupported arch '\(arch)' (supported: x86_64)")
        }
        source = try Recipe.source(fields.required("source"))
        packages = try fields.stringList("packages")
        files = try (fields.node("files")?.sequence() ?? []).map(Recipe.file)
        setup = try fields.string("setup")
        image = try Recipe.image(fields.node("image"))
        kernel = try fields.node("kernel").map(Recipe.source)
        epoch = try fields.int("epoch").map(Int64.init)
        if let epoch, !(1...Recipe.maximumEpoch).contains(epoch) {
            throw fields.mark("epoch").error(
                "epoch must be between 1 and \(Recipe.maximumEpoch) seconds since 1970")
        }
        self.path = path
        self.digest = digest
    }

    /// Names and versions become store paths and ZFS snapshot names, so they are kept to
    /// letters, digits and `._-`.
    static func checkName(_ text: String, at mark: SourceMark) throws {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "._-"))
        guard !text.isEmpty, text.unicodeScalars.allSatisfy(allowed.contains),
            text.first != ".", text.first != "-", text.unicodeScalars.allSatisfy(\.isASCII)
        else {
            throw mark.error("invalid name '\(text)': use letters, digits, '.', '_' and '-'")
        }
    }

    static func source(_ node: YAMLNode) throws -> Source {
        let fields = try node.mappingReader(allowed: ["url", "sha256", "sha512"])
        let url = try fields.requiredString("url")
        let scheme = URL(string: url)?.scheme?.lowercased()
        guard let scheme, ["http", "https", "file"].contains(scheme) else {
            throw fields.mark("url").error("expected an http, https or file URL, found '\(url)'")
        }
        let algorithm: DigestAlgorithm
        switch (fields.contains("sha256"), fields.contains("sha512")) {
        case (true, false): algorithm = .sha256
        case (false, true): algorithm = .sha512
        case (true, true): throw node.mark.error("give one of sha256 and sha512, not both")
        case (false, false): throw node.mark.error("missing required key 'sha256' or 'sha512'")
        }
        let key = algorithm.rawValue
        let hex = try fields.requiredString(key)
        guard let digest = Digest(algorithm, hex: hex) else {
            throw fields.mark(key).error(
                "invalid \(key): expected \(algorithm.hexLength) hex digits")
        }
        return Source(url: url, digest: digest)
    }

    static func file(_ node: YAMLNode) throws -> File {
        let fields = try node.mappingReader(allowed: ["path", "content", "from", "mode", "owner"])
        let path = try fields.requiredString("path")
        guard path.hasPrefix("/"), !path.split(separator: "/").contains("..") else {
            throw fields.mark("path").error("file path must be absolute and without '..': '\(path)'")
        }
        let content: FileContent
        switch (try fields.string("content"), try fields.string("from")) {
        case (let text?, nil): content = .inline(text)
        case (nil, let from?): content = .file(from)
        case (.some, .some): throw node.mark.error("give one of content and from, not both")
        case (nil, nil): throw node.mark.error("missing required key 'content' or 'from'")
        }
        let mode = try fields.int("mode") ?? 0o644
        guard (0...0o7777).contains(mode) else {
            throw fields.mark("mode").error("mode must be between 0 and 07777")
        }
        let owner = try fields.string("owner") ?? "0:0"
        return File(path: path, content: content, mode: UInt32(mode), owner: owner, mark: node.mark)
    }

    static func image(_ node: YAMLNode?) throws -> Image {
        guard let node else { return Image(size: nil, headroomPercent: 20, label: nil) }
        let fields = try node.mappingReader(allowed: ["size", "label", "headroom"])
        var size: Int64?
        if let text = try fields.string("size"), text != "auto" {
            guard let bytes = ByteSize.parse(text), bytes > 0 else {
                throw fields.mark("size").error("invalid size '\(text)': expected like 200M or auto")
            }
            guard bytes >= Recipe.minimumImageSize else {
                throw fields.mark("size").error(
                    "size '\(text)' is below the minimum of 8M; give a unit, like 200M")
            }
            size = bytes
        }
        var headroom = 20
        if let text = try fields.string("headroom") {
            let digits = text.hasSuffix("%") ? String(text.dropLast()) : text
            guard let value = Int(digits), (0...1000).contains(value) else {
                throw fields.mark("headroom").error("invalid headroom '\(text)': expected like 20%")
            }
            headroom = value
        }
        let label = try fields.string("label")
        if let label, label.utf8.count > 16 {
            throw fields.mark("label").error("label '\(label)' is longer than 16 bytes")
        }
        return Image(size: size, headroomPercent: headroom, label: label)
    }
}
