import Testing

@testable import VMM

@Suite("Boot diagnosis")
struct BootDiagnosisTests {
    @Test(
        "console lines name the cause",
        arguments: [
            ("[    0.9] Kernel panic - not syncing: Requested init /x failed (error -2).",
                "the init was not found or could not run (Kernel panic - not syncing: "
                    + "Requested init /x failed (error -2).)"),
            ("EXT4-fs (vda): couldn't mount as ext4 due to feature incompatibilities",
                "the kernel cannot mount the image's ext4 features"),
            ("No filesystem could mount root, tried:", "filesystem not recognised"),
            ("VFS: Cannot open root device \"vda\" or unknown-block(0,0): error -6",
                "no root device"),
        ])
    func consoleCauses(line: String, expected: String) {
        let cause = BootDiagnosis.cause(of: .panic, log: "booting\n\(line)\n", vmmErrors: [])
        #expect(cause.hasPrefix(expected))
    }

    @Test("KVM failure suggests QEMU")
    func kvmFailure() {
        let cause = BootDiagnosis.cause(
            of: .exited(0), log: "Linux version 6.1\n",
            vmmErrors: ["[fc_vcpu 0:ERROR] Received KVM_EXIT_INTERNAL_ERROR signal"])
        #expect(cause.hasPrefix("KVM could not run the guest"))
        #expect(cause.contains("--vmm qemu"))
    }

    @Test("empty console names the serial options")
    func emptyConsole() {
        let cause = BootDiagnosis.cause(of: .timedOut, log: "", vmmErrors: [])
        #expect(cause.contains("CONFIG_SERIAL_8250_CONSOLE"))
        let exited = BootDiagnosis.cause(of: .exited(1), log: "", vmmErrors: ["bad option"])
        #expect(exited == "the VMM exited with status 1 before the kernel printed anything: "
            + "bad option")
    }
}
