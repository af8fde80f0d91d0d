import Foundation
import KFCCore

extension ZFSStore {
    public func send(name: String, version: String, base: String?, to output: FileHandle)
        throws
    {
        let manifest = try readManifest(name, version)
        let context = "send \(manifest.reference)"
        if let base { _ = try readManifest(name, base) }
        let folder = try contentFolder(name, version)
        try withSpool("\(name)@\(version).send-\(getpid())") { spool in
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: spool))
            defer { try? handle.close() }
            let incremental = base.map { ["-i", "@\($0)"] } ?? []
            try withContext(context) {
                _ = try zfs.run(
                    ["send"] + incremental + [snapshot(name, version)], output: handle)
            }
            let header = try makeHeader(
                kind: "zfs", manifest: manifest.relative(to: folder), base: base, payload: spool)
            try withContext(context) {
                try ReplicationStream.write(header, payload: spool, to: output)
            }
            logger.info("version sent", [("version", manifest.reference),
                ("bytes", "\(header.payloadBytes)"), ("base", base ?? "")])
        }
    }

    public func receive(from input: FileHandle) throws -> VersionManifest {
        let header = try ReplicationStream.readHeader(from: input)
        let manifest = header.manifest
        let context = "receive \(manifest.reference)"
        try Names.validate(manifest.name, as: "image name")
        try Names.validate(manifest.version, as: "version")
        guard header.kind == "zfs" else {
            throw KFCError.invalid(
                context, "the stream holds a \(header.kind) payload, which \(spec) cannot take")
        }
        let build = try FileLock.acquire(buildLockPath(manifest.name))
        return try withExtendedLifetime(build) {
            try withNameLock(manifest.name) {
                try checkReceivable(header)
                return try withSpool("\(manifest.name)@\(manifest.version).stream") { spool in
                    try ReplicationStream.readPayload(header, from: input, to: spool)
                    return try withContext(context) { try apply(header, spool: spool) }
                }
            }
        }
    }

    /// Rejects a stream whose version exists here or whose base is not this dataset's newest.
    private func checkReceivable(_ header: ReplicationHeader) throws {
        let manifest = header.manifest
        let context = "receive \(manifest.reference)"
        let existing = try snapshotNames(manifest.name)
        guard !existing.contains(manifest.version) else {
            throw KFCError.failed(context, "the version exists already in \(spec)")
        }
        if let base = header.base {
            guard existing.last == base else {
                throw KFCError.notFound(
                    context, "the base version \(base) of this incremental stream is not the "
                        + "newest version here (\(existing.last ?? "none")); send from that one")
            }
        } else if zfs.exists(dataset(manifest.name)) {
            throw KFCError.failed(
                context, "\(dataset(manifest.name)) exists; send an incremental stream with "
                    + "--from \(existing.last ?? "VERSION")")
        }
    }

    private func apply(_ header: ReplicationHeader, spool: String) throws -> VersionManifest {
        let manifest = header.manifest
        let target = dataset(manifest.name)
        let created = header.base == nil
        let input = try FileHandle(forReadingFrom: URL(fileURLWithPath: spool))
        defer { try? input.close() }
        // Received unmounted, then made read-only, so nothing writes to the dataset and a
        // later incremental stream applies without `-F`.
        try zfs.run(["receive", "-u", target], input: input)
        do {
            try zfs.run(["set", "readonly=on", target])
            for (key, value) in properties where created {
                try zfs.run(["set", "\(key)=\(value)", target])
            }
            // After an incremental receive into a mounted dataset, zfs-fuse 0.7 went on
            // showing this process the old tree, so the dataset is mounted afresh.
            if try isMounted(target) { try zfs.run(["unmount", target]) }
            try zfs.run(["mount", target])
            let folder = try mountpoint(target)
            waitForRemount(folder)
            try checkArrival(header, folder: folder)
            var stored = manifest
            stored.verified = nil
            let snapshotName = snapshot(manifest.name, manifest.version)
            try zfs.setChunked("kfc:manifest", try stored.json(), on: snapshotName)
            if let verified = manifest.verified {
                try zfs.setChunked("kfc:verified", try encodeRecord(verified), on: snapshotName)
            }
        } catch {
            try? undoReceive(header)
            throw error
        }
        logger.info("version received", [("version", manifest.reference)])
        return try readManifest(manifest.name, manifest.version)
    }

    private func undoReceive(_ header: ReplicationHeader) throws {
        let manifest = header.manifest
        if header.base == nil {
            try zfs.destroy(dataset(manifest.name), recursive: true)
        } else {
            try zfs.destroy(snapshot(manifest.name, manifest.version))
        }
    }

    /// Waits up to 5 s for the manifest to show in `folder`, in case the FUSE mount is not
    /// serving yet when `zfs mount` returns.
    private func waitForRemount(_ folder: String) {
        for _ in 0..<100 where !FileSystem.exists("\(folder)/\(VersionLayout.manifest)") {
            usleep(50_000)
        }
    }

    func isMounted(_ target: String) throws -> Bool {
        try zfs.run(["get", "-H", "-p", "-o", "value", "mounted", target])
            .trimmingCharacters(in: .whitespacesAndNewlines) == "yes"
    }

    /// Runs `body` with a locked spool file in the scratch folder, removed afterwards.
    func withSpool<T>(_ entry: String, _ body: (String) throws -> T) throws -> T {
        let path = "\(scratch)/spool/\(entry)"
        try FileSystem.createDirectory("\(scratch)/spool")
        let lock = try FileLock.acquire(path)
        defer {
            try? FileSystem.remove(path)
            withExtendedLifetime(lock) {}
        }
        return try body(path)
    }
}
