import Foundation

/// Sizes written as `200M`, `1G`, `4096` or `1.5G`, with binary multiples.
public enum ByteSize {
    /// Parses `text` into bytes; suffixes K, M, G and T (optionally followed by `i` or `B`)
    /// are powers of 1024. Returns nil for anything else.
    public static func parse(_ text: String) -> Int64? {
        var digits = text.trimmingCharacters(in: .whitespaces).uppercased()
        for suffix in ["IB", "B"] where digits.hasSuffix(suffix) && digits.count > suffix.count {
            digits.removeLast(suffix.count)
            break
        }
        let units: [Character: Int64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        var multiplier: Int64 = 1
        if let last = digits.last, let unit = units[last] {
            multiplier = unit
            digits.removeLast()
        }
        guard !digits.isEmpty, let value = Double(digits), value >= 0, value.isFinite else {
            return nil
        }
        let bytes = value * Double(multiplier)
        guard bytes < Double(Int64.max) else { return nil }
        return Int64(bytes.rounded(.up))
    }

    /// Formats `bytes` with one decimal and a binary unit, as in `3.4M`.
    public static func format(_ bytes: Int64) -> String {
        let units = ["B", "K", "M", "G", "T"]
        var value = Double(bytes)
        var index = 0
        while value >= 1024, index < units.count - 1 {
            value /= 1024
            index += 1
        }
        if index == 0 { return "\(bytes)B" }
        return String(format: "%.1f%@", value, units[index])
    }
}
