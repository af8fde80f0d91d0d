import Foundation
import KFCCore
import Recipes
import TestSupport
import Testing

@Suite("Recipe")
struct RecipeTests {
    static let validRecipe = """
        name: demo
        version: 1.0
        source:
          url: https://example.org/rootfs.tar.gz
          sha256: d4e6fd67dcf75e40c451560ac7265166c2b72a0f38ddc9aae756a7de3d1efa0c
        packages: [openrc]
        files:
          - path: /etc/motd
            content: hello
            mode: 0600
            owner: root:root
        setup: |
          echo hi
        image:
          size: 200M
          label: demo
          headroom: 30%
        """

    private func parse(_ text: String, file: String = "demo.yaml") throws -> Recipe {
        try Recipe(YAML.load(text: text, file: file), path: file, digest: Digest.of(Data(text.utf8)))
    }

    /// The one-line error `text` gives.
    private func error(_ text: String) -> String {
        do {
            _ = try parse(text)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test("valid recipe gives every field")
    func validRecipeParses() throws {
        let recipe = try parse(Self.validRecipe)
        #expect(recipe.name == "demo")
        #expect(recipe.version == "1.0")
        #expect(recipe.arch == "x86_64")
        #expect(recipe.source.fileName == "rootfs.tar.gz")
        #expect(recipe.packages == ["openrc"])
        #expect(recipe.files.first?.mode == 0o600)
        #expect(recipe.files.first?.content == .inline("hello"))
        #expect(recipe.setup == "echo hi\n")
        #expect(recipe.image.size == 200 << 20)
        #expect(recipe.image.headroomPercent == 30)
        #expect(recipe.kernel == nil)
    }

    @Test(
        "invalid recipes fail at file:line:column",
        arguments: [
            ("name: a\nversion: 1\nsorce: {}\n", "demo.yaml:3:1: unknown key 'sorce'"),
            ("version: 1\nsource: {url: 'https://x/y', sha256: \(String(repeating: "a", count: 64))}\n",
             "demo.yaml:1:1: missing required key 'name'"),
            ("name: [a]\n", "demo.yaml:1:7: expected a string, found a list"),
            ("name: a\nversion: 1\nsource:\n  url: ftp://x/y\n  sha256: ab\n",
             "demo.yaml:4:8: expected an http, https or file URL"),
            ("name: a\nversion: 1\nsource:\n  url: https://x/y\n  sha256: abc\n",
             "demo.yaml:5:11: invalid sha256: expected 64 hex digits"),
            ("name: a\nversion: 1\nsource: {url: 'https://x/y', sha256: \(String(repeating: "a", count: 64))}\nimage: {size: huge}\n",
             "demo.yaml:4:15: invalid size 'huge'"),
            ("name: a\nversion: 1\nsource: {url: 'https://x/y', sha256: \(String(repeating: "a", count: 64))}\nimage: {size: 12}\n",
             "demo.yaml:4:15: size '12' is below the minimum of 8M"),
            ("name: a\nversion: 1\nsource: {url: 'https://x/y', sha256: \(String(repeating: "a", count: 64))}\nepoch: 99999999999999\n",
             "demo.yaml:4:8: epoch must be between 1 and"),
            ("name: a\nname: b\n", "demo.yaml:2:1: duplicate key 'name'"),
            ("name: 'a b'\n", "demo.yaml:1:7: invalid name 'a b'"),
            ("name: a\n  bad: [\n", "demo.yaml:2:6:"),
        ])
    func invalidRecipe(text: String, expected: String) {
        let message = error(text)
        #expect(message.hasPrefix(expected), "got: \(message)")
    }

    @Test("file entry needs exactly one of content and from")
    func fileContentChoice() {
        let base = Self.validRecipe.replacingOccurrences(of: "    content: hello\n", with: "")
        #expect(error(base).contains("missing required key 'content' or 'from'"))
        let both = Self.validRecipe.replacingOccurrences(
            of: "    content: hello\n", with: "    content: hello\n    from: motd.txt\n")
        #expect(error(both).contains("give one of content and from"))
    }

    @Test("shipped recipes parse", arguments: ["alpine", "alpine-minimal"])
    func shippedRecipesParse(name: String) throws {
        let path = try RecipeLocator.locate(
            name, searchPath: ["\(TestEnvironment.packageRoot)/recipes"])
        let recipe = try Recipe.load(path)
        #expect(recipe.name == name)
        #expect(recipe.source.digest.hex == TestEnvironment.alpineSHA256)
        #expect(recipe.kernel != nil)
    }

    @Test("unknown recipe name lists the folders searched")
    func unknownRecipeName() {
        #expect {
            try RecipeLocator.locate("no-such-recipe", searchPath: ["/nonexistent/recipes"])
        } throws: { error in
            "\(error)".contains("not found in /nonexistent/recipes")
        }
    }
}

@Suite("YAML")
struct YAMLTests {
    @Test("anchors and aliases resolve")
    func aliases() throws {
        let node = try YAML.load(text: "a: &x [1, 2]\nb: *x\n", file: "t.yaml")
        let fields = try node.mappingReader(allowed: ["a", "b"])
        #expect(try fields.stringList("b") == ["1", "2"])
    }

    @Test("quoted null is a string, plain null is absent")
    func nulls() throws {
        let node = try YAML.load(text: "a: 'null'\nb: ~\n", file: "t.yaml")
        let fields = try node.mappingReader(allowed: ["a", "b"])
        #expect(try fields.string("a") == "null")
        #expect(try fields.string("b") == nil)
    }

    @Test("two documents are rejected")
    func twoDocuments() {
        #expect(throws: KFCError.self) {
            try YAML.load(text: "a: 1\n---\nb: 2\n", file: "t.yaml")
        }
    }
}
