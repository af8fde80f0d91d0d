import Foundation
import KFCCore
import Recipes
import TestSupport
import Testing

@Suite("host config")
struct HostConfigTests {
    func parse(_ text: String) throws -> HostConfig {
        try HostConfig(YAML.load(text: text, file: "host.yaml"), file: "host.yaml")
    }

    @Test("empty file gives every default")
    func emptyFileDefaults() throws {
        let config = try parse("")
        #expect(config.store == "dir:/var/lib/kfc")
        #expect(config.uplink == nil)
        #expect(config.range.description == "172.16.0.0/16")
        #expect(config.binaries == "/root/darksite/binaries")
        #expect(config.nat == .auto)
        #expect(config.recipe == "alpine")
        #expect(try config.storeLocation == .folder("/var/lib/kfc"))
        #expect(config.file == "host.yaml")
    }

    @Test("every field is read")
    func everyFieldRead() throws {
        let config = try parse(
            """
            store: zfs:rpool/firecracker,compression=gzip-6,recordsize=1M,atime=off
            uplink: enp1s0
            range: 10.50.3.7/16
            recipe: /srv/recipes/alpine.yaml
            binaries: /opt/fc
            darksite: /opt/darksite
            executables: /opt/kfc/bin
            nat: iptables
            """)
        #expect(config.store == "zfs:rpool/firecracker,compression=gzip-6,recordsize=1M,atime=off")
        #expect(config.uplink == "enp1s0")
        #expect(config.range.description == "10.50.0.0/16")
        #expect(config.recipe == "/srv/recipes/alpine.yaml")
        #expect(config.binaries == "/opt/fc")
        #expect(config.darksite == "/opt/darksite")
        #expect(config.executables == "/opt/kfc/bin")
        #expect(config.nat == .iptables)
        let properties = [
            ZFSProperty(name: "compression", value: "gzip-6"),
            ZFSProperty(name: "recordsize", value: "1M"),
            ZFSProperty(name: "atime", value: "off"),
        ]
        #expect(
            try config.storeLocation == .zfs(dataset: "rpool/firecracker", properties: properties))
    }

    @Test(
        "bad values name file, line and column",
        arguments: [
            ("store: nfs:/x", "host.yaml:1:8: invalid store 'nfs:/x'"),
            ("store: dir:relative", "host.yaml:1:8: invalid store 'dir:relative'"),
            ("store: zfs:/rpool", "host.yaml:1:8: invalid store 'zfs:/rpool'"),
            ("range: 172.16.0.0/33", "host.yaml:1:8: invalid range '172.16.0.0/33'"),
            ("range: 300.1.1.1/8", "host.yaml:1:8: invalid range '300.1.1.1/8'"),
            ("uplink: eth0 x", "host.yaml:1:9: invalid uplink 'eth0 x'"),
            ("uplink: averyveryverylongname", "host.yaml:1:9: invalid uplink"),
            ("binaries: darksite", "host.yaml:1:11: binaries must be an absolute path"),
            ("nat: pf", "host.yaml:1:6: invalid nat 'pf'"),
            (
                "store: zfs:tank/fc,compression=brotli",
                "host.yaml:1:8: invalid store 'zfs:tank/fc,compression=brotli': unknown compression"
            ),
            (
                "store: zfs:tank/fc,recordsize=3K",
                "host.yaml:1:8: invalid store 'zfs:tank/fc,recordsize=3K': recordsize '3K' is not"
            ),
            (
                "store: zfs:tank/fc,atime",
                "host.yaml:1:8: invalid store 'zfs:tank/fc,atime': 'atime'"
            ),
            ("\ncompression: lz4", "host.yaml:2:1: unknown key 'compression'"),
            ("\nfirewall: on", "host.yaml:2:1: unknown key 'firewall'"),
            ("store: [a, b]", "host.yaml:1:8: expected a string, found a list"),
            ("- store", "host.yaml:1:1: expected a mapping, found a list"),
        ])
    func badValues(text: String, message: String) throws {
        let error = #expect(throws: KFCError.self) { try parse(text) }
        #expect(error?.description.hasPrefix(message) == true, "\(error?.description ?? "")")
        #expect(error?.kind == .invalidInput)
    }

    @Test("absent default file means defaults")
    func absentDefaultFile() throws {
        if FileSystem.exists(HostConfig.defaultPath) { return }
        let config = try HostConfig.load()
        #expect(config.file == nil)
        #expect(config == HostConfig())
    }

    @Test("absent explicit file is an error")
    func absentExplicitFile() throws {
        let folder = try TestEnvironment.temporaryDirectory()
        defer { try? FileSystem.remove(folder) }
        let error = #expect(throws: KFCError.self) { try HostConfig.load("\(folder)/host.yaml") }
        #expect(error?.description == "\(folder)/host.yaml: host config not found")
    }

    @Test("file on disk is read with its path in marks")
    func fileOnDisk() throws {
        let folder = try TestEnvironment.temporaryDirectory()
        defer { try? FileSystem.remove(folder) }
        let path = "\(folder)/host.yaml"
        try FileSystem.writeAtomically(Data("uplink: br0\nrange: x\n".utf8), to: path)
        let error = #expect(throws: KFCError.self) { try HostConfig.load(path) }
        #expect(error?.context == "\(path):2:8")
    }

    @Test(
        "IPv4 networks parse and print",
        arguments: [
            ("172.16.0.0/16", "172.16.0.0/16"), ("10.1.2.3/8", "10.0.0.0/8"),
            ("0.0.0.0/0", "0.0.0.0/0"), ("192.168.7.9/32", "192.168.7.9/32"),
        ])
    func networksParse(text: String, printed: String) {
        #expect(IPv4Network(text)?.description == printed)
    }

    @Test(
        "invalid IPv4 networks are rejected",
        arguments: [
            "172.16.0.0", "172.16.0/16", "1.2.3.4/-1", "1.2.3.4/", "a.b.c.d/8",
            "1.2.3.4.5/8", "256.0.0.0/8", "1.2.3.4/16/2", "１.2.3.4/8",
        ])
    func invalidNetworks(text: String) {
        #expect(IPv4Network(text) == nil)
    }
}

@Suite("store location")
struct StoreLocationTests {
    @Test("ZFS defaults apply without spec properties")
    func zfsDefaults() throws {
        let location = try StoreLocation(spec: "zfs:tank/firecracker")
        #expect(
            location
                == .zfs(dataset: "tank/firecracker", properties: StoreLocation.defaultZFSProperties)
        )
    }

    @Test("errors without a mark name the store")
    func errorWithoutMark() throws {
        let error = #expect(throws: KFCError.self) { try StoreLocation(spec: "dir:x") }
        #expect(error?.description == "store: invalid store 'dir:x': dir: needs an absolute path")
    }
}
