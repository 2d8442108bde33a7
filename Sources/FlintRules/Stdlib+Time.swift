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
        case .year: return .int(civil(fromDays: days).year)
        case .month: return .int(civil(fromDays: days).month)
        case .day: return .int(civil(fromDays: days).day)
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
            let year = civil(fromDays: days).year
            return .int(days - daysFromCivil(year: year, month: 1, day: 1) + 1)
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
            guard (1...9999).contains(year), (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year) else {
                throw EvalError("timestamp.date(\(year), \(month), \(day)) is not a date between years 1 and 9999", at: position)
            }
            micros = Int128(daysFromCivil(year: year, month: month, day: day)) * 86_400_000_000
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

func daysIn(month: Int64, year: Int64) -> Int64 {
    switch month {
    case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
    case 4, 6, 9, 11: 30
    default: 31
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let doy = (153 * ((month + 9) % 12) + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
}

/// The date of a day counted from 1970-01-01 (Howard Hinnant's civil_from_days).
func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
}
