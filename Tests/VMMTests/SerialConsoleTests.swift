import Foundation
import KFCCore
import TestSupport
import Testing

@testable import VMM

@Suite("Serial console")
struct SerialConsoleTests {
    @Test("line reader returns only new lines")
    func newLinesOnly() throws {
        let folder = try TestEnvironment.temporaryDirectory()
        defer { try? FileSystem.remove(folder) }
        let path = "\(folder)/serial.log"
        var reader = LineReader(path: path)
        #expect(reader.newLines() == [])

        try FileSystem.writeAtomically(Data("one\ntw".utf8), to: path)
        #expect(reader.newLines() == ["one", "tw"])

        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("o\nthree\n".utf8))
        try handle.close()
        #expect(reader.newLines() == ["two", "three", ""])
        #expect(reader.newLines() == [])
    }

    @Test("long log keeps its end")
    func longLogCut() throws {
        let folder = try TestEnvironment.temporaryDirectory()
        defer { try? FileSystem.remove(folder) }
        let path = "\(folder)/serial.log"
        let line = String(repeating: "x", count: 1023) + "\n"
        let text = String(repeating: line, count: 300) + "last line\n"
        try FileSystem.writeAtomically(Data(text.utf8), to: path)
        let kept = SerialConsole(path: path).text
        let omitted = text.utf8.count - SerialConsole.keptBytes
        #expect(kept.hasPrefix("[\(omitted) earlier bytes of the console left out]\n"))
        #expect(kept.hasSuffix("last line\n"))
    }

    @Test("Firecracker boot arguments drop root and rw")
    func firecrackerArguments() throws {
        let request = BootRequest(
            kernel: "/k", image: "/i", marker: "m", workDirectory: "/w",
            commandLine: BootRequest.commandLine(init: "/sbin/init"), memoryMiB: 256, vcpus: 2)
        let requests = FirecrackerDriver.configuration(request)
        #expect(requests.map(\.0) == ["/machine-config", "/boot-source", "/drives/rootfs"])
        let bootSource = requests[1].1
        #expect(bootSource["boot_args"] as? String
            == "console=ttyS0 reboot=k panic=1 pci=off init=/sbin/init")
        #expect(requests[0].1["mem_size_mib"] as? Int == 256)
        #expect(requests[0].1["vcpu_count"] as? Int == 2)
        #expect(requests[2].1["is_root_device"] as? Bool == true)
    }
}
