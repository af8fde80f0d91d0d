import Foundation
import KFCCore

/// The tar options that keep owners, modes, extended attributes, ACLs and holes.
let tarKeepOptions = ["--numeric-owner", "--xattrs", "--xattrs-include=*", "--acls"]

extension DirectoryStore {
    public func send(name: String, version: String, base: String?, to output: FileHandle)
        throws
    {
        let manifest = try readManifest(name, version)
        let folder = versionFolder(name, version)
        let context = "send \(manifest.reference)"
        if let base { _ = try readManifest(name, base) }
        try withTemporary("\(name)@\(version).send-\(getpid())") { spool in
            let header: ReplicationHeader
            if volumes is PlainVolumes {
                header = try writeTarPayload(manifest, base: base, to: spool)
            } else {
                let baseFolder = base.map { versionFolder(name, $0) }
                try BtrfsVolumes(logger: logger).send(folder, base: baseFolder, to: spool)
                header = try makeHeader(
                    kind: volumes.payloadKind, manifest: manifest.relative(to: folder),
                    base: base, payload: spool)
            }
            try withContext(context) {
                try ReplicationStream.write(header, payload: spool, to: output)
            }
            logger.info("version sent", [("version", manifest.reference),
                ("bytes", "\(header.payloadBytes)"), ("base", base ?? "")])
        }
    }

    private func writeTarPayload(_ manifest: VersionManifest, base: String?, to spool: String)
        throws -> ReplicationHeader
    {
        let folder = versionFolder(manifest.name, manifest.version)
        var arguments = ["-C", folder, "-cf", spool, "--sparse"] + tarKeepOptions
        var removed: [String] = []
        let list = spool + ".list"
        defer { try? FileSystem.remove(list) }
        if let base {
            let diff = try TreeDiff(base: versionFolder(manifest.name, base), new: folder)
            let names = diff.changed.map { $0 + "\0" }.joined()
            try FileSystem.writeAtomically(Data(names.utf8), to: list)
            arguments += ["--no-recursion", "--null", "-T", list]
            removed = diff.removed
        } else {
            arguments.append(".")
        }
        try Command("tar", arguments).run(logger: logger)
        return try makeHeader(
            kind: base == nil ? "tar" : "tar-delta", manifest: manifest.relative(to: folder),
            base: base, removed: removed, payload: spool)
    }

    public func receive(from input: FileHandle) throws -> VersionManifest {
        let header = try ReplicationStream.readHeader(from: input)
        let manifest = header.manifest
        let context = "receive \(manifest.reference)"
        try Names.validate(manifest.name, as: "image name")
        try Names.validate(manifest.version, as: "version")
        let kinds = volumes is PlainVolumes ? ["tar", "tar-delta"] : [volumes.payloadKind]
        guard kinds.contains(header.kind) else {
            throw KFCError.invalid(
                context, "the stream holds a \(header.kind) payload, which \(spec) cannot take")
        }
        return try withNameLock(manifest.name) {
            guard !FileSystem.exists(versionFolder(manifest.name, manifest.version)) else {
                throw KFCError.failed(
                    context, "the version exists already in \(spec) (if it is a leftover of "
                        + "a failed receive, 'kfc-image gc' removes it)")
            }
            if let base = header.base, try !publishedVersions(manifest.name).contains(base) {
                throw KFCError.notFound(
                    context, "the base version \(base) of this incremental stream is missing; "
                        + "send a full stream or one from a version this store has")
            }
            return try withTemporary("\(manifest.name)@\(manifest.version).stream") { spool in
                try ReplicationStream.readPayload(header, from: input, to: spool)
                return try withContext(context) { try apply(header, spool: spool) }
            }
        }
    }

    private func apply(_ header: ReplicationHeader, spool: String) throws -> VersionManifest {
        let manifest = header.manifest
        let final = versionFolder(manifest.name, manifest.version)
        if !(volumes is PlainVolumes) {
            let base = header.base.map { versionFolder(manifest.name, $0) }
            try BtrfsVolumes(logger: logger).receive(
                spool, into: "\(root)/images/\(manifest.name)", final: final, base: base,
                check: { try checkArrival(header, folder: $0) })
            try saveVerification(manifest)
            return try readManifest(manifest.name, manifest.version)
        }
        let pending = "\(root)/tmp/\(manifest.name)@\(manifest.version)"
        try volumes.createPending(pending)
        let lock = try FileLock.acquire(pending)
        return try withExtendedLifetime(lock) {
            do {
                try unpack(header, spool: spool, into: pending)
                try checkArrival(header, folder: pending)
                try FileSystem.createDirectory("\(root)/images/\(manifest.name)")
                try volumes.seal(pending: pending, final: final)
            } catch {
                try? volumes.removeFolder(pending)
                throw error
            }
            try saveVerification(manifest)
            logger.info("version received", [("version", manifest.reference)])
            return try readManifest(manifest.name, manifest.version)
        }
    }

    private func unpack(_ header: ReplicationHeader, spool: String, into pending: String)
        throws
    {
        if let base = header.base {
            let source = versionFolder(header.manifest.name, base)
            try Command("cp", ["--reflink=auto", "-a", "--", "\(source)/.", pending])
                .run(logger: logger)
            try setTopLevelWritable(pending, true)
            for path in header.removed {
                try FileSystem.remove("\(pending)/\(try safeRelativePath(path))")
            }
        }
        try Command("tar", ["-C", pending, "-xpf", spool] + tarKeepOptions).run(logger: logger)
        try setTopLevelWritable(pending, true)
    }

    private func saveVerification(_ manifest: VersionManifest) throws {
        guard let verified = manifest.verified else { return }
        try recordVerification(verified, name: manifest.name, version: manifest.version)
    }

    /// Runs `body` with a locked path `tmp/ENTRY` that is removed afterwards, whatever happens.
    func withTemporary<T>(_ entry: String, _ body: (String) throws -> T) throws -> T {
        let path = "\(root)/tmp/\(entry)"
        let lock = try FileLock.acquire(path)
        defer {
            try? FileSystem.remove(path)
            withExtendedLifetime(lock) {}
        }
        return try body(path)
    }
}

/// `path` when it is relative and stays inside its folder; a stream naming `../x` or `/x`
/// is rejected.
func safeRelativePath(_ path: String) throws -> String {
    let parts = path.split(separator: "/", omittingEmptySubsequences: false)
    guard !path.isEmpty, !path.hasPrefix("/"),
        parts.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." })
    else {
        throw KFCError.invalid("stream entry '\(path)'", "leaves the version folder")
    }
    return path
}
