import Foundation
import KFCCore

internal import CYAML

/// Loads YAML documents into `YAMLNode` trees through libyaml's event parser.
public enum YAML {
    /// Parses the single document in the file at `path`; marks name `path`.
    public static func load(file path: String) throws -> YAMLNode {
        let data = try FileSystem.read(path)
        return try load(data: data, file: path)
    }

    /// Parses the single document in `text`; marks name `file`.
    public static func load(text: String, file: String) throws -> YAMLNode {
        try load(data: Data(text.utf8), file: file)
    }

    /// Parses the single document in `data`; marks name `file`. An empty file is a null node.
    public static func load(data: Data, file: String) throws -> YAMLNode {
        var bytes = [UInt8](data)
        if bytes.isEmpty { bytes = [0x0a] }
        // The parser reads straight from `bytes`, which stays alive until this closure returns.
        return try bytes.withUnsafeBufferPointer { buffer in
            let parser = try EventParser(buffer, file: file)
            return try parser.document()
        }
    }
}

/// One libyaml parser and the tree being assembled from its events.
private final class EventParser {
    private var parser = yaml_parser_t()
    private let file: String
    private var anchors: [String: YAMLNode] = [:]

    init(_ buffer: UnsafeBufferPointer<UInt8>, file: String) throws {
        self.file = file
        guard yaml_parser_initialize(&parser) == 1 else {
            throw KFCError.failed(file, "could not start the YAML parser")
        }
        yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
    }

    deinit { yaml_parser_delete(&parser) }

    /// Reads the stream, which must hold one document, and returns its root node.
    func document() throws -> YAMLNode {
        var root: YAMLNode?
        while true {
            let event = try next()
            defer { yaml_event_delete(&event.raw) }
            switch event.raw.type {
            case YAML_STREAM_START_EVENT, YAML_DOCUMENT_END_EVENT:
                continue
            case YAML_DOCUMENT_START_EVENT:
                if root != nil {
                    throw mark(event.raw.start_mark).error("expected one YAML document, found more")
                }
                root = try node(after: try next())
            case YAML_STREAM_END_EVENT:
                return root ?? YAMLNode(kind: .scalar("", plain: true), mark: mark(event.raw.start_mark))
            default:
                throw mark(event.raw.start_mark).error("unexpected YAML event")
            }
        }
    }

    /// Builds the node that starts with `event`, consuming the events of its children.
    private func node(after event: Event) throws -> YAMLNode {
        defer { yaml_event_delete(&event.raw) }
        let here = mark(event.raw.start_mark)
        let built: YAMLNode
        switch event.raw.type {
        case YAML_SCALAR_EVENT:
            let scalar = event.raw.data.scalar
            let text = string(scalar.value, length: scalar.length)
            built = YAMLNode(kind: .scalar(text, plain: scalar.plain_implicit == 1), mark: here)
            remember(scalar.anchor, built)
        case YAML_SEQUENCE_START_EVENT:
            var items: [YAMLNode] = []
            while true {
                let child = try next()
                if child.raw.type == YAML_SEQUENCE_END_EVENT {
                    yaml_event_delete(&child.raw)
                    break
                }
                items.append(try node(after: child))
            }
            built = YAMLNode(kind: .sequence(items), mark: here)
            remember(event.raw.data.sequence_start.anchor, built)
        case YAML_MAPPING_START_EVENT:
            built = YAMLNode(kind: .mapping(try pairs()), mark: here)
            remember(event.raw.data.mapping_start.anchor, built)
        case YAML_ALIAS_EVENT:
            let name = string(event.raw.data.alias.anchor, length: nil)
            guard let target = anchors[name] else {
                throw here.error("unknown alias '*\(name)'")
            }
            built = YAMLNode(kind: target.kind, mark: here)
        default:
            throw here.error("unexpected YAML event")
        }
        return built
    }

    private func pairs() throws -> [(key: YAMLNode, value: YAMLNode)] {
        var pairs: [(key: YAMLNode, value: YAMLNode)] = []
        while true {
            let keyEvent = try next()
            if keyEvent.raw.type == YAML_MAPPING_END_EVENT {
                yaml_event_delete(&keyEvent.raw)
                return pairs
            }
            let key = try node(after: keyEvent)
            let value = try node(after: try next())
            pairs.append((key, value))
        }
    }

    private func next() throws -> Event {
        let event = Event()
        guard yaml_parser_parse(&parser, &event.raw) == 1 else {
            let problem = parser.problem.map { String(cString: $0) } ?? "invalid YAML"
            let where_ = mark(parser.problem_mark)
            throw where_.error(problem)
        }
        return event
    }

    private func remember(_ anchor: UnsafeMutablePointer<yaml_char_t>?, _ node: YAMLNode) {
        guard let anchor else { return }
        anchors[string(anchor, length: nil)] = node
    }

    private func mark(_ raw: yaml_mark_t) -> SourceMark {
        SourceMark(file: file, line: Int(raw.line) + 1, column: Int(raw.column) + 1)
    }

    private func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?, length: Int?) -> String {
        guard let pointer else { return "" }
        let count = length ?? strlen(UnsafeRawPointer(pointer).assumingMemoryBound(to: CChar.self))
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }
}

/// A libyaml event in a class, so `defer` blocks can free it wherever it ends up.
private final class Event {
    var raw = yaml_event_t()
}
