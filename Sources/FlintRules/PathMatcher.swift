/// Finding the match blocks whose nested patterns fit a request path.
extension Program {
    /// The most pattern steps one lookup may take; nested recursive wildcards could otherwise multiply.
    static let maximumMatchWork = 100_000

    /// Every match block with allows whose chain of patterns fits the whole path, with the values of its
    /// variables by slot, in source order. A recursive wildcard `{x=**}` takes zero or more segments (rules v2).
    func candidates(for path: [String]) -> [(match: CompiledMatch, bindings: [RulesValue])] {
        var found: [(CompiledMatch, [RulesValue])] = []
        var work = 0
        collect(matches, path, from: 0, [], into: &found, work: &work)
        return found
    }

    private func collect(
        _ matches: [CompiledMatch], _ path: [String], from start: Int, _ bindings: [RulesValue],
        into found: inout [(CompiledMatch, [RulesValue])], work: inout Int
    ) {
        for match in matches {
            for (end, bound) in fits(match.pattern, path, from: start, bindings, work: &work) {
                if end == path.count, !match.allows.isEmpty { found.append((match, bound)) }
                if !match.children.isEmpty, work < Program.maximumMatchWork {
                    collect(match.children, path, from: end, bound, into: &found, work: &work)
                }
            }
        }
    }

    /// The positions where the pattern can end when it starts at `start`, each with the bindings extended.
    private func fits(
        _ pattern: [PatternSegment], _ path: [String], from start: Int, _ bindings: [RulesValue], work: inout Int
    ) -> [(Int, [RulesValue])] {
        guard let star = pattern.firstIndex(where: { if case .recursive = $0 { true } else { false } }) else {
            var bound = bindings
            guard let end = fit(pattern[...], path, from: start, &bound, work: &work) else { return [] }
            return [(end, bound)]
        }
        var prefixBound = bindings
        guard let afterPrefix = fit(pattern[..<star], path, from: start, &prefixBound, work: &work) else { return [] }
        let suffix = pattern[(star + 1)...]
        guard path.count - afterPrefix >= suffix.count else { return [] }
        var results: [(Int, [RulesValue])] = []
        for taken in 0...(path.count - afterPrefix - suffix.count) {
            guard work < Program.maximumMatchWork else { break }
            var bound = prefixBound
            bound.append(.path(RulesPath(segments: Array(path[afterPrefix..<(afterPrefix + taken)]))))
            if let end = fit(suffix, path, from: afterPrefix + taken, &bound, work: &work) {
                results.append((end, bound))
            }
        }
        return results
    }

    /// Fits a pattern without recursive wildcards; the end position, or nil.
    private func fit(
        _ pattern: ArraySlice<PatternSegment>, _ path: [String], from start: Int, _ bindings: inout [RulesValue], work: inout Int
    ) -> Int? {
        var position = start
        for segment in pattern {
            work += 1
            guard position < path.count else { return nil }
            switch segment {
            case .literal(let text):
                guard text.utf8.elementsEqual(path[position].utf8) else { return nil }
            case .single:
                bindings.append(.string(path[position]))
            case .recursive:
                return nil
            }
            position += 1
        }
        return position
    }
}
