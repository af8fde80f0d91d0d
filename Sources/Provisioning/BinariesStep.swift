import Foundation
import KFCCore

/// Step 2: firecracker, jailer and firectl installed to /usr/local/bin from an offline
/// folder. Each new one must run `--version` before it is installed.
public struct BinariesStep: ProvisioningStep {
    public let name = "binaries"
    public let summary = "firecracker, jailer and firectl are installed in /usr/local/bin"

    /// The programs installed, by their installed names.
    public static let programs = ["firecracker", "jailer", "firectl"]

    /// A step for the programs of `programs`.
    public init() {}

    public func inspect(_ context: ProvisioningContext) throws -> StepReport {
        var report = StepReport()
        let folder = context.config.binaries
        guard FileSystem.isDirectory(folder) else {
            report.problems.append(
                "binaries folder \(folder) not found (set binaries in the host config)")
            return report
        }
        for program in BinariesStep.programs {
            do {
                let source = try BinariesStep.locate(program, in: folder)
                let installed = InstalledProgram(
                    source: source, path: "/usr/local/bin/\(program)", probe: ["--version"])
                report.merge(try installed.inspect(context))
            } catch let error as KFCError {
                report.problems.append(error.description)
            }
        }
        return report
    }

    /// Finds `program` in `folder`: the file of that name, else the single file named like a
    /// Firecracker release asset (`firecracker-v1.7.0-x86_64`).
    static func locate(_ program: String, in folder: String) throws -> String {
        let exact = "\(folder)/\(program)"
        if FileSystem.exists(exact) { return exact }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        let candidates = names.filter { $0.hasPrefix("\(program)-v") && !$0.hasSuffix(".debug") }
            .sorted()
        guard candidates.count <= 1 else {
            throw KFCError.invalid(
                folder, "several candidates for \(program): \(candidates.joined(separator: ", "))")
        }
        guard let name = candidates.first else {
            throw KFCError.notFound(folder, "\(program) not found")
        }
        return "\(folder)/\(name)"
    }
}

/// An executable copied from a source file to a path on the host, mode 0755. A copy with
/// the same digest is left alone; a new one must first run `probe` with exit status 0.
struct InstalledProgram {
    /// The file to install, on the running system.
    var source: String
    /// The installed path on the provisioned host.
    var path: String
    /// The arguments of the trial run, such as `--version`.
    var probe: [String]

    func inspect(_ context: ProvisioningContext) throws -> StepReport {
        var report = StepReport()
        let target = try context.checkedPath(path)
        let digest = try Digest.ofFile(source)
        let short = "sha256:\(digest.hex.prefix(12))"
        if FileSystem.exists(target), try Digest.ofFile(target) == digest {
            if try FileSystem.permissions(target) != 0o755 {
                report.changes.append(
                    Change("set mode of \(path) to 0755") {
                        try SystemCall.retrying("chmod \(target)") { chmod(target, 0o755) }
                    })
            } else {
                report.findings.append("\(path) is \(short), the same as \(source)")
            }
            return report
        }
        let trial: CommandResult
        do {
            trial = try Command(source, probe).result(timeout: 10, logger: context.logger)
        } catch let error as KFCError {
            report.problems.append("\(source) does not run: \(error.reason)")
            return report
        }
        guard trial.status == 0 else {
            let last = Command.tail(trial.errorOutput + trial.output, count: 1).first ?? ""
            report.problems.append(
                "\(source) does not run: '\(probe.joined(separator: " "))' exited with status "
                    + "\(trial.status)\(last.isEmpty ? "" : ": \(last)")")
            return report
        }
        let version = trial.outputText.split(separator: "\n").first.map(String.init) ?? ""
        let verb = FileSystem.exists(target) ? "replace" : "install"
        let label = version.isEmpty ? short : "\(short), \(version)"
        report.changes.append(
            Change("\(verb) \(path) from \(source) (\(label))") {
                try InstalledProgram.copy(source, to: target, logger: context.logger)
            })
        return report
    }

    /// Copies `source` to `target` with mode 0755 through a temporary file and a rename, so
    /// `target` is the old program or the new one, never a part.
    ///
    /// `install` writes the copy in a child process. A write descriptor held in this
    /// process would be inherited by any program another thread starts at that moment, and
    /// executing the new file while such a child still has it open fails with ETXTBSY.
    static func copy(_ source: String, to target: String, logger: Logger) throws {
        try FileSystem.createDirectory((target as NSString).deletingLastPathComponent)
        let temporary = "\(target).tmp-\(getpid())"
        do {
            try Command("install", ["-m", "0755", source, temporary]).run(logger: logger)
            try Command("sync", [temporary]).run(logger: logger)
            try SystemCall.retrying("rename \(temporary) to \(target)") {
                rename(temporary, target)
            }
        } catch {
            unlink(temporary)
            throw error
        }
    }
}

extension FileSystem {
    /// The permission bits of `path` (following symlinks).
    static func permissions(_ path: String) throws -> mode_t {
        var info = stat()
        try SystemCall.retrying("stat \(path)") { stat(path, &info) }
        return info.st_mode & 0o7777
    }
}
