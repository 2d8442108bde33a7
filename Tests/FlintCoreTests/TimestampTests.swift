import FlintTestSupport
import Testing
@testable import FlintCore

@Suite struct TimestampTests {
    @Test(arguments: [
        ("1970-01-01T00:00:00Z", Int64(0)),
        ("1970-01-01T00:00:00.000001Z", 1),
        ("1969-12-31T23:59:59.999999Z", -1),
        ("1969-12-31T23:59:59Z", -1_000_000),
        ("2026-11-24T10:00:00.123456Z", 1_795_514_400_123_456),
        ("2026-11-24T12:00:00.123456+02:00", 1_795_514_400_123_456),
        ("2026-11-24T05:30:00.123456-04:30", 1_795_514_400_123_456),
        ("2026-11-25T09:59:00.123456+23:59", 1_795_514_400_123_456),
        ("2026-11-24T10:00:00.123456+00:00", 1_795_514_400_123_456),
        ("2026-11-24T10:00:00.123456-00:00", 1_795_514_400_123_456),
        ("2026-11-24t10:00:00.123456z", 1_795_514_400_123_456),
        ("2026-11-24 10:00:00.123456Z", 1_795_514_400_123_456),
        ("2000-02-29T00:00:00Z", 951_782_400_000_000),
        ("1600-02-29T12:00:00Z", -11_670_955_200_000_000),
        ("0001-01-01T00:00:00Z", -62_135_596_800_000_000),
        ("0001-01-01T00:00:00-01:00", -62_135_593_200_000_000),
        ("9999-12-31T23:59:59.999999Z", 253_402_300_799_999_999),
        ("9999-12-31T23:59:59.999999+01:00", 253_402_297_199_999_999),
    ])
    func parsesRFC3339WithOffsets(text: String, microseconds: Int64) {
        #expect(Timestamp(rfc3339: text)?.microseconds == microseconds)
    }

    @Test(arguments: [
        ("1970-01-01T00:00:00.1Z", Int64(100_000)),
        ("1970-01-01T00:00:00.12Z", 120_000),
        ("1970-01-01T00:00:00.123Z", 123_000),
        ("1970-01-01T00:00:00.000100Z", 100),
        ("1970-01-01T00:00:00.1234567Z", 123_456),
        ("1970-01-01T00:00:00.12345678Z", 123_456),
        ("1970-01-01T00:00:00.999999999Z", 999_999),  // truncated, never rounded up into the next second
        ("1969-12-31T23:59:59.999999999Z", -1),
        ("1970-01-01T00:00:00.000000999Z", 0),
    ])
    func fractionsUpToNineDigitsAreTruncatedToMicroseconds(text: String, microseconds: Int64) {
        #expect(Timestamp(rfc3339: text)?.microseconds == microseconds)
    }

    @Test(arguments: [
        "2026-02-29T00:00:00Z",  // not a leap year
        "1900-02-29T00:00:00Z",  // a century, not a leap year
        "2100-02-29T00:00:00Z",
        "2026-02-30T00:00:00Z",
        "2026-04-31T00:00:00Z",
        "2026-06-31T00:00:00Z",
        "2026-09-31T00:00:00Z",
        "2026-11-31T00:00:00Z",
        "2026-01-32T00:00:00Z",
        "2026-13-01T00:00:00Z",
        "2026-00-10T00:00:00Z",
        "2026-01-00T00:00:00Z",
        "2026-01-01T24:00:00Z",
        "2026-01-01T23:60:00Z",
        "2026-12-31T23:59:60Z",  // leap seconds are not representable
        "2026-01-01T10:00:00.1234567890Z",  // ten fraction digits
        "2026-01-01T10:00:00.Z",
        "2026-01-01T10:00:00",  // no offset
        "2026-01-01T10:00:00+2:00",
        "2026-01-01T10:00:00+0200",
        "2026-01-01T10:00:00+24:00",
        "2026-01-01T10:00:00+01:60",
        "2026-01-01T10:00Z",
        "2026-1-01T10:00:00Z",
        "26-01-01T10:00:00Z",
        "2026/01/01T10:00:00Z",
        "2026-01-01X10:00:00Z",
        "2026-01-01T10:00:00Z ",
        " 2026-01-01T10:00:00Z",
        "2026-01-01T10:00:00ZZ",
        "2026-01-01",
        "",
        "+2026-01-01T10:00:00Z",
        "２０２６-01-01T10:00:00Z",
    ])
    func invalidDatesAndFormsAreRejected(text: String) {
        #expect(Timestamp(rfc3339: text) == nil)
    }

    @Test(arguments: [
        "2000-02-29T00:00:00Z", "2024-02-29T23:59:59Z", "1600-02-29T00:00:00Z", "0004-02-29T00:00:00Z",
        "2400-02-29T00:00:00Z", "9996-02-29T00:00:00Z",
    ])
    func leapDaysAreAccepted(text: String) {
        #expect(Timestamp(rfc3339: text)?.description == String(text.dropLast()) + ".000000Z")
    }

    @Test(arguments: [
        "0000-12-31T23:59:59Z",
        "0001-01-01T00:00:00+00:01",  // 0000-12-31T23:59Z
        "0001-01-01T00:59:59+01:00",
        "9999-12-31T23:59:59-00:01",  // 10000-01-01T00:00:59Z
        "10000-01-01T00:00:00Z",
    ])
    func instantsOutsideYears1To9999AreRejected(text: String) {
        #expect(Timestamp(rfc3339: text) == nil)
    }

    @Test func rangeLimitsAreTheFirstAndLastMicrosecond() {
        #expect(Timestamp(rfc3339: "0001-01-01T00:00:00Z") == .min)
        #expect(Timestamp(rfc3339: "9999-12-31T23:59:59.999999Z") == .max)
        #expect(Timestamp(rfc3339: "9999-12-31T23:59:59.999999999Z") == .max)
        #expect(Timestamp.min.description == "0001-01-01T00:00:00.000000Z")
        #expect(Timestamp.max.description == "9999-12-31T23:59:59.999999Z")
    }

    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00.000000Z"),
        (1, "1970-01-01T00:00:00.000001Z"),
        (-1, "1969-12-31T23:59:59.999999Z"),
        (-1_000_000, "1969-12-31T23:59:59.000000Z"),
        (-86_400_000_000, "1969-12-31T00:00:00.000000Z"),
        (-86_400_000_001, "1969-12-30T23:59:59.999999Z"),
        (1_795_514_400_123_456, "2026-11-24T10:00:00.123456Z"),
        (951_782_400_000_000, "2000-02-29T00:00:00.000000Z"),
        (-11_670_955_200_000_000, "1600-02-29T12:00:00.000000Z"),
    ])
    func formatsInUTCWithSixFractionDigits(microseconds: Int64, text: String) {
        #expect(Timestamp(microseconds: microseconds).description == text)
    }

    @Test(arguments: [41, 42, 43] as [UInt64])
    func randomInstantsRoundTripThroughText(seed: UInt64) {
        var generator = ValueGenerator(seed: seed)
        var failures: [Int64] = []
        for _ in 0..<300 {
            let t = generator.timestamp()
            let text = t.description
            if text.utf8.count != 27 || Timestamp(rfc3339: text) != t { failures.append(t.microseconds) }
        }
        #expect(failures.isEmpty, "\(failures.prefix(5))")
    }

    @Test func civilDayConversionsAreInverse() {
        var failures: [Int64] = []
        for days in stride(from: Int64(-719_162), through: 2_932_896, by: 97) {
            let (y, m, d) = Timestamp.civil(fromDays: days)
            if Timestamp.days(fromCivil: y, m, d) != days || !(1...9999).contains(y) { failures.append(days) }
        }
        #expect(failures.isEmpty, "\(failures.prefix(5))")
        #expect(Timestamp.days(fromCivil: 1970, 1, 1) == 0)
        #expect(Timestamp.days(fromCivil: 2000, 3, 1) == 11_017)
        #expect(Timestamp.civil(fromDays: -1) == (1969, 12, 31))
    }

    @Test func daysInMonthFollowTheGregorianCalendar() {
        #expect(Timestamp.daysIn(month: 2, year: 2024) == 29)
        #expect(Timestamp.daysIn(month: 2, year: 2023) == 28)
        #expect(Timestamp.daysIn(month: 2, year: 1900) == 28)
        #expect(Timestamp.daysIn(month: 2, year: 2000) == 29)
        #expect((1...12).map { Timestamp.daysIn(month: $0, year: 2023) } == [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    }

    @Test func timestampsOrderByInstant() {
        let a = Timestamp(rfc3339: "2026-11-24T10:00:00+01:00")!
        let b = Timestamp(rfc3339: "2026-11-24T09:30:00Z")!
        #expect(a < b)
        #expect(Timestamp.min < Timestamp.max)
    }

    @Test func nowIsWithinRangeAndRecent() {
        let now = Timestamp.now()
        #expect(now > Timestamp(rfc3339: "2024-01-01T00:00:00Z")!)
        #expect(now < .max)
    }
}
