import Foundation
import KFCCore

/// Runs setup steps inside a tree with chroot, isolated by namespaces.
///
/// Each step runs under `unshare` in new mount, PID, UTS and IPC namespaces, and in a
/// network namespace unless the step needs the network. Its /proc, /sys, /dev and
/// resolv.conf mounts exist only in that mount namespace. They vanish with the step's last
/// process however it ends, so the host never finds them in the tree.
public enum ChrootRunner {
    /// The environment of a step: nothing from the host but these.
    static let stepEnvironment = [
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root",
        "LANG=C.UTF-8", "TERM=dumb",
    ]

    /// Runs `step` in the tree at `root`.
    ///
    /// `workDirectory` is a folder outside the tree for the step's log and the copy of the
    /// host's resolv.conf. `epoch` is exported as SOURCE_DATE_EPOCH. A step that fails or
    /// runs past `timeout` seconds is an error with its exit status and last output lines.
    public static func run(
        _ step: SetupStep, root: String, workDirectory: String, epoch: Int64?,
        timeout: Double? = nil, logger: Logger
    ) throws {
        let context = "setup step '\(step.name)'"
        try checkMountPoints(root: root, context: context)
        let resolv = try prepareResolvConf(root: root, workDirectory: workDirectory, step: step)
        defer { resolv.restore() }

        let logPath = "\(workDirectory)/\(step.name).log"
        guard FileManager.default.createFile(atPath: logPath, contents: nil),
            let log = FileHandle(forWritingAtPath: logPath)
        else { throw KFCError.failed(context, "could not create the log \(logPath)") }
        defer { try? log.close() }

        var environment = stepEnvironment
        if let epoch { environment.append("SOURCE_DATE_EPOCH=\(epoch)") }
        // setpriv makes the kernel kill unshare when this process dies, even by SIGKILL, and
        // unshare's --kill-child then takes the whole step with it.
        let command = Command(
            "setpriv", ["--pdeathsig", "KILL", "--", "unshare"] + namespaceFlags(step) + [
                "--", "/bin/sh", "-c", mountScript, "kfc-step",
                root, resolv.mountSource ?? "", step.network ? "host" : "own", step.script] + environment)
        logger.info("running setup step", [("step", step.name), ("root", root)])
        let started = Date()
        let result: CommandResult
        do {
            result = try command.result(outputTo: log, timeout: timeout, logger: logger)
        } catch let failure as KFCError where failure.reason.hasPrefix("timed out") {
            let output = (try? FileSystem.read(logPath)) ?? Data()
            throw KFCError.failed(
                context, "timed out after \(Int(timeout ?? 0)) s and was killed",
                details: Command.tail(output, count: 15))
        }
        let output = (try? FileSystem.read(logPath)) ?? Data()
        guard result.status == 0 else {
            throw KFCError.failed(
                context, "exited with status \(result.status)",
                details: Command.tail(output + result.errorOutput, count: 15))
        }
        logger.info(
            "setup step done",
            [("step", step.name), ("seconds", String(format: "%.1f", -started.timeIntervalSinceNow))])
    }

    static func namespaceFlags(_ step: SetupStep) -> [String] {
        var flags = [
            "--mount", "--propagation", "private", "--uts", "--ipc", "--pid", "--fork",
            "--kill-child",
        ]
        if !step.network { flags.append("--net") }
        return flags
    }

    /// The script run by the host's /bin/sh inside the new namespaces, with the arguments
    /// ROOT RESOLV NETWORK SCRIPT ENV…. It brings up loopback in a network namespace of the
    /// step's own (NETWORK `own`), mounts /proc, /sys and a minimal /dev, binds the host's
    /// resolv.conf copy when given, and execs the step's script in the chroot.
    static let mountScript = #"""
        set -eu
        root=$1 resolv=$2 network=$3 script=$4
        shift 4
        exec 2>&1
        if [ "$network" = own ]; then ip link set lo up 2>/dev/null || true; fi
        mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
        mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$root/sys"
        mount -t tmpfs -o mode=0755,nosuid,size=16m tmpfs "$root/dev"
        for node in null zero full random urandom tty; do
            : > "$root/dev/$node"
            mount --bind "/dev/$node" "$root/dev/$node"
        done
        mkdir -p "$root/dev/pts" "$root/dev/shm"
        mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts "$root/dev/pts"
        ln -s pts/ptmx "$root/dev/ptmx"
        mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/dev/shm"
        ln -s /proc/self/fd "$root/dev/fd"
        ln -s /proc/self/fd/0 "$root/dev/stdin"
        ln -s /proc/self/fd/1 "$root/dev/stdout"
        ln -s /proc/self/fd/2 "$root/dev/stderr"
        if [ -n "$resolv" ]; then mount --bind "$resolv" "$root/etc/resolv.conf"; fi
        cd /
        exec env -i "$@" chroot "$root" /bin/sh -c "$script"
        """#

    /// Mount points must be real folders (and resolv.conf a file) inside the tree: a symlink
    /// there would put the mount elsewhere.
    static func checkMountPoints(root: String, context: String) throws {
        guard FileSystem.exists("\(root)/bin/sh") else {
            throw KFCError.invalid(context, "the tree at \(root) has no /bin/sh")
        }
        for folder in ["proc", "sys", "dev", "etc"] {
            let path = "\(root)/\(folder)"
            var info = stat()
            if lstat(path, &info) != 0 {
                try FileSystem.createDirectory(path)
                continue
            }
            guard info.st_mode & S_IFMT == S_IFDIR else {
                throw KFCError.invalid(context, "/\(folder) in the tree is not a folder")
            }
        }
    }
}
