import FlintCore

/// What a command prints on standard output: tables and sentences for people, or one JSON document with `--json`.
/// Colours only on a terminal and never with `NO_COLOR`.
struct Output {
    /// Whether the command prints JSON instead of text.
    let json: Bool
    /// Whether standard output takes colours.
    let colours: Bool

    init(json: Bool) {
        self.json = json
        self.colours = !json && Terminal.colours(Terminal.standardOutput)
    }

    /// Prints a line of text (not in JSON mode).
    func line(_ text: String = "") {
        guard !json else { return }
        Terminal.out(text + "\n")
    }

    /// Prints the JSON document of the command (only in JSON mode): compact, one line, keys sorted.
    func document(_ value: JSON) {
        guard json else { return }
        Terminal.out(value.text + "\n")
    }

    /// `text` in `style`, when colours are on.
    func styled(_ text: String, _ style: Style) -> String { style.apply(text, if: colours) }

    /// Prints a table: a header row and aligned columns, two spaces apart; the last column is not padded.
    func table(_ header: [String], _ rows: [[String]]) {
        guard !json else { return }
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
        }
        func format(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count)
            }.joined(separator: "  ").replacing(/\ +$/, with: "")
        }
        var text = styled(format(header), .bold) + "\n"
        for row in rows { text += format(row) + "\n" }
        Terminal.out(text)
    }

    /// Prints `key  value` lines with the keys aligned.
    func fields(_ pairs: [(String, String)]) {
        guard !json else { return }
        let width = pairs.map(\.0.count).max() ?? 0
        Terminal.out(pairs.map { key, value in styled(key + ":", .bold) + String(repeating: " ", count: width - key.count + 1) + " " + value + "\n" }.joined())
    }
}

extension JSON {
    /// A member of an object.
    subscript(key: String) -> JSON? {
        guard case .object(let members) = self else { return nil }
        return members[key]
    }

    /// The string, integer, number or boolean as text; arrays joined with commas; "" for null or missing.
    var display: String {
        switch self {
        case .null: ""
        case .bool(let b): b ? "yes" : "no"
        case .integer(let i): String(i)
        case .double(let d): String(d)
        case .string(let s): s
        case .array(let items): items.map(\.display).joined(separator: ",")
        case .object: text
        }
    }

    /// The elements of an array; empty for anything else.
    var items: [JSON] {
        guard case .array(let items) = self else { return [] }
        return items
    }

    /// The string value, or nil.
    var string: String? {
        guard case .string(let s) = self else { return nil }
        return s
    }
}

extension Optional where Wrapped == JSON {
    /// The display text of a member that may be missing.
    var display: String { self?.display ?? "" }
}

/// Sizes for people: 0 B, 999 B, 1.0 KiB, 12.3 MiB.
func formatBytes(_ bytes: Int64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var value = Double(bytes)
    var unit = 0
    while value >= 1024, unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    if unit == 0 { return "\(bytes) B" }
    let tenths = (value * 10).rounded() / 10
    return "\(tenths) \(units[unit])"
}
