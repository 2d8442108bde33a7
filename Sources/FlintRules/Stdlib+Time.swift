import FlintCore

/// Timestamps and durations: their methods and the `timestamp.` and `duration.` functions.
extension Evaluation {
    func timestampMethod(_ method: Method, _ t: Timestamp, at position: SourcePosition) throws(EvalError) -> RulesValue? {
        guard t >= .min, t <= .max else { throw EvalError("the timestamp is outside years 1 to 9999", at: position) }
        let micros = t.microseconds
        let seconds = floorDivide(micros, 1_000_000)
        let days = floorDivide(seconds, 86_400)
        let secondOfDay = seconds - days * 86_400
        let subsecondMicros = micros - seconds * 1_000_000
        switch method {
        case .year: return .int(Timestamp.civil(fromDays: days).year)
        case .month: return .int(Timestamp.civil(fromDays: days).month)
        case .day: return .int(Timestamp.civil(fromDays: days).day)
        case .hours: return .int(secondOfDay / 3600)
        case .minutes: return .int(secondOfDay / 60 % 60)
        case .seconds: return .int(secondOfDay % 60)
        case .nanos: return .int(subsecondMicros * 1000)
        case .toMillis: return .int(floorDivide(micros, 1000))
        case .date: return .timestamp(Timestamp(microseconds: days * 86_400_000_000))
        case .time:
            return .duration(RulesDuration(nanoseconds: Int128(secondOfDay) * 1_000_000_000 + Int128(subsecondMicros) * 1000)!)
        case .dayOfWeek:
            // 1970-01-01 was a Thursday; Monday is 1 and Sunday 7, as ISO 8601 numbers them.
            return .int((days + 3) - floorDivide(days + 3, 7) * 7 + 1)
        case .dayOfYear:
            let year = Timestamp.civil(fromDays: days).year
            return .int(days - Timestamp.days(fromCivil: year, 1, 1) + 1)
        default: return nil
        }
    }

    func durationMethod(_ method: Method, _ d: RulesDuration) -> RulesValue? {
        switch method {
        case .seconds: .int(d.seconds)
        case .nanos: .int(Int64(d.nanos))
        default: nil
        }
    }

    func integer(_ value: RulesValue, _ what: String, at position: SourcePosition) throws(EvalError) -> Int64 {
        guard case .int(let i) = value else { throw EvalError("\(what) needs an int, not \(value.typeName)", at: position) }
        return i
    }

    func timestampFunction(_ builtin: Builtin, _ arguments: [RulesValue], at position: SourcePosition) throws(EvalError) -> RulesValue {
        let micros: Int128
        if builtin == .timestampValue {
            micros = Int128(try integer(arguments[0], "timestamp.value()", at: position)) * 1000
        } else {
            let year = try integer(arguments[0], "timestamp.date()", at: position)
            let month = try integer(arguments[1], "timestamp.date()", at: position)
            let day = try integer(arguments[2], "timestamp.date()", at: position)
            guard (1...9999).contains(year), (1...12).contains(month), day >= 1, day <= Timestamp.daysIn(month: month, year: year) else {
                throw EvalError("timestamp.date(\(year), \(month), \(day)) is not a date between years 1 and 9999", at: position)
            }
            micros = Int128(Timestamp.days(fromCivil: year, month, day)) * 86_400_000_000
        }
        guard micros >= Int128(Timestamp.min.microseconds), micros <= Int128(Timestamp.max.microseconds) else {
            throw EvalError("the timestamp would be outside years 1 to 9999", at: position)
        }
        return .timestamp(Timestamp(microseconds: Int64(micros)))
    }

    func durationFunction(_ builtin: Builtin, _ arguments: [RulesValue], at position: SourcePosition) throws(EvalError) -> RulesValue {
        switch builtin {
        case .durationValue:
            guard case .string(let unit) = arguments[1] else {
                throw EvalError("duration.value() needs a unit string, not \(arguments[1].typeName)", at: position)
            }
            let units: [String: Int128] = [
                "w": 604_800_000_000_000, "d": 86_400_000_000_000, "h": 3_600_000_000_000, "m": 60_000_000_000,
                "s": 1_000_000_000, "ms": 1_000_000, "ns": 1,
            ]
            guard let scale = units[unit] else {
                throw EvalError("unknown duration unit '\(unit)'; expected w, d, h, m, s, ms or ns", at: position)
            }
            switch arguments[0] {
            case .int(let n): return try duration(Int128(n) * scale, at: position)
            case .float(let f):
                let nanos = f * Double(scale)
                guard nanos.isFinite, abs(nanos) < 1e22 else { throw EvalError("the duration is out of range", at: position) }
                return try duration(Int128(nanos), at: position)
            default: throw EvalError("duration.value() needs a number, not \(arguments[0].typeName)", at: position)
            }
        case .durationTime:
            let scales: [Int128] = [3_600_000_000_000, 60_000_000_000, 1_000_000_000, 1]
            var total: Int128 = 0
            for (argument, scale) in zip(arguments, scales) {
                total += Int128(try integer(argument, "duration.time()", at: position)) * scale
            }
            return try duration(total, at: position)
        default:
            guard case .duration(let d) = arguments[0] else {
                throw EvalError("duration.abs() needs a duration, not \(arguments[0].typeName)", at: position)
            }
            return try duration(abs(d.totalNanoseconds), at: position)
        }
    }
}

func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}
