import Foundation
import KFCCore
import Provisioning
import Recipes
import TestSupport
import Testing

/// The kfc programs built beside the test bundle, when they are there.
enum BuiltProgram {
    /// The build products folder, when it holds every command the executables step installs.
    static let folder: String? = {
        let link = "/proc/self/exe"
        guard let bundle = try? FileManager.default.destinationOfSymbolicLink(atPath: link)
        else { return nil }
        let folder = (bundle as NSString).deletingLastPathComponent
        let complete = ExecutablesStep.commands.allSatisfy { FileSystem.exists("\(folder)/\($0)") }
        return complete ? folder : nil
    }()

    /// The built `kfc-provision`.
    static var path: String? { folder.map { "\($0)/kfc-provision" } }
}

/// The built `kfc-provision` program and the postinstaller script around it.
@Suite(
    "kfc-provision program",
    .enabled(if: BuiltProgram.path != nil, "needs the kfc-provision product built"))
struct CommandLineTests {
    static var postinstaller: String {
        "\(TestEnvironment.packageRoot)/postinstallers/firecracker-platform.sh"
    }

    func writeConfig(_ host: ScratchHost, _ extra: String = "") throws -> String {
        let path = "\(host.folder)/host.yaml"
        try FileSystem.writeAtomically(Data(host.configText(extra).utf8), to: path)
        return path
    }

    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> CommandResult {
        var command = Command(BuiltProgram.path ?? "kfc-provision", arguments)
        command.environment = environment
        return try command.result(timeout: 60)
    }

    @Test("plan prints changes and keeps the root")
    func planPrintsChanges() throws {
        let host = try ScratchHost()
        defer { host.remove() }
        let config = try writeConfig(host)
        let result = try run(["plan", "--config", config, "--root", host.root])
        #expect(result.status == 0, "\(result.errorText)")
        let text = result.outputText
        #expect(text.contains("config: \(config)"))
        #expect(text.contains("  uplink      eth9"))
        #expect(text.contains("root: \(host.root) (live steps skipped)"))
        #expect(text.contains("  would    create folder /srv/jailer (0755 0:0)"))
        #expect(text.contains("  skipped  net.ipv4.ip_forward now: not live under --root"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: host.root).isEmpty)
    }

    @Test("apply logs to a file and reruns cleanly")
    func applyLogsAndReruns() throws {
        let host = try ScratchHost()
        defer { host.remove() }
        let config = try writeConfig(host)
        let log = "\(host.folder)/logs/provision.log"
        let arguments = ["apply", "--config", config, "--root", host.root, "--log", log]

        let first = try run(arguments)
        #expect(first.status == 0, "\(first.errorText)")
        #expect(first.outputText.contains("folders: changed\n  done     create folder /var/lib/"))
        let second = try run(arguments)
        #expect(second.status == 0)
        #expect(second.outputText.hasSuffix("apply: nothing changed\n"))
        #expect(!second.outputText.contains(": changed"))

        let lines = String(decoding: try FileSystem.read(log), as: UTF8.self)
            .split(separator: "\n")
        #expect(lines.contains { $0.hasSuffix("kfc-provision: info: step started step=kvm") })
        #expect(lines.contains { $0.contains("applying change step=sysctl") })
        #expect(lines.allSatisfy { $0.first?.isNumber == true })
    }

    @Test("bad config is a one-line error")
    func badConfigError() throws {
        let host = try ScratchHost()
        defer { host.remove() }
        let config = try writeConfig(host, "range: 172.16.0.0/40")
        let result = try run(["plan", "--config", config, "--root", host.root])
        #expect(result.status == 1)
        #expect(
            result.errorText
                == "kfc-provision: error: \(config):5:8: invalid range '172.16.0.0/40': "
                + "expected an IPv4 network like 172.16.0.0/16\n")
    }

    @Test("usage errors exit 64")
    func usageErrors() throws {
        let unknown = try run(["apply", "--step", "firewall", "--root", "/tmp"])
        #expect(unknown.status == 64)
        #expect(unknown.errorText.contains("unknown step 'firewall'"))
        let relative = try run(["plan", "--root", "relative"])
        #expect(relative.status == 64)
        let both = try run(["plan", "--root", "/tmp", "--netns", "kfc-none"])
        #expect(both.status == 64)
        #expect(both.errorText.contains("--netns runs live actions, which --root skips"))
    }

    @Test("postinstaller runs apply and logs")
    func postinstallerRuns() throws {
        let host = try ScratchHost()
        defer { host.remove() }
        let config = try writeConfig(host)
        let log = "\(host.folder)/postinstall.log"
        let environment = [
            "KFC_PROVISION": BuiltProgram.path ?? "", "KFC_HOST_CONFIG": config,
            "KFC_POSTINSTALL_LOG": log,
        ]
        var command = Command("sh", [CommandLineTests.postinstaller, "--root", host.root])
        command.environment = environment
        let success = try command.result(timeout: 60)
        #expect(success.status == 0, "\(success.errorText)")
        let text = String(decoding: try FileSystem.read(log), as: UTF8.self)
        #expect(text.contains("firecracker-platform: started"))
        #expect(text.contains("apply: "))
        #expect(text.hasSuffix("firecracker-platform: finished\n"))
        #expect(FileSystem.isDirectory(host.root + "/srv/jailer"))
    }

    @Test("postinstaller fails when provisioning fails")
    func postinstallerFails() throws {
        let host = try ScratchHost()
        defer { host.remove() }
        try FileSystem.remove("\(host.binaries)/firectl")
        let log = "\(host.folder)/postinstall.log"
        var command = Command("sh", [CommandLineTests.postinstaller, "--root", host.root])
        command.environment = [
            "KFC_PROVISION": BuiltProgram.path ?? "",
            "KFC_HOST_CONFIG": try writeConfig(host), "KFC_POSTINSTALL_LOG": log,
        ]
        let result = try command.result(timeout: 60)
        #expect(result.status == 1)
        #expect(result.errorText.contains("provisioning failed with status 1"))
        #expect(result.errorText.contains("kfc-provision: error: step binaries: "))
        let text = String(decoding: try FileSystem.read(log), as: UTF8.self)
        #expect(text.contains("kvm: changed\n  done     write /etc/udev/rules.d/65-kfc-kvm.rules"))
        #expect(text.contains("step failed step=binaries"))
        #expect(text.contains("firectl not found"))
        #expect(text.contains("firecracker-platform: failed with exit status 1"))
    }

    @Test(
        "check reports this host",
        .enabled(if: TestNamespace.available, "needs root and the ip, nft and sysctl tools"))
    func checkReportsHost() throws {
        // The NAT and sysctl parts run inside a test namespace, never in this machine's own.
        let namespace = try TestNamespace()
        defer { namespace.remove() }
        let result = try run(["check", "--netns", namespace.name])
        #expect(result.status == 0 || result.status == 1, "\(result.errorText)")
        let text = result.outputText
        #expect(text.contains("kvm: KVM is usable"))
        if FileSystem.exists("/dev/kvm") { #expect(text.contains("  ok       /dev/kvm present")) }
        #expect(text.contains("masquerade 172.16.0.0/16 out of up0"))
        #expect(
            text.contains(
                result.status == 0 ? "check: the host is ready" : "check: the host is not ready ("))
        print(text)
    }
}

@Suite("postinstaller documentation")
struct DocumentationTests {
    @Test("every config key and step is documented")
    func everyKeyDocumented() throws {
        let path = "\(TestEnvironment.packageRoot)/postinstallers/README.md"
        let text = String(decoding: try FileSystem.read(path), as: UTF8.self)
        for key in HostConfig.keys {
            #expect(text.contains("| `\(key)` |"), "\(key) is missing from \(path)")
        }
        for step in Provisioner.standardSteps {
            #expect(text.contains("| `\(step.name)` |"), "\(step.name) is missing from \(path)")
        }
    }
}
