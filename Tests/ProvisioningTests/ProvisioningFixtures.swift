import Foundation
import KFCCore
import Provisioning
import Recipes
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// A throwaway host for one test: a root folder, offline binaries and release executables
/// made as small shell scripts, and a host config that points at them.
struct ScratchHost {
    let folder: String
    var root: String { "\(folder)/root" }
    var binaries: String { "\(folder)/binaries" }
    var executables: String { "\(folder)/release" }

    init() throws {
        folder = try TestEnvironment.temporaryDirectory("kfc-provision-test")
        try FileSystem.createDirectory("\(folder)/root")
        for program in BinariesStep.programs {
            try ScratchHost.script(
                "\(folder)/binaries/\(program)", "echo '\(program) v1.7.0'")
        }
        for command in ExecutablesStep.commands {
            try ScratchHost.script("\(folder)/release/\(command)", "echo 'usage: \(command)'")
        }
    }

    func remove() { try? FileSystem.remove(folder) }

    /// The config text with the scratch folders filled in; the `key: value` lines of
    /// `extra` replace or add to these.
    func configText(_ extra: String = "") -> String {
        var fields = [
            ("binaries", binaries), ("executables", executables), ("uplink", "eth9"),
            ("nat", "nftables"),
        ]
        for line in extra.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            fields.removeAll { $0.0 == parts[0] }
            fields.append((parts[0], parts[1]))
        }
        return fields.map { "\($0.0): \($0.1)" }.joined(separator: "\n") + "\n"
    }

    func config(_ extra: String = "") throws -> HostConfig {
        try HostConfig(YAML.load(text: configText(extra), file: "host.yaml"), file: "host.yaml")
    }

    func provisioner(
        _ config: HostConfig, live: Bool = false, namespace: String? = nil, only: [String] = [],
        logger: Logger = .silent
    ) throws -> Provisioner {
        let options = ProvisioningOptions(root: root, live: live, networkNamespace: namespace)
        let context = ProvisioningContext(config: config, options: options, logger: logger)
        return try Provisioner(context: context, only: only)
    }

    /// Writes an executable `/bin/sh` script at `path` whose body is `body`.
    ///
    /// `install` copies it in a child process. A write descriptor open in this process
    /// would be inherited by programs that parallel tests start, and executing the script
    /// while one of them still has it open fails with ETXTBSY.
    static func script(_ path: String, _ body: String) throws {
        try FileSystem.createDirectory((path as NSString).deletingLastPathComponent)
        let draft = "\(path).draft"
        try FileSystem.writeAtomically(Data("#!/bin/sh\n\(body)\n".utf8), to: draft)
        defer { try? FileSystem.remove(draft) }
        try Command("install", ["-m", "0755", draft, path]).run()
    }
}

/// Lists every entry under a folder with its type, mode, owner and content digest or link target,
/// so two listings differ when anything below the folder changed.
func treeListing(_ root: String) throws -> [String: String] {
    var listing: [String: String] = [:]
    let enumerator = FileManager.default.enumerator(atPath: root)
    while let relative = enumerator?.nextObject() as? String {
        let path = "\(root)/\(relative)"
        var info = stat()
        guard lstat(path, &info) == 0 else { continue }
        var entry = "\(info.st_mode) \(info.st_uid):\(info.st_gid)"
        switch info.st_mode & S_IFMT {
        case S_IFREG: entry += " \(try Digest.ofFile(path))"
        case S_IFLNK:
            entry += " -> \(try FileManager.default.destinationOfSymbolicLink(atPath: path))"
        default: break
        }
        listing[relative] = entry
    }
    return listing
}

/// A network namespace made by a test, with a veth pair whose `up0` end has the default
/// route, so the uplink lookup and the NAT rules have a real interface. `remove()` deletes
/// the namespace and everything in it.
struct TestNamespace {
    let name: String

    init() throws {
        name = "kfc-test-\(getpid())-\(UInt16.random(in: 0...UInt16.max))"
        try Command("ip", ["netns", "add", name]).run()
        do {
            for arguments in [
                ["link", "add", "up0", "type", "veth", "peer", "name", "up1"],
                ["link", "set", "lo", "up"],
                ["link", "set", "up0", "up"],
                ["address", "add", "192.0.2.2/24", "dev", "up0"],
                ["route", "add", "default", "via", "192.0.2.1", "dev", "up0", "onlink"],
            ] {
                try run("ip", arguments)
            }
        } catch {
            remove()
            throw error
        }
    }

    /// Runs `executable` inside the namespace and returns its stdout.
    @discardableResult
    func run(_ executable: String, _ arguments: [String]) throws -> String {
        try Command("ip", ["netns", "exec", name, executable] + arguments).output()
    }

    func remove() {
        _ = try? Command("ip", ["netns", "delete", name]).run()
    }

    /// Whether namespaces, veth pairs and nft can be used here.
    static var available: Bool {
        TestEnvironment.isRoot && TestEnvironment.hasTools("ip", "nft", "sysctl")
    }
}

/// The permission bits of `path`, following symlinks.
func permissionBits(_ path: String) throws -> mode_t {
    var info = stat()
    try SystemCall.retrying("stat \(path)") { stat(path, &info) }
    return info.st_mode & 0o7777
}
