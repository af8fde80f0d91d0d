import Foundation
import KFCCore

/// Brings verified inputs into a content-addressed cache: from the cache itself, from a
/// darksite folder, or by download, in that order.
///
/// A file enters the cache only after its digest matched, under `CACHE/ALGORITHM/HEX`.
public struct Fetcher: Sendable {
    /// The cache folder.
    public var cacheDirectory: String
    /// An offline folder looked up by file name before any download.
    public var darksite: String?
    private let logger: Logger

    /// The cache folder used when none is given: `KFC_CACHE`, else `/var/cache/kfc`.
    public static var defaultCacheDirectory: String {
        ProcessInfo.processInfo.environment["KFC_CACHE"] ?? "/var/cache/kfc"
    }

    /// The darksite named by `KFC_DARKSITE`, when set.
    public static var environmentDarksite: String? {
        ProcessInfo.processInfo.environment["KFC_DARKSITE"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Creates a fetcher over `cacheDirectory`, looking in `darksite` first when given.
    public init(cacheDirectory: String = Fetcher.defaultCacheDirectory, darksite: String?,
        logger: Logger)
    {
        self.cacheDirectory = cacheDirectory
        self.darksite = darksite
        self.logger = logger
    }

    /// The cache path of a file with `digest`.
    public func cachePath(for digest: Digest) -> String {
        "\(cacheDirectory)/\(digest.algorithm.rawValue)/\(digest.hex)"
    }

    /// Returns the path of a verified copy of `url`'s content, which must have `digest`.
    ///
    /// `fileName` is the name looked up in the darksite; it defaults to the URL's last
    /// component. A digest mismatch is an error naming the file and both digests, and
    /// nothing is cached.
    public func fetch(_ url: String, digest: Digest, fileName: String? = nil) throws -> String {
        let name = fileName ?? URL(string: url)?.lastPathComponent ?? url
        let cached = cachePath(for: digest)
        if FileSystem.exists(cached), (try? Digest.ofFile(cached, digest.algorithm)) == digest {
            logger.debug("using cached file", [("file", name), ("path", cached)])
            return cached
        }
        try FileSystem.createDirectory("\(cacheDirectory)/\(digest.algorithm.rawValue)")

        var darksiteNote: String?
        if let darksite {
            let candidate = "\(darksite)/\(name)"
            if FileSystem.exists(candidate) {
                logger.info("taking file from the darksite", [("file", candidate)])
                return try admit(candidate, as: name, digest: digest, copy: true)
            }
            darksiteNote = "\(name) is not in the darksite \(darksite)"
        }

        let partial = "\(cached).part-\(getpid())"
        defer { try? FileSystem.remove(partial) }
        logger.info("downloading", [("url", url)])
        let actual: Digest
        do {
            actual = try Download.fetch(
                url, to: partial, algorithm: digest.algorithm, logger: logger)
        } catch let error as KFCError {
            guard let darksiteNote else { throw error }
            throw KFCError.failed("fetch \(name)", "\(darksiteNote), and \(error.description)")
        }
        try check(actual, expected: digest, file: "\(name) from \(url)")
        try SystemCall.retrying("rename \(partial) to \(cached)") { rename(partial, cached) }
        return cached
    }

    /// Verifies a local file and copies it into the cache; returns the cache path.
    public func admit(_ path: String, as name: String, digest: Digest, copy: Bool) throws -> String
    {
        let actual = try Digest.ofFile(path, digest.algorithm)
        try check(actual, expected: digest, file: path)
        let cached = cachePath(for: digest)
        try FileSystem.createDirectory("\(cacheDirectory)/\(digest.algorithm.rawValue)")
        let partial = "\(cached).part-\(getpid())"
        defer { try? FileSystem.remove(partial) }
        do {
            try FileManager.default.copyItem(atPath: path, toPath: partial)
        } catch {
            throw KFCError.failed("copy \(path) into the cache", FileSystem.describe(error))
        }
        // The copy is hashed again so a file changed while it was copied is never cached.
        try check(try Digest.ofFile(partial, digest.algorithm), expected: digest, file: path)
        try SystemCall.retrying("rename \(partial) to \(cached)") { rename(partial, cached) }
        return cached
    }

    private func check(_ actual: Digest, expected: Digest, file: String) throws {
        guard actual != expected else { return }
        throw KFCError.invalid(
            "verify \(file)",
            "\(expected.algorithm.rawValue) mismatch: expected \(expected.hex), got \(actual.hex)")
    }
}
