import Foundation
import KFCCore
import Kernels
import TestSupport
import Testing

@Suite("Kernel extract", .enabled(if: TestEnvironment.hasFixtures, "needs the fixture folder"))
struct KernelExtractorTests {
    @Test("gzip bzImage gives the fixture vmlinux")
    func gzipMatchesFixture() throws {
        let folder = try TestEnvironment.temporaryDirectory()
        defer { try? FileSystem.remove(folder) }
        let output = "\(folder)/vmlinux"
        let result = try KernelExtractor.extract(
            bzImage: KernelFixtures.bzImage("gzip"), to: output)
        #expect(result.compression == "gzip")
        #expect(result.bytes == (try FileSystem.size(KernelFixtures.vmlinux)))
        #expect(try Digest.ofFile(output) == (try Digest.ofFile(KernelFixtures.vmlinux)))
        #expect(result.report.path == output)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["vmlinux"])
    }

    @Test("every compression gives a valid kernel", arguments: KernelFixtures.compressions)
    func everyCompression(compression: String) throws {
        let folder = try TestEnvironment.temporaryDirectory()
        defer { try? FileSystem.remove(folder) }
        let output = "\(folder)/vmlinux"
        let result = try KernelExtractor.extract(
            bzImage: KernelFixtures.bzImage(compression), to: output)
        #expect(result.compression == compression)
        let report = try KernelCheck.check(path: output)
        #expect(report.version == KernelFixtures.release)
        #expect(report.isBootable)
        #expect(report.pvh != nil)
        #expect(report.options.allSatisfy { $0.state == .builtIn })
    }

    @Test("ELF kernel has nothing to extract")
    func elfInput() throws {
        let folder = try TestEnvironment.temporaryDirectory()
        defer { try? FileSystem.remove(folder) }
        let message = KernelFixtures.errorMessage {
            try KernelExtractor.extract(bzImage: KernelFixtures.vmlinux, to: "\(folder)/out")
        }
        #expect(message?.contains("already an uncompressed ELF kernel") == true)
        #expect(!FileSystem.exists("\(folder)/out"))
    }

    @Test("truncated bzImage leaves no output")
    func truncatedBzImage() throws {
        let folder = try TestEnvironment.temporaryDirectory()
        defer { try? FileSystem.remove(folder) }
        let bytes = Array(try FileSystem.read(KernelFixtures.bzImage("zstd")))
        let input = try KernelFixtures.write(Array(bytes.prefix(1 << 20)), "bzImage", in: folder)
        let message = KernelFixtures.errorMessage {
            try KernelExtractor.extract(bzImage: input, to: "\(folder)/out")
        }
        #expect(message?.contains("truncated: the payload needs bytes") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["bzImage"])
    }

    @Test("corrupt payload leaves no output", arguments: KernelFixtures.compressions)
    func corruptPayload(compression: String) throws {
        let folder = try TestEnvironment.temporaryDirectory()
        defer { try? FileSystem.remove(folder) }
        var bytes = Array(try FileSystem.read(KernelFixtures.bzImage(compression)))
        // Zero 4 KiB in the middle of the file, well inside the compressed payload.
        let middle = bytes.count / 2
        bytes.replaceSubrange(middle..<(middle + 4096), with: [UInt8](repeating: 0, count: 4096))
        let input = try KernelFixtures.write(bytes, "bzImage", in: folder)
        let message = KernelFixtures.errorMessage {
            try KernelExtractor.extract(bzImage: input, to: "\(folder)/out")
        }
        #expect(message?.hasPrefix("extract \(input)") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["bzImage"])
    }

    @Test("prepare extracts or copies")
    func prepareKernels() throws {
        let folder = try TestEnvironment.temporaryDirectory()
        defer { try? FileSystem.remove(folder) }
        let fromBzImage = "\(folder)/from-bzimage"
        let extracted = try KernelExtractor.prepare(
            KernelFixtures.bzImage("gzip"), to: fromBzImage)
        #expect(extracted.path == fromBzImage)
        #expect(try Digest.ofFile(fromBzImage) == (try Digest.ofFile(KernelFixtures.vmlinux)))

        let copied = "\(folder)/copied"
        let report = try KernelExtractor.prepare(KernelFixtures.vmlinux, to: copied)
        #expect(report.version == KernelFixtures.release)
        #expect(try Digest.ofFile(copied) == (try Digest.ofFile(KernelFixtures.vmlinux)))
    }

    @Test("prepare keeps output on failure")
    func prepareRejects() throws {
        let folder = try TestEnvironment.temporaryDirectory()
        defer { try? FileSystem.remove(folder) }
        let output = try KernelFixtures.write(Array("old".utf8), "vmlinux", in: folder)
        let message = KernelFixtures.errorMessage {
            try KernelExtractor.prepare("/bin/true", to: output)
        }
        #expect(message?.contains("not a kernel") == true)
        #expect(try FileSystem.read(output) == Data("old".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["vmlinux"])
    }
}
