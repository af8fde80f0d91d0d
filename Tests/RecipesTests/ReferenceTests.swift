import Foundation
import KFCCore
import Recipes
import TestSupport
import Testing

@Suite("Recipe reference")
struct ReferenceTests {
    /// Reads the keys in the first column of the reference's table under `heading`.
    private func documentedKeys(under heading: String) throws -> [String] {
        let path = "\(TestEnvironment.packageRoot)/docs/recipes.md"
        let text = String(decoding: try FileSystem.read(path), as: UTF8.self)
        let section = try #require(text.components(separatedBy: "## \(heading)").dropFirst().first)
        let body = section.components(separatedBy: "\n## ").first ?? section
        return body.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("| `") else { return nil }
            return line.dropFirst(3).prefix { $0 != "`" }.description
        }
    }

    @Test("top-level keys in the reference are the parser's")
    func topLevelKeys() throws {
        #expect(try documentedKeys(under: "Top-level keys") == Recipe.topLevelKeys)
    }

    @Test("every documented key of a nested table is accepted", arguments: [
        ("Downloads (`source`, `kernel`)", "source"), ("Files", "files"), ("Image", "image"),
    ])
    func nestedKeys(heading: String, field: String) throws {
        for key in try documentedKeys(under: heading) {
            let error = recipeError(field: field, key: key)
            #expect(!error.contains("unknown key '\(key)'"), "\(field).\(key): \(error)")
        }
        #expect(recipeError(field: field, key: "bogus").contains("unknown key 'bogus'"))
    }

    /// Parses a recipe whose `field` has one extra `key`; returns its error, or "".
    private func recipeError(field: String, key: String) -> String {
        let digest = String(repeating: "a", count: 64)
        var source = "source: {url: 'https://x/y.tar.gz', sha256: \(digest)}\n"
        var rest = ""
        switch field {
        case "source": source = "source: {url: 'https://x/y.tar.gz', sha256: \(digest), \(key): x}\n"
        case "files": rest = "files:\n  - {path: /a, content: x, \(key): x}\n"
        default: rest = "image: {\(key): x}\n"
        }
        let text = "name: n\nversion: v\n" + source + rest
        do {
            _ = try Recipe(YAML.load(text: text, file: "r.yaml"), path: "r.yaml",
                digest: Digest.of(Data(text.utf8)))
            return ""
        } catch {
            return "\(error)"
        }
    }
}
