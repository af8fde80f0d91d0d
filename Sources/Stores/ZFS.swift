import Foundation
import KFCCore

/// The `zfs` command with parsable output (`-H`, and `-p` where the command has it).
///
/// zfs-fuse (pool version 23) has no `-p` for `zfs list`, so listings use `-H` only and
/// ask for no size columns.
struct ZFS: Sendable {
    let logger: Logger

    /// The maximum bytes put in one user property. ZFS allows 8192 per value, and longer
    /// manifests are split over numbered properties.
    static let chunkBytes = 4000

    /// Runs `zfs ARGUMENTS` and returns its stdout.
    @discardableResult
    func run(_ arguments: [String], input: FileHandle? = nil, output: FileHandle? = nil)
        throws -> String
    {
        let result = try Command("zfs", arguments).run(
            input: input, outputTo: output, logger: logger)
        return result.outputText
    }

    /// Runs `zfs ARGUMENTS` and returns its tab-separated output lines as fields.
    func rows(_ arguments: [String]) throws -> [[String]] {
        try run(arguments).split(separator: "\n").map {
            $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        }
    }

    /// Destroys `target` (with `-r` when `recursive`), retrying for up to 2 s while zfs-fuse
    /// still reports a just-closed or just-unmounted dataset as busy.
    func destroy(_ target: String, recursive: Bool = false) throws {
        let arguments = ["destroy"] + (recursive ? ["-r"] : []) + [target]
        for attempt in 1...20 {
            do {
                try run(arguments)
                return
            } catch let error as KFCError where attempt < 20 && error.reason.contains("busy") {
                usleep(100_000)
            }
        }
    }

    /// Creates the filesystem `target` with `options` (such as `-p` or `-o KEY=VALUE`).
    ///
    /// zfs-fuse sometimes reports "filesystem successfully created, but not mounted" with
    /// status 1; the dataset exists then, so it is mounted here instead of failing.
    func create(_ target: String, options: [String] = []) throws {
        do {
            try run(["create"] + options + [target])
        } catch let error as KFCError where error.reason.contains("created, but not mounted") {
            logger.info("mounting a dataset zfs create left unmounted", [("dataset", target)])
            try run(["mount", target])
        }
    }

    /// Whether the dataset or snapshot `name` exists.
    func exists(_ name: String) -> Bool {
        (try? Command("zfs", ["list", "-H", "-o", "name", name]).result().status) == 0
    }

    /// The names of the filesystems `name` and those below it down to `depth` levels;
    /// nil when `name` does not exist.
    func names(_ name: String, depth: Int) throws -> [String]? {
        let result = try Command("zfs", ["list", "-H", "-o", "name", "-t", "filesystem", "-r",
            "-d", "\(depth)", name]).result(logger: logger)
        guard result.status == 0 else {
            if result.errorText.contains("does not exist") { return nil }
            throw KFCError.failed("zfs list \(name)", Command.tail(result.errorOutput).last
                ?? "exited with status \(result.status)")
        }
        return result.outputText.split(separator: "\n").map(String.init)
    }

    /// The locally set properties of `name` and everything below it, by dataset name;
    /// empty when `name` does not exist.
    func localProperties(_ name: String) throws -> [String: [String: String]] {
        var result: [String: [String: String]] = [:]
        let command = Command("zfs", ["get", "-H", "-p", "-r", "-s", "local", "-o",
            "name,property,value", "all", name])
        let output = try command.result(logger: logger)
        guard output.status == 0 else {
            if output.errorText.contains("does not exist") { return result }
            throw KFCError.failed(command.commandLine, Command.tail(output.errorOutput).last
                ?? "exited with status \(output.status)")
        }
        let lines = output.outputText.split(separator: "\n").map {
            $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        }
        for row in lines where row.count >= 3
        {
            result[row[0], default: [:]][row[1]] = row[2...].joined(separator: "\t")
        }
        return result
    }

    /// Sets `data` on `target` as base64 in `PREFIX.0`, `PREFIX.1`, … and the count in
    /// `PREFIX.parts`, removing parts left from a longer earlier value. The count is
    /// written last, so readers ignore a value whose writing was cut short.
    func setChunked(_ prefix: String, _ data: Data, on target: String, previousParts: Int = 0)
        throws
    {
        // Base64 keeps tabs, newlines and leading spaces out of property values.
        let text = data.base64EncodedString()
        let chunks = stride(from: 0, to: max(text.count, 1), by: ZFS.chunkBytes).map {
            String(text.dropFirst($0).prefix(ZFS.chunkBytes))
        }
        try run(["inherit", "\(prefix).parts", target])
        for (index, chunk) in chunks.enumerated() {
            try run(["set", "\(prefix).\(index)=\(chunk)", target])
        }
        for index in chunks.count..<max(chunks.count, previousParts) {
            try run(["inherit", "\(prefix).\(index)", target])
        }
        try run(["set", "\(prefix).parts=\(chunks.count)", target])
    }

    /// The value `setChunked` wrote, from a property map; nil when it is missing or partial.
    static func chunked(_ prefix: String, in properties: [String: String]) -> Data? {
        guard let count = properties["\(prefix).parts"].flatMap({ Int($0) }) else { return nil }
        var text = ""
        for index in 0..<count {
            guard let part = properties["\(prefix).\(index)"] else { return nil }
            text += part
        }
        return Data(base64Encoded: text)
    }

    /// Turns a failed `zfs create` or `zfs set` of `properties` into an error naming the
    /// property and value the pool rejected, such as `compression=zstd` on version 23.
    static func explain(_ error: Error, properties: [(String, String)], dataset: String)
        -> KFCError
    {
        let failure = error.asKFCError()
        let text = ([failure.reason] + failure.details).joined(separator: " ")
        for (key, value) in properties where text.contains("'\(key)'") {
            return KFCError.invalid(
                "create dataset \(dataset)",
                "the pool rejects the property \(key)=\(value): \(failure.reason)")
        }
        return failure
    }
}
