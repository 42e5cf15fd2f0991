// Reading integers from CBOR that came from elsewhere (a worker, a stored state). QCborValue::toInteger()
// converts a double by a plain cast, undefined behaviour for one outside qint64's range (found by
// fuzz_protocol): these read an integer, or a double that is a whole number in range, and nothing else.
#pragma once

#include <QCborValue>

#include <cmath>
#include <optional>

namespace fedwb {

inline std::optional<qint64> cborInteger(const QCborValue &v) {
    if (v.isInteger()) return v.toInteger();
    if (v.isDouble()) {
        const double d = v.toDouble();
        // [-2^63, 2^63): both ends exactly representable as doubles.
        if (std::isfinite(d) && std::floor(d) == d && d >= -9223372036854775808.0 &&
            d < 9223372036854775808.0)
            return qint64(d);
    }
    return std::nullopt;
}

// The integer, or `fallback` when the value is missing or not a representable whole number.
inline qint64 cborInteger(const QCborValue &v, qint64 fallback) {
    return cborInteger(v).value_or(fallback);
}

} // namespace fedwb
