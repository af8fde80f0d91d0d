import Foundation
import KFCCore
import Stores
import TestSupport
import Testing

@Suite("Store spec")
struct StoreSpecTests {
    @Test("argument wins over environment and file")
    func argumentWins() throws {
        let spec = try StoreSpec.resolve(
            "dir:/a", environment: ["KFC_STORE": "dir:/b"], configuration: "/nonexistent")
        #expect(spec == "dir:/a")
    }

    @Test("environment, then file, then default")
    func fallbacks() throws {
        let folder = try TestEnvironment.temporaryDirectory("kfc-spec")
        defer { try? FileSystem.remove(folder) }
        let file = "\(folder)/kfc.conf"
        try FileSystem.writeAtomically(
            Data("# kfc\nother = 1\nstore = zfs:tank/fc # golden images\n".utf8), to: file)
        #expect(try StoreSpec.resolve(nil, environment: ["KFC_STORE": "dir:/b"],
            configuration: file) == "dir:/b")
        #expect(try StoreSpec.resolve(nil, environment: [:], configuration: file)
            == "zfs:tank/fc")
        #expect(try StoreSpec.resolve(nil, environment: [:], configuration: "\(folder)/none")
            == "dir:/var/lib/kfc")
    }

    @Test("empty store line names the file and line")
    func emptyStoreLine() throws {
        let folder = try TestEnvironment.temporaryDirectory("kfc-spec")
        defer { try? FileSystem.remove(folder) }
        let file = "\(folder)/kfc.conf"
        try FileSystem.writeAtomically(Data("\nstore =\n".utf8), to: file)
        let error = #expect(throws: KFCError.self) {
            try StoreSpec.resolve(nil, environment: [:], configuration: file)
        }
        #expect(error?.description.hasPrefix("\(file):2:") == true)
    }

    @Test("bad specs are usage errors",
        arguments: ["bogus", "dir:", "dir:relative", "zfs:", "zfs:/tank", "nfs:/x",
            "zfs:tank/fc,compression"])
    func badSpecs(spec: String) {
        let error = #expect(throws: KFCError.self) {
            try StoreSpec.open(spec, logger: .silent)
        }
        #expect(error?.kind == .usage)
        #expect(error?.description.contains(spec) == true)
    }

    @Test("dir spec opens a directory store")
    func directorySpec() throws {
        let folder = try TestEnvironment.temporaryDirectory("kfc-spec")
        defer { try? removeStore(folder) }
        let store = try StoreSpec.open("dir:\(folder)/store/", logger: .silent)
        #expect(store.spec == "dir:\(folder)/store")
        #expect(FileSystem.isDirectory("\(folder)/store/images"))
    }
}
