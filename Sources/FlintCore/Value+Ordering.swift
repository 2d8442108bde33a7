/// Firestore's ordering of values, across types:
/// null < booleans < numbers < timestamps < strings < bytes < references < geopoints < arrays < maps.
/// Integers and doubles compare by numeric value (`1 == 1.0`); NaN equals NaN and sorts before every other number;
/// strings compare by UTF-8 bytes; arrays and maps compare element by element, a prefix first.
extension Value {
    /// The rank of the value's type in the cross-type order.
    public var typeOrder: Int {
        switch self {
        case .null: 0
        case .bool: 1
        case .integer, .double: 2
        case .timestamp: 3
        case .string: 4
        case .bytes: 5
        case .reference: 6
        case .geoPoint: 7
        case .array: 8
        case .map: 9
        }
    }

    /// Compares two values in Firestore's order: negative, zero or positive.
    public static func compare(_ lhs: Value, _ rhs: Value) -> Int {
        let (lo, ro) = (lhs.typeOrder, rhs.typeOrder)
        if lo != ro { return lo < ro ? -1 : 1 }
        switch (lhs, rhs) {
        case (.null, .null): return 0
        case (.bool(let a), .bool(let b)): return a == b ? 0 : (a ? 1 : -1)
        case (.integer(let a), .integer(let b)): return a == b ? 0 : (a < b ? -1 : 1)
        case (.double(let a), .double(let b)): return compareDoubles(a, b)
        case (.integer(let a), .double(let b)): return compareIntegerToDouble(a, b)
        case (.double(let a), .integer(let b)): return -compareIntegerToDouble(b, a)
        case (.timestamp(let a), .timestamp(let b)): return a == b ? 0 : (a < b ? -1 : 1)
        case (.string(let a), .string(let b)): return compareUTF8(a, b)
        case (.bytes(let a), .bytes(let b)):
            if a == b { return 0 }
            return a.lexicographicallyPrecedes(b) ? -1 : 1
        case (.reference(let a), .reference(let b)): return PathSegments.compare(a.segments, b.segments)
        case (.geoPoint(let a), .geoPoint(let b)):
            let c = compareDoubles(a.latitude, b.latitude)
            return c != 0 ? c : compareDoubles(a.longitude, b.longitude)
        case (.array(let a), .array(let b)):
            for (x, y) in zip(a, b) {
                let c = compare(x, y)
                if c != 0 { return c }
            }
            return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
        case (.map(let a), .map(let b)):
            let ak = a.keys.sorted(by: JSON.utf8Less)
            let bk = b.keys.sorted(by: JSON.utf8Less)
            for (x, y) in zip(ak, bk) {
                let kc = compareUTF8(x, y)
                if kc != 0 { return kc }
                let vc = compare(a[x]!, b[y]!)
                if vc != 0 { return vc }
            }
            return ak.count == bk.count ? 0 : (ak.count < bk.count ? -1 : 1)
        default:
            return 0  // unreachable: equal type orders
        }
    }

    /// Equality in Firestore's sense, as `==` filters use it: `1 == 1.0`, NaN equals NaN.
    public func isEqual(to other: Value) -> Bool { Value.compare(self, other) == 0 }

    static func compareUTF8(_ a: String, _ b: String) -> Int {
        if a.utf8.elementsEqual(b.utf8) { return 0 }
        return a.utf8.lexicographicallyPrecedes(b.utf8) ? -1 : 1
    }

    static func compareDoubles(_ a: Double, _ b: Double) -> Int {
        if a.isNaN { return b.isNaN ? 0 : -1 }
        if b.isNaN { return 1 }
        return a < b ? -1 : (a > b ? 1 : 0)
    }

    static func compareIntegerToDouble(_ i: Int64, _ d: Double) -> Int {
        if d.isNaN { return 1 }
        if d >= 9_223_372_036_854_775_808.0 { return -1 }  // 2^63: above every Int64
        if d < -9_223_372_036_854_775_808.0 { return 1 }
        let whole = d.rounded(.towardZero)
        let w = Int64(whole)
        if i != w { return i < w ? -1 : 1 }
        let fraction = d - whole
        return fraction > 0 ? -1 : (fraction < 0 ? 1 : 0)
    }
}
