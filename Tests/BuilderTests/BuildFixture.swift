import Builder
import Foundation
import KFCCore
import Stores
import TestSupport

/// A scratch folder with a directory store, a cache, and recipes written for one test.
struct BuildFixture {
    let top: String
    let store: DirectoryStore

    init() throws {
        top = try TestEnvironment.temporaryDirectory("kfc-build-test")
        store = try DirectoryStore(root: "\(top)/store", logger: .silent)
    }

    var cache: String { "\(top)/cache" }

    /// The shipped alpine-minimal recipe with its kernel taken from the fixtures by a file
    /// URL, and `edit` applied to its text.
    func minimalRecipe(_ edit: (String) -> String = { $0 }) throws -> String {
        let shipped = "\(TestEnvironment.packageRoot)/recipes/alpine-minimal.yaml"
        var text = String(decoding: try FileSystem.read(shipped), as: UTF8.self)
        text = text.replacingOccurrences(
            of: "file:///root/darksite/kernels/", with: "file://\(TestEnvironment.fixtures)/")
        let path = "\(top)/alpine-minimal.yaml"
        try FileSystem.writeAtomically(Data(edit(text).utf8), to: path)
        return path
    }

    /// Builds `recipe` with the fixtures as darksite.
    func build(_ recipe: String, darksite: String? = TestEnvironment.fixtures) throws
        -> VersionManifest
    {
        let request = BuildRequest(
            recipePath: recipe, darksite: darksite, cacheDirectory: cache, stepTimeout: 120)
        return try ImageBuilder(store: store, logger: .silent).build(request)
    }

    /// Every version and every leftover the store holds.
    func storeContents() throws -> [String] {
        let versions = try store.versions(name: nil).map(\.reference)
        let pending = (try? FileManager.default.contentsOfDirectory(atPath: "\(top)/store/tmp"))
            ?? []
        return versions + pending.map { "tmp/\($0)" }
    }

    func remove() {
        try? FileSystem.remove(top)
    }
}
