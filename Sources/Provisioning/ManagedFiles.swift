import Foundation
import KFCCore

#if canImport(Glibc)
    import Glibc
#endif

/// A file whose whole content and mode provisioning owns: rewritten when its content differs,
/// chmod-ed when only its mode does.
struct ManagedFile {
    /// The path on the provisioned host.
    var path: String
    var content: Data
    var mode: mode_t = 0o644

    init(_ path: String, _ text: String, mode: mode_t = 0o644) {
        self.path = path
        self.content = Data(text.utf8)
        self.mode = mode
    }

    func inspect(_ context: ProvisioningContext) throws -> StepReport {
        var report = StepReport()
        let full = try context.checkedPath(path)
        var info = stat()
        guard lstat(full, &info) == 0 else {
            report.changes.append(Change("write \(path)") { try write(full) })
            return report
        }
        let type = info.st_mode & S_IFMT
        let same = type == S_IFREG ? try FileSystem.read(full) == content : false
        if type == S_IFDIR {
            report.problems.append("\(full) is a folder where a file belongs")
        } else if !same {
            report.changes.append(Change("update \(path)") { try write(full) })
        } else if info.st_mode & 0o7777 != mode {
            let summary = "set mode of \(path) to \(octal(mode))"
            report.changes.append(
                Change(summary) {
                    try SystemCall.retrying("chmod \(full)") { chmod(full, mode) }
                })
        } else {
            report.findings.append("\(path) is up to date")
        }
        return report
    }

    private func write(_ full: String) throws {
        try FileSystem.createDirectory((full as NSString).deletingLastPathComponent)
        try FileSystem.writeAtomically(content, to: full, mode: mode)
    }
}

/// A folder with an owner and a mode.
struct ManagedFolder {
    /// The path on the provisioned host.
    var path: String
    var mode: mode_t
    var owner: uid_t = 0
    var group: gid_t = 0

    func inspect(_ context: ProvisioningContext) throws -> StepReport {
        var report = StepReport()
        let full = try context.checkedPath(path)
        let wanted = "\(octal(mode)) \(owner):\(group)"
        var info = stat()
        guard lstat(full, &info) == 0 else {
            report.changes.append(Change("create folder \(path) (\(wanted))") { try create(full) })
            return report
        }
        guard info.st_mode & S_IFMT == S_IFDIR else {
            report.problems.append("\(full) exists and is not a folder")
            return report
        }
        if info.st_uid != owner || info.st_gid != group {
            let summary =
                "change owner of \(path) from \(info.st_uid):\(info.st_gid) to "
                + "\(owner):\(group)"
            report.changes.append(Change(summary) { try chown(full) })
        }
        if info.st_mode & 0o7777 != mode {
            let summary =
                "change mode of \(path) from \(octal(info.st_mode & 0o7777)) to "
                + octal(mode)
            report.changes.append(Change(summary) { try chmod(full) })
        }
        if report.changes.isEmpty { report.findings.append("folder \(path) is \(wanted)") }
        return report
    }

    private func create(_ full: String) throws {
        try FileSystem.createDirectory(full)
        try chown(full)
        try chmod(full)
    }

    private func chown(_ full: String) throws {
        try SystemCall.retrying("chown \(full)") { Glibc.lchown(full, owner, group) }
    }

    private func chmod(_ full: String) throws {
        // chmod after mkdir, because mkdir's mode passes through the umask.
        try SystemCall.retrying("chmod \(full)") { Glibc.chmod(full, mode) }
    }
}

/// A symbolic link with a fixed target, such as a systemd unit enabled by a `.wants` link.
struct ManagedLink {
    /// The link's path on the provisioned host.
    var path: String
    /// The link's target, written as is.
    var target: String

    func inspect(_ context: ProvisioningContext) throws -> StepReport {
        var report = StepReport()
        let full = try context.checkedPath(path)
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(full, &buffer, buffer.count - 1)
        if count >= 0 {
            let current = String(
                decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if current == target {
                report.findings.append("\(path) links to \(target)")
                return report
            }
        } else if FileSystem.exists(full) {
            report.problems.append("\(full) exists and is not a symbolic link")
            return report
        }
        report.changes.append(Change("link \(path) to \(target)") { try link(full) })
        return report
    }

    private func link(_ full: String) throws {
        try FileSystem.createDirectory((full as NSString).deletingLastPathComponent)
        let temporary = "\(full).tmp-\(getpid())"
        unlink(temporary)
        try SystemCall.retrying("symlink \(temporary)") { symlink(target, temporary) }
        do {
            try SystemCall.retrying("rename \(temporary) to \(full)") { rename(temporary, full) }
        } catch {
            unlink(temporary)
            throw error
        }
    }
}

/// `mode` as four octal digits, as in `0755`.
func octal(_ mode: mode_t) -> String {
    let digits = String(mode, radix: 8)
    return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
}
