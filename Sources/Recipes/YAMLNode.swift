import Foundation
import KFCCore

/// A position in a YAML file, printed as `FILE:LINE:COLUMN` (both counted from 1).
public struct SourceMark: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }

    /// Makes an invalid-input error located at this mark.
    public func error(_ reason: String) -> KFCError {
        KFCError.invalid(description, reason)
    }
}

/// One node of a YAML document with the place it starts.
public struct YAMLNode: Sendable {
    /// The shape of a node.
    public enum Kind: Sendable {
        /// A scalar; `plain` is true when it was written without quotes or a block style.
        case scalar(String, plain: Bool)
        case sequence([YAMLNode])
        /// Keys in document order.
        case mapping([(key: YAMLNode, value: YAMLNode)])
    }

    public var kind: Kind
    public var mark: SourceMark

    public init(kind: Kind, mark: SourceMark) {
        self.kind = kind
        self.mark = mark
    }

    /// Whether the node is YAML's null: `~`, `null` or nothing, written without quotes.
    public var isNull: Bool {
        if case .scalar(let text, plain: true) = kind {
            return ["", "~", "null", "Null", "NULL"].contains(text)
        }
        return false
    }

    /// The name of the node's type, for error messages.
    public var typeName: String {
        switch kind {
        case .scalar: isNull ? "null" : "a scalar"
        case .sequence: "a list"
        case .mapping: "a mapping"
        }
    }

    /// Returns the scalar's text, or throws an error that names what was `expected`.
    public func scalar(_ expected: String = "a string") throws -> String {
        guard case .scalar(let text, _) = kind, !isNull else {
            throw mark.error("expected \(expected), found \(typeName)")
        }
        return text
    }

    /// Returns the node as a string.
    public func string() throws -> String { try scalar() }

    /// Returns the node as an integer (decimal, or octal with a `0o` or leading `0`, or hex `0x`).
    public func int() throws -> Int {
        let text = try scalar("an integer")
        guard let value = YAMLNode.parseInteger(text) else {
            throw mark.error("expected an integer, found '\(text)'")
        }
        return value
    }

    /// Returns the node as a boolean (`true`/`false`, `yes`/`no`, `on`/`off`).
    public func bool() throws -> Bool {
        let text = try scalar("true or false")
        switch text.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw mark.error("expected true or false, found '\(text)'")
        }
    }

    /// Returns the node's items. A null node is an empty list.
    public func sequence() throws -> [YAMLNode] {
        if isNull { return [] }
        guard case .sequence(let items) = kind else {
            throw mark.error("expected a list, found \(typeName)")
        }
        return items
    }

    /// Returns the node as a list of strings. A single scalar is a list of one.
    public func stringList() throws -> [String] {
        if case .scalar = kind, !isNull { return [try string()] }
        return try sequence().map { try $0.string() }
    }

    /// Makes a reader over the node's keys that rejects duplicates and keys not in `allowed`.
    public func mappingReader(allowed: [String]) throws -> MappingReader {
        try MappingReader(self, allowed: allowed)
    }

    static func parseInteger(_ text: String) -> Int? {
        let lower = text.lowercased()
        if lower.hasPrefix("0x") { return Int(lower.dropFirst(2), radix: 16) }
        if lower.hasPrefix("0o") { return Int(lower.dropFirst(2), radix: 8) }
        if lower.count > 1, lower.hasPrefix("0"), lower.allSatisfy(\.isNumber) {
            return Int(lower.dropFirst(), radix: 8)
        }
        return Int(lower)
    }
}

/// Typed access to the fields of one YAML mapping, with errors at the field's mark.
public struct MappingReader: Sendable {
    /// The mapping node itself.
    public let node: YAMLNode
    private let fields: [String: (key: YAMLNode, value: YAMLNode)]

    init(_ node: YAMLNode, allowed: [String]) throws {
        guard case .mapping(let pairs) = node.kind else {
            throw node.mark.error("expected a mapping, found \(node.typeName)")
        }
        var fields: [String: (key: YAMLNode, value: YAMLNode)] = [:]
        for pair in pairs {
            let key = try pair.key.scalar("a key")
            guard allowed.contains(key) else {
                let known = allowed.joined(separator: ", ")
                throw pair.key.mark.error("unknown key '\(key)' (known keys: \(known))")
            }
            guard fields[key] == nil else {
                throw pair.key.mark.error("duplicate key '\(key)'")
            }
            fields[key] = pair
        }
        self.node = node
        self.fields = fields
    }

    /// Returns the value of `key`, or nil when it is absent or null.
    public func node(_ key: String) -> YAMLNode? {
        guard let value = fields[key]?.value, !value.isNull else { return nil }
        return value
    }

    /// Checks whether `key` is present with a value other than null.
    public func contains(_ key: String) -> Bool { node(key) != nil }

    /// Returns the value of `key`, or throws an error at the mapping's mark saying it is missing.
    public func required(_ key: String) throws -> YAMLNode {
        guard let value = node(key) else {
            throw node.mark.error("missing required key '\(key)'")
        }
        return value
    }

    /// Returns the string value of `key`, when present.
    public func string(_ key: String) throws -> String? { try node(key)?.string() }

    /// Returns the string value of `key`, which must be present.
    public func requiredString(_ key: String) throws -> String { try required(key).string() }

    /// Returns the integer value of `key`, when present.
    public func int(_ key: String) throws -> Int? { try node(key)?.int() }

    /// Returns the boolean value of `key`, when present.
    public func bool(_ key: String) throws -> Bool? { try node(key)?.bool() }

    /// Returns the string list of `key`, empty when absent.
    public func stringList(_ key: String) throws -> [String] {
        try node(key)?.stringList() ?? []
    }

    /// Returns the mark of `key`'s value, or of the mapping when `key` is absent.
    public func mark(_ key: String) -> SourceMark { fields[key]?.value.mark ?? node.mark }
}
