//! Event timestamps: parsed once at the edge, compared as integers afterwards.

use std::fmt;

/// An instant, in nanoseconds since the Unix epoch (UTC). Covers the years 1677 to 2262.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp(i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimestampError {
    #[error("`{0}` is not a timestamp (expected RFC 3339 / ISO 8601, or epoch milliseconds)")]
    Unparsable(String),
    #[error("timestamp `{0}` is out of range (years 1677 to 2262)")]
    OutOfRange(String),
    #[error("a {0} is not a timestamp")]
    WrongType(&'static str),
}

const NANOS_PER_MILLI: i64 = 1_000_000;

impl Timestamp {
    pub const fn from_nanos(nanos: i64) -> Self {
        Timestamp(nanos)
    }

    /// `millis` since the epoch, or `None` past the representable range.
    pub fn from_millis(millis: i64) -> Option<Self> {
        millis.checked_mul(NANOS_PER_MILLI).map(Timestamp)
    }

    pub fn nanos(self) -> i64 {
        self.0
    }

    /// Whole milliseconds since the epoch (rounded down).
    pub fn millis(self) -> i64 {
        self.0.div_euclid(NANOS_PER_MILLI)
    }

    /// Parses the forms events carry: epoch milliseconds written as digits (`1700000000000`,
    /// `-5`), or an RFC 3339 / ISO 8601 date-time with any offset (`Z`, `+02:00`, `+0200`), or
    /// without one (read as UTC, as Elasticsearch does), or a bare date.
    pub fn parse(text: &str) -> Result<Self, TimestampError> {
        let t = text.trim();
        let digits = t.strip_prefix('-').unwrap_or(t);
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            let millis: i64 = t
                .parse()
                .map_err(|_| TimestampError::OutOfRange(text.to_string()))?;
            return Timestamp::from_millis(millis)
                .ok_or_else(|| TimestampError::OutOfRange(text.to_string()));
        }
        if let Ok(ts) = t.parse::<jiff::Timestamp>() {
            return Self::from_jiff(ts, text);
        }
        // No offset: UTC. jiff parses a civil date-time, with or without a time.
        if let Ok(dt) = t.parse::<jiff::civil::DateTime>() {
            let ts = jiff::tz::Offset::UTC
                .to_timestamp(dt)
                .map_err(|_| TimestampError::OutOfRange(text.to_string()))?;
            return Self::from_jiff(ts, text);
        }
        Err(TimestampError::Unparsable(text.to_string()))
    }

    /// A timestamp from a JSON value: a number of epoch milliseconds, or a string [`parse`]
    /// accepts.
    ///
    /// [`parse`]: Timestamp::parse
    pub fn from_json(json: &serde_json::Value) -> Result<Self, TimestampError> {
        match json {
            serde_json::Value::String(s) => Timestamp::parse(s),
            serde_json::Value::Number(n) => {
                if let Some(ms) = n.as_i64() {
                    Timestamp::from_millis(ms)
                        .ok_or_else(|| TimestampError::OutOfRange(n.to_string()))
                } else {
                    Timestamp::from_fractional_millis(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            serde_json::Value::Null => Err(TimestampError::WrongType("null")),
            serde_json::Value::Bool(_) => Err(TimestampError::WrongType("boolean")),
            serde_json::Value::Array(_) => Err(TimestampError::WrongType("array")),
            serde_json::Value::Object(_) => Err(TimestampError::WrongType("object")),
        }
    }

    /// Epoch milliseconds with a fraction (`1714564800000.5`), to the nearest nanosecond.
    pub fn from_fractional_millis(ms: f64) -> Result<Self, TimestampError> {
        let whole = ms.trunc();
        if !whole.is_finite() || whole.abs() >= (i64::MAX / NANOS_PER_MILLI) as f64 {
            return Err(TimestampError::OutOfRange(ms.to_string()));
        }
        let fraction = ((ms - whole) * NANOS_PER_MILLI as f64).round() as i64;
        Ok(Timestamp(whole as i64 * NANOS_PER_MILLI + fraction))
    }

    fn from_jiff(ts: jiff::Timestamp, text: &str) -> Result<Self, TimestampError> {
        i64::try_from(ts.as_nanosecond())
            .map(Timestamp)
            .map_err(|_| TimestampError::OutOfRange(text.to_string()))
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC with milliseconds (`2024-05-01T12:00:00.000Z`), or more digits when the
    /// timestamp has sub-millisecond precision.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ts = jiff::Timestamp::from_nanosecond(i128::from(self.0)).map_err(|_| fmt::Error)?;
        if self.0.rem_euclid(NANOS_PER_MILLI) == 0 {
            write!(f, "{ts:.3}")
        } else {
            write!(f, "{ts:.9}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ms(text: &str) -> i64 {
        Timestamp::parse(text)
            .unwrap_or_else(|e| panic!("{text}: {e}"))
            .millis()
    }

    #[test]
    fn rfc3339_and_iso8601_with_any_offset() {
        // 2024-05-01T12:00:00Z is 1714564800000 ms (checked with `date -d ... +%s`).
        assert_eq!(ms("2024-05-01T12:00:00Z"), 1_714_564_800_000);
        assert_eq!(ms("2024-05-01T12:00:00.250Z"), 1_714_564_800_250);
        assert_eq!(ms("2024-05-01T14:00:00+02:00"), 1_714_564_800_000);
        assert_eq!(ms("2024-05-01T07:30:00-04:30"), 1_714_564_800_000);
        assert_eq!(ms("2024-05-01T12:00:00+0000"), 1_714_564_800_000);
        assert_eq!(ms("2024-05-01 12:00:00Z"), 1_714_564_800_000);
        assert_eq!(
            ms("2024-05-01T12:00:00"),
            1_714_564_800_000,
            "no offset is UTC"
        );
        assert_eq!(
            ms("2024-05-01"),
            1_714_521_600_000,
            "a date is its midnight UTC"
        );
    }

    #[test]
    fn epoch_milliseconds_as_number_or_string() {
        assert_eq!(ms("1714564800000"), 1_714_564_800_000);
        assert_eq!(ms("-1"), -1);
        let t = Timestamp::from_json(&json!(1714564800000i64)).unwrap();
        assert_eq!(t.millis(), 1_714_564_800_000);
        let t = Timestamp::from_json(&json!(1714564800000.5)).unwrap();
        assert_eq!(t.nanos(), 1_714_564_800_000_500_000);
        assert_eq!(
            Timestamp::from_json(&json!("1714564800000"))
                .unwrap()
                .millis(),
            1_714_564_800_000
        );
    }

    #[test]
    fn nanoseconds_are_kept() {
        let t = Timestamp::parse("2024-05-01T12:00:00.123456789Z").unwrap();
        assert_eq!(t.nanos() % 1_000_000_000, 123_456_789);
        assert_eq!(t.to_string(), "2024-05-01T12:00:00.123456789Z");
        let t = Timestamp::parse("2024-05-01T12:00:00Z").unwrap();
        assert_eq!(t.to_string(), "2024-05-01T12:00:00.000Z");
    }

    #[test]
    fn bad_timestamps_say_why() {
        assert_eq!(
            Timestamp::parse("yesterday").unwrap_err().to_string(),
            "`yesterday` is not a timestamp (expected RFC 3339 / ISO 8601, or epoch milliseconds)"
        );
        assert!(matches!(
            Timestamp::parse("99999999999999999999"),
            Err(TimestampError::OutOfRange(_))
        ));
        assert_eq!(
            Timestamp::from_json(&json!(true)).unwrap_err().to_string(),
            "a boolean is not a timestamp"
        );
    }
}
