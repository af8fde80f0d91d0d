import Fetching
import Foundation
import KFCCore
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A Python http.server on a loopback port serving one folder, stopped by its pid.
final class LoopbackServer {
    let process = Process()
    let port: Int

    init(serving folder: String) throws {
        port = Int.random(in: 20_000...60_000)
        process.executableURL = URL(fileURLWithPath: Command.which("python3") ?? "/usr/bin/python3")
        process.arguments = ["-m", "http.server", "\(port)", "--bind", "127.0.0.1", "-d", folder]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<100 {
            if (try? Command("python3", ["-c",
                "import socket; socket.create_connection(('127.0.0.1', \(port)), 1)"]).run()) != nil
            { return }
            usleep(100_000)
        }
        stop()
        throw KFCError.failed("start http.server", "port \(port) never opened")
    }

    func url(_ name: String) -> String { "http://127.0.0.1:\(port)/\(name)" }

    /// SIGKILL, because a child of the test runner can inherit a mask that blocks SIGTERM.
    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

@Suite("Fetcher")
struct FetcherTests {
    let folder: String
    let payload = Data((0..<200_000).map { UInt8($0 % 253) })

    init() throws {
        folder = try TestEnvironment.temporaryDirectory()
        try FileSystem.createDirectory("\(folder)/darksite")
        try FileSystem.createDirectory("\(folder)/served")
        try payload.write(to: URL(fileURLWithPath: "\(folder)/darksite/input.bin"))
        try payload.write(to: URL(fileURLWithPath: "\(folder)/served/input.bin"))
    }

    var digest: Digest { Digest.of(payload) }

    @Test("darksite file is verified, cached and found again without the darksite")
    func darksiteThenCache() throws {
        defer { try? FileSystem.remove(folder) }
        let fetcher = Fetcher(
            cacheDirectory: "\(folder)/cache", darksite: "\(folder)/darksite", logger: .silent)
        let path = try fetcher.fetch("https://unreachable.invalid/input.bin", digest: digest)
        #expect(path == "\(folder)/cache/sha256/\(digest.hex)")
        #expect(try FileSystem.read(path) == payload)

        try FileSystem.remove("\(folder)/darksite/input.bin")
        let again = try fetcher.fetch("https://unreachable.invalid/input.bin", digest: digest)
        #expect(again == path)
    }

    @Test("digest mismatch names the file and both digests, and caches nothing")
    func mismatch() throws {
        defer { try? FileSystem.remove(folder) }
        let fetcher = Fetcher(
            cacheDirectory: "\(folder)/cache", darksite: "\(folder)/darksite", logger: .silent)
        let wrong = try #require(Digest(.sha256, hex: String(repeating: "0", count: 64)))
        #expect {
            try fetcher.fetch("https://unreachable.invalid/input.bin", digest: wrong)
        } throws: { error in
            let text = "\(error)"
            return text.contains("input.bin") && text.contains(wrong.hex)
                && text.contains(digest.hex)
        }
        let cached = try FileManager.default.contentsOfDirectory(atPath: "\(folder)/cache/sha256")
        #expect(cached.isEmpty)
    }

    @Test("http download over loopback is verified and cached")
    func httpDownload() throws {
        defer { try? FileSystem.remove(folder) }
        let server = try LoopbackServer(serving: "\(folder)/served")
        defer { server.stop() }
        let fetcher = Fetcher(cacheDirectory: "\(folder)/cache", darksite: nil, logger: .silent)
        let path = try fetcher.fetch(server.url("input.bin"), digest: digest)
        #expect(try FileSystem.read(path) == payload)
    }

    @Test("http 404 is an error that gives the status")
    func httpNotFound() throws {
        defer { try? FileSystem.remove(folder) }
        let server = try LoopbackServer(serving: "\(folder)/served")
        defer { server.stop() }
        let fetcher = Fetcher(cacheDirectory: "\(folder)/cache", darksite: nil, logger: .silent)
        #expect {
            try fetcher.fetch(server.url("missing.bin"), digest: digest)
        } throws: { error in
            "\(error)".contains("HTTP 404")
        }
    }

    @Test("file URL is fetched through libcurl")
    func fileURL() throws {
        defer { try? FileSystem.remove(folder) }
        let fetcher = Fetcher(cacheDirectory: "\(folder)/cache", darksite: nil, logger: .silent)
        let path = try fetcher.fetch("file://\(folder)/served/input.bin", digest: digest)
        #expect(try FileSystem.read(path) == payload)
    }

    @Test("file missing from the darksite and the network names both")
    func missingEverywhere() throws {
        defer { try? FileSystem.remove(folder) }
        let fetcher = Fetcher(
            cacheDirectory: "\(folder)/cache", darksite: "\(folder)/darksite", logger: .silent)
        #expect {
            try fetcher.fetch("file://\(folder)/nowhere/other.bin", digest: digest)
        } throws: { error in
            let text = "\(error)"
            return text.contains("other.bin is not in the darksite \(folder)/darksite")
                && text.contains("download file://")
        }
    }
}
