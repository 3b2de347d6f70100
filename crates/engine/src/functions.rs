//! Elasticsearch EQL's functions, with Elasticsearch's exact results, one value at a time.
//!
//! Why this module exists: Elasticsearch evaluates EQL functions as Java code (the
//! `*FunctionProcessor` classes of `x-pack/plugin/eql`, QL's `Arithmetics`, and
//! `org.elasticsearch.common.network.InetAddresses`/`CIDRUtils`). Their results follow Java's
//! rules, not Rust's: string positions and lengths count UTF-16 code units, case-insensitive
//! variants lowercase with `toLowerCase(Locale.ROOT)`, `number` is `Long.parseLong` with a
//! `Double.valueOf` fallback, `string(1.0)` is `Double.toString`'s `"1.0"`, integer arithmetic
//! is exact (`Math.addExact`) and fails on overflow. Quarry promises Elasticsearch's results, so
//! this module reproduces those Java rules in one place, and the evaluator only has to route
//! values here.
//!
//! Null arguments never reach these functions (except `concat` and `to_string`): the
//! evaluator returns null for them first, as Elasticsearch does.
//!
//! The arithmetic functions and [`number`] never return `Ok(None)`; the `Option` leaves room
//! for functions whose result can be null.
//!
//! Known limits, all documented on the function concerned:
//! - Java strings can hold lone surrogates; Rust strings cannot. Where Java would cut a
//!   surrogate pair in half (`substring("a😀b", 0, 2)`), the half becomes U+FFFD.
//! - Elasticsearch keeps `int` and `long` apart (literals that fit 32 bits are `int`); [`Number`]
//!   has only 64-bit integers, so arithmetic between two small literals overflows at 64 bits
//!   here, where Elasticsearch overflows at 32 ("integer overflow").
//! - [`between`] returns `""` where Java throws; [`between_checked`] returns the error.
//! - [`java_lowercase`] follows Rust's Unicode tables, which can be a version apart from the
//!   JDK's, and approximates the JDK's word segmentation for a final `Σ`.
//!
//! The string, number and formatting rules were cross-checked against JDK 25 on several hundred
//! thousand generated inputs (JDK 17 differs only in `Double.toString`, see
//! [`java_double_to_string`], and in an exception's wording).

use std::borrow::Cow;
use std::cmp::Ordering;

use quarry_event::{Value, ValueRef};

/// A numeric value: EQL keeps integers and floats apart (`divide(5, 2)` is 2, `divide(5, 2.0)`
/// is 2.5).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    Integer(i64),
    Float(f64),
}

impl Number {
    /// The value as a double, as Java's `Number.doubleValue()` widens a long (round to nearest).
    pub fn to_f64(self) -> f64 {
        match self {
            Number::Integer(i) => i as f64,
            Number::Float(f) => f,
        }
    }
}

/// Why a function could not produce a value (Elasticsearch raises an error for these).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FunctionError {
    #[error("{0}")]
    Invalid(String),
}

fn invalid(message: impl Into<String>) -> FunctionError {
    FunctionError::Invalid(message.into())
}

// ---------------------------------------------------------------------------------------------
// Arithmetic: QL's `Arithmetics` (x-pack/plugin/ql/.../predicate/operator/arithmetic/
// Arithmetics.java). A double on either side gives a double (IEEE: x / 0.0 is Infinity or NaN);
// two integers give an integer, with `Math.addExact`/`subtractExact`/`multiplyExact`
// ("long overflow" error), and Java's truncating `/` and `%` ("/ by zero" error; MIN / -1 wraps
// to MIN and MIN % -1 is 0, as in Java).
// ---------------------------------------------------------------------------------------------

fn long_overflow() -> FunctionError {
    invalid("long overflow")
}

fn divide_by_zero() -> FunctionError {
    invalid("/ by zero")
}

/// `add(a, b)` and `a + b`.
pub fn add(a: Number, b: Number) -> Result<Option<Number>, FunctionError> {
    Ok(Some(match (a, b) {
        (Number::Integer(x), Number::Integer(y)) => {
            Number::Integer(x.checked_add(y).ok_or_else(long_overflow)?)
        }
        _ => Number::Float(a.to_f64() + b.to_f64()),
    }))
}

/// `subtract(a, b)` and `a - b`.
pub fn subtract(a: Number, b: Number) -> Result<Option<Number>, FunctionError> {
    Ok(Some(match (a, b) {
        (Number::Integer(x), Number::Integer(y)) => {
            Number::Integer(x.checked_sub(y).ok_or_else(long_overflow)?)
        }
        _ => Number::Float(a.to_f64() - b.to_f64()),
    }))
}

/// `multiply(a, b)` and `a * b`.
pub fn multiply(a: Number, b: Number) -> Result<Option<Number>, FunctionError> {
    Ok(Some(match (a, b) {
        (Number::Integer(x), Number::Integer(y)) => {
            Number::Integer(x.checked_mul(y).ok_or_else(long_overflow)?)
        }
        _ => Number::Float(a.to_f64() * b.to_f64()),
    }))
}

/// `divide(a, b)` and `a / b`: integer division truncates toward zero (`divide(-5, 2)` is -2);
/// an integer divisor of 0 is an error, a float one gives Infinity or NaN.
pub fn divide(a: Number, b: Number) -> Result<Option<Number>, FunctionError> {
    Ok(Some(match (a, b) {
        (Number::Integer(_), Number::Integer(0)) => return Err(divide_by_zero()),
        (Number::Integer(x), Number::Integer(y)) => Number::Integer(x.wrapping_div(y)),
        _ => Number::Float(a.to_f64() / b.to_f64()),
    }))
}

/// `modulo(a, b)` and `a % b`: Java's remainder, with the sign of the dividend
/// (`modulo(-10, 6)` is -4); an integer divisor of 0 is an error, a float one gives NaN.
pub fn modulo(a: Number, b: Number) -> Result<Option<Number>, FunctionError> {
    Ok(Some(match (a, b) {
        (Number::Integer(_), Number::Integer(0)) => return Err(divide_by_zero()),
        (Number::Integer(x), Number::Integer(y)) => Number::Integer(x.wrapping_rem(y)),
        // Rust's `%` on floats is C's fmod, as Java's `%` on doubles.
        _ => Number::Float(a.to_f64() % b.to_f64()),
    }))
}

// ---------------------------------------------------------------------------------------------
// Java string helpers: UTF-16 positions and Locale.ROOT lowercasing.
// ---------------------------------------------------------------------------------------------

/// Java's `String.length()`: UTF-16 code units (a character outside the BMP counts 2).
fn utf16_len(s: &str) -> usize {
    if s.is_ascii() {
        return s.len();
    }
    // A UTF-8 lead byte starts one UTF-16 unit, or two for a 4-byte sequence.
    s.bytes()
        .map(|b| match b {
            0x80..=0xBF => 0,
            0xF0..=0xFF => 2,
            _ => 1,
        })
        .sum()
}

/// The byte offset of the first character starting at or after UTF-16 position `index`
/// (`index` at most the UTF-16 length). An index inside a surrogate pair moves past the pair.
fn byte_offset_at_or_after(s: &str, index: usize) -> usize {
    if s.is_ascii() {
        return index;
    }
    let mut units = 0;
    for (offset, c) in s.char_indices() {
        if units >= index {
            return offset;
        }
        units += c.len_utf16();
    }
    s.len()
}

/// Java's `s.substring(begin, end)` for `begin <= end <= length` (UTF-16 positions). A cut
/// through a surrogate pair leaves a lone surrogate in Java; here it becomes U+FFFD.
fn utf16_substring(s: &str, begin: usize, end: usize) -> String {
    if s.is_ascii() {
        return s[begin..end].to_string();
    }
    let units: Vec<u16> = s.encode_utf16().collect();
    String::from_utf16_lossy(&units[begin..end])
}

/// Java's `s.substring(begin, end)` with its bounds check: `StringIndexOutOfBoundsException`
/// ("Range [2, 1) out of bounds for length 3", as JDK 25 words it) unless
/// `0 <= begin <= end <= length`.
fn java_substring(s: &str, begin: usize, end: usize) -> Result<String, FunctionError> {
    let length = utf16_len(s);
    if begin > end || end > length {
        return Err(invalid(format!(
            "Range [{begin}, {end}) out of bounds for length {length}"
        )));
    }
    Ok(utf16_substring(s, begin, end))
}

/// Java's `String.toLowerCase(Locale.ROOT)`, which the case-insensitive (`~`) variants apply to
/// both sides: each character's Unicode lowercase mapping (Rust's `char::to_lowercase`), so
/// `İ` (U+0130) becomes `i̇` (two chars: the length can change), and `Σ` becomes `ς` at the end
/// of a word, `σ` elsewhere.
///
/// Java decides "end of a word" with the JDK's word `BreakIterator` (a hyphen or apostrophe
/// between letters does not end a word: `"AΣ-x"` lowercases to `aσ-x`), not with Unicode's
/// Final_Sigma context that `str::to_lowercase` uses (`aς-x`); [`jdk_final_sigma`] follows the
/// JDK. The Unicode versions of Rust's std and of the JDK Elasticsearch bundles may differ for
/// recently added letters.
pub fn java_lowercase(s: &str) -> Cow<'_, str> {
    if s.is_ascii() {
        return if s.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(s.to_ascii_lowercase())
        } else {
            Cow::Borrowed(s)
        };
    }
    if !s.contains('Σ') {
        // Without a capital sigma, str::to_lowercase is the per-character mapping.
        return Cow::Owned(s.to_lowercase());
    }
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len() + 2);
    for (i, &c) in chars.iter().enumerate() {
        if c == 'Σ' {
            out.push(if jdk_final_sigma(&chars, i) {
                'ς'
            } else {
                'σ'
            });
        } else {
            out.extend(c.to_lowercase());
        }
    }
    Cow::Owned(out)
}

/// Whether the `Σ` at `chars[index]` lowercases to the final `ς` in Java: a cased letter
/// precedes it and none follows it within its word (the JDK's `ConditionalSpecialCasing`
/// Final_Cased rule).
///
/// Words follow the JDK's legacy word `BreakIterator` rules (`BreakIteratorRules`), as probed
/// on a JDK: runs of letters joined by single mid-word punctuation (dashes, `_`, `'`, `"`, `.`,
/// the soft hyphen), runs of digits joined by single mid-number punctuation (`'`, `"`, `,`,
/// `.`), letter and digit runs adjoining. Combining marks and format characters are skipped
/// over, but a combining mark right after the joining punctuation stops the word. Rust's std
/// has no general-category tables, so letters, digits and marks are approximated with
/// `is_alphabetic`, `is_numeric` and lists of the common mark and format ranges.
fn jdk_final_sigma(chars: &[char], index: usize) -> bool {
    let visible: Vec<usize> = (0..chars.len())
        .filter(|&i| i == index || !is_jdk_transparent(chars[i]))
        .collect();
    let at = visible
        .iter()
        .position(|&i| i == index)
        .expect("the sigma itself is visible");
    let class = |k: usize| jdk_word_class(chars[visible[k]]);
    let in_word = |k: usize| match class(k) {
        JdkWordClass::Letter | JdkWordClass::Digit => true,
        JdkWordClass::Other => {
            let c = chars[visible[k]];
            // A combining mark right after the punctuation (format characters aside) keeps it
            // from joining (observed on a JDK).
            if chars[visible[k] + 1..]
                .iter()
                .find(|&&m| !in_ranges(m, FORMAT_CHARACTERS))
                .is_some_and(|&m| in_ranges(m, COMBINING_MARKS))
            {
                return false;
            }
            let between = |wanted: JdkWordClass| {
                k > 0 && k + 1 < visible.len() && class(k - 1) == wanted && class(k + 1) == wanted
            };
            (is_jdk_mid_word(c) && between(JdkWordClass::Letter))
                || (is_jdk_mid_number(c) && between(JdkWordClass::Digit))
        }
    };
    let cased_before = (0..at)
        .rev()
        .take_while(|&k| in_word(k))
        .any(|k| is_java_cased(chars[visible[k]]));
    cased_before
        && !(at + 1..visible.len())
            .take_while(|&k| in_word(k))
            .any(|k| is_java_cased(chars[visible[k]]))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JdkWordClass {
    Letter,
    Digit,
    Other,
}

fn jdk_word_class(c: char) -> JdkWordClass {
    if c.is_numeric() {
        JdkWordClass::Digit
    } else if c.is_alphabetic()
        // The JDK rules take kanji, katakana and hiragana out of the letters.
        && !matches!(c as u32, 0x3005 | 0x3041..=0x309E | 0x30A1..=0x30FE | 0x4E00..=0x9FA5 | 0xF900..=0xFA2D)
    {
        JdkWordClass::Letter
    } else {
        JdkWordClass::Other
    }
}

/// Whether `c` falls in one of the inclusive code point ranges.
fn in_ranges(c: char, ranges: &[(u32, u32)]) -> bool {
    let c = c as u32;
    ranges.iter().any(|&(low, high)| low <= c && c <= high)
}

/// Combining marks (Mn, Me) in their common ranges, which the JDK word rules skip over.
const COMBINING_MARKS: &[(u32, u32)] = &[
    (0x0300, 0x036F),
    (0x0483, 0x0489),
    (0x0591, 0x05BD),
    (0x1AB0, 0x1AFF),
    (0x1DC0, 0x1DFF),
    (0x20D0, 0x20FF),
    (0xFE00, 0xFE0F),
    (0xFE20, 0xFE2F),
];

/// Format characters (Cf) other than the soft hyphen, which the JDK word rules skip over.
const FORMAT_CHARACTERS: &[(u32, u32)] = &[
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
];

fn is_jdk_transparent(c: char) -> bool {
    in_ranges(c, COMBINING_MARKS) || in_ranges(c, FORMAT_CHARACTERS)
}

/// The JDK rules' `$mid_word`: `"`, `'`, `.`, the soft hyphen, U+2027, and dash (Pd) and
/// connector (Pc, such as `_`) punctuation.
const JDK_MID_WORD: &[(u32, u32)] = &[
    (0x0022, 0x0022),
    (0x0027, 0x0027),
    (0x002D, 0x002E),
    (0x005F, 0x005F),
    (0x00AD, 0x00AD),
    (0x058A, 0x058A),
    (0x05BE, 0x05BE),
    (0x1400, 0x1400),
    (0x1806, 0x1806),
    (0x2010, 0x2015),
    (0x2027, 0x2027),
    (0x203F, 0x2040),
    (0x2054, 0x2054),
    (0x2E17, 0x2E17),
    (0x2E1A, 0x2E1A),
    (0x2E3A, 0x2E3B),
    (0x2E40, 0x2E40),
    (0x2E5D, 0x2E5D),
    (0x301C, 0x301C),
    (0x3030, 0x3030),
    (0x30A0, 0x30A0),
    (0xFE31, 0xFE34),
    (0xFE4D, 0xFE4F),
    (0xFE58, 0xFE58),
    (0xFE63, 0xFE63),
    (0xFF0D, 0xFF0D),
    (0xFF3F, 0xFF3F),
    (0x10EAD, 0x10EAD),
];

fn is_jdk_mid_word(c: char) -> bool {
    in_ranges(c, JDK_MID_WORD)
}

/// The JDK rules' `$mid_num`: `"`, `'`, `,`, U+066B and `.`.
fn is_jdk_mid_number(c: char) -> bool {
    matches!(c, '"' | '\'' | ',' | '\u{66B}' | '.')
}

/// Titlecase letters (Lt).
const TITLECASE: &[(u32, u32)] = &[
    (0x01C5, 0x01C5),
    (0x01C8, 0x01C8),
    (0x01CB, 0x01CB),
    (0x01F2, 0x01F2),
    (0x1F88, 0x1F8F),
    (0x1F98, 0x1F9F),
    (0x1FA8, 0x1FAF),
    (0x1FBC, 0x1FBC),
    (0x1FCC, 0x1FCC),
    (0x1FFC, 0x1FFC),
];

/// Characters with Rust's Lowercase or Uppercase property that are neither Ll nor Lu nor in
/// Java's own list of other cased characters (`ª`, `º`, `ⁿ`, modifier letters, squared and
/// circled capitals, ...).
const CASED_IN_RUST_ONLY: &[(u32, u32)] = &[
    (0x00AA, 0x00AA),
    (0x00BA, 0x00BA),
    (0x10FC, 0x10FC),
    (0x1D62, 0x1D6A),
    (0x1D78, 0x1D78),
    (0x1D9B, 0x1DBF),
    (0x2071, 0x2071),
    (0x207F, 0x207F),
    (0x2090, 0x209C),
    (0x2C7C, 0x2C7D),
    (0xA69C, 0xA69D),
    (0xA770, 0xA770),
    (0xA7F2, 0xA7F4),
    (0xA7F8, 0xA7F9),
    (0xAB5C, 0xAB5F),
    (0xAB69, 0xAB69),
    (0x10780, 0x10780),
    (0x10783, 0x10785),
    (0x10787, 0x107B0),
    (0x107B2, 0x107BA),
    (0x1F130, 0x1F149),
    (0x1F150, 0x1F169),
    (0x1F170, 0x1F189),
];

/// `ConditionalSpecialCasing.isCased`: lowercase, uppercase and titlecase letters (Ll, Lu, Lt)
/// and a fixed list of other characters with a case (U+02B0–02B8, U+02C0–02C1, U+02E0–02E4,
/// U+0345, U+037A, U+1D2C–1D61, U+2160–217F, U+24B6–24E9), all of which Rust's
/// Lowercase/Uppercase properties cover.
fn is_java_cased(c: char) -> bool {
    in_ranges(c, TITLECASE)
        || ((c.is_lowercase() || c.is_uppercase()) && !in_ranges(c, CASED_IN_RUST_ONLY))
}

/// Java's `haystack.indexOf(needle, from)`, in UTF-16 positions: a negative `from` counts as 0;
/// from the end or beyond, an empty needle is found at the length and any other is not.
fn java_index_of(haystack: &str, needle: &str, from: i32) -> Option<usize> {
    let length = utf16_len(haystack);
    if i64::from(from) >= length as i64 {
        return needle.is_empty().then_some(length);
    }
    let from = from.max(0) as usize;
    if needle.is_empty() {
        return Some(from);
    }
    // A valid needle starts with a whole character, so it can only match at character
    // boundaries: searching the UTF-8 bytes finds the same first match as Java's UTF-16 search.
    let start = byte_offset_at_or_after(haystack, from);
    haystack[start..]
        .find(needle)
        .map(|at| utf16_len(&haystack[..start + at]))
}

/// Java's `haystack.lastIndexOf(needle)` for a non-empty needle, in UTF-16 positions.
fn java_last_index_of(haystack: &str, needle: &str) -> Option<usize> {
    haystack.rfind(needle).map(|at| utf16_len(&haystack[..at]))
}

// ---------------------------------------------------------------------------------------------
// String functions.
// ---------------------------------------------------------------------------------------------

/// `between(source, left, right[, greedy])`: the text after the first `left` and before the
/// next `right` (greedy: before the last `right` in the whole source).
///
/// Elasticsearch's rules (x-pack/plugin/eql/.../eql/util/StringUtils.java `between`):
/// - an empty `source`, `left` or `right` returns `source` unchanged (`between("abc", "", "c")`
///   is `"abc"`);
/// - `left` not found, or `right` not found after it, returns `""`;
/// - case-insensitive: positions are found in the lowercased strings and cut from the original.
///
/// Where Java throws, and Elasticsearch fails the search, this returns `""`; the evaluator
/// should call [`between_checked`] to raise the error instead.
pub fn between(
    source: &str,
    left: &str,
    right: &str,
    greedy: bool,
    case_insensitive: bool,
) -> String {
    between_checked(source, left, right, greedy, case_insensitive).unwrap_or_default()
}

/// [`between`], with Elasticsearch's error where Java's `substring` throws: greedy matching
/// whose last `right` starts before the end of the first `left` (`between("a-b", "b", "-",
/// true)`: "Range [3, 1) out of bounds for length 3"), or a case-insensitive match whose
/// lowercasing lengthened the text (`İ`) so that a position falls past the original's end.
pub fn between_checked(
    source: &str,
    left: &str,
    right: &str,
    greedy: bool,
    case_insensitive: bool,
) -> Result<String, FunctionError> {
    if source.is_empty() || left.is_empty() || right.is_empty() {
        return Ok(source.to_string());
    }
    if !case_insensitive || source.is_ascii() {
        // Positions in the searched string are positions in `source`: work in bytes.
        let (text, left, right) = if case_insensitive {
            (
                java_lowercase(source),
                java_lowercase(left),
                java_lowercase(right),
            )
        } else {
            (
                Cow::Borrowed(source),
                Cow::Borrowed(left),
                Cow::Borrowed(right),
            )
        };
        let Some(at) = text.find(&*left) else {
            return Ok(String::new());
        };
        let start = at + left.len();
        let end = if greedy {
            text.rfind(&*right)
        } else {
            text[start..].find(&*right).map(|i| start + i)
        };
        let Some(end) = end else {
            return Ok(String::new());
        };
        if start > end {
            return Err(invalid(format!(
                "Range [{}, {}) out of bounds for length {}",
                utf16_len(&source[..start]),
                utf16_len(&source[..end]),
                utf16_len(source)
            )));
        }
        return Ok(source[start..end].to_string());
    }
    // Case-insensitive over non-ASCII text: Java's positions are UTF-16 positions in the
    // lowercased string, applied to the original.
    let text = java_lowercase(source);
    let left = java_lowercase(left);
    let right = java_lowercase(right);
    let Some(at) = java_index_of(&text, &left, 0) else {
        return Ok(String::new());
    };
    let start = at + utf16_len(&left);
    let end = if greedy {
        java_last_index_of(&text, &right)
    } else {
        java_index_of(&text, &right, i32::try_from(start).unwrap_or(i32::MAX))
    };
    match end {
        Some(end) => java_substring(source, start, end),
        None => Ok(String::new()),
    }
}

/// `endsWith(source, suffix)`; case-insensitive: both sides lowercased separately
/// (EndsWithFunctionProcessor). An empty suffix always matches.
pub fn ends_with(source: &str, suffix: &str, case_insensitive: bool) -> bool {
    if case_insensitive {
        java_lowercase(source).ends_with(&*java_lowercase(suffix))
    } else {
        source.ends_with(suffix)
    }
}

/// `startsWith(source, prefix)`; case-insensitive: both sides lowercased separately (QL's
/// StartsWithFunctionProcessor). An empty prefix always matches.
pub fn starts_with(source: &str, prefix: &str, case_insensitive: bool) -> bool {
    if case_insensitive {
        java_lowercase(source).starts_with(&*java_lowercase(prefix))
    } else {
        source.starts_with(prefix)
    }
}

/// `stringContains(source, substring)`: false when either string is empty, even
/// `stringContains("abc", "")` (eql/util/StringUtils.java `stringContains`).
pub fn string_contains(source: &str, substring: &str, case_insensitive: bool) -> bool {
    if source.is_empty() || substring.is_empty() {
        return false;
    }
    if case_insensitive {
        java_lowercase(source).contains(&*java_lowercase(substring))
    } else {
        source.contains(substring)
    }
}

/// `indexOf(source, substring[, start])`: Java's `indexOf` in UTF-16 positions; `None` when
/// not found.
///
/// From IndexOfFunctionProcessor: `start` goes through `Number.intValue()` (a long start keeps
/// its low 32 bits); a negative start counts as 0; from the end of `source` or beyond, an empty
/// substring is found at the length and any other is not. Case-insensitive: both strings are
/// lowercased and the position is in the lowercased source (the same as in the original unless
/// lowercasing changed the length, e.g. `İ`).
pub fn index_of(
    source: &str,
    substring: &str,
    start: Option<i64>,
    case_insensitive: bool,
) -> Option<i64> {
    // Number.intValue() of a Long: the low 32 bits.
    let from = start.map_or(0, |s| s as i32);
    let found = if case_insensitive {
        java_index_of(&java_lowercase(source), &java_lowercase(substring), from)
    } else {
        java_index_of(source, substring, from)
    };
    found.map(|i| i as i64)
}

/// `length(source)`: Java's `String.length()`, in UTF-16 code units (`length("a😀b")` is 4).
pub fn length(source: &str) -> i64 {
    utf16_len(source) as i64
}

/// `substring(source, start[, end])`: Python slicing over UTF-16 positions
/// (eql/util/StringUtils.java `substringSlice`): negative positions count from the end, then
/// clamp to `0..=length`; `start >= end` gives `""`. Both positions go through
/// `Number.intValue()` (low 32 bits). A cut through a surrogate pair gives U+FFFD for the half.
pub fn substring(source: &str, start: i64, end: Option<i64>) -> String {
    if source.is_empty() {
        return String::new();
    }
    let length = utf16_len(source) as i64;
    let mut start = i64::from(start as i32);
    let mut end = end.map_or(length, |e| i64::from(e as i32));
    if start < 0 {
        start = (start + length).max(0);
    }
    if end < 0 {
        end = (end + length).max(0);
    } else if end > length {
        end = length;
    }
    if start >= end {
        return String::new();
    }
    utf16_substring(source, start as usize, end as usize)
}

// ---------------------------------------------------------------------------------------------
// number(): ToNumberFunctionProcessor (x-pack/plugin/eql/.../scalar/math/).
// ---------------------------------------------------------------------------------------------

/// `number(text[, base])`, as Elasticsearch's ToNumberFunctionProcessor:
/// - without a base (or a null one), text starting with `0x` is base 16, anything else base 10;
///   with base 16 a leading `0x` is dropped (only lowercase `0x`, and not after a sign);
/// - base 10: Java's `Long.valueOf` (an optional `+`/`-` and digits, no whitespace) gives an
///   integer; otherwise Java's `Double.valueOf` gives a float. That accepts surrounding
///   whitespace (`" 12"` is the float 12.0), `1.5e3`, `.5`, `1.`, a `d`/`f` suffix, `NaN`,
///   `Infinity` and hex floats like `0x1p3`; integers beyond the long range become floats;
/// - other bases: Java's `Long.parseLong(text, base)` (base 2 to 36), an integer;
/// - Java's digits include the other Unicode decimal digits (`"١٢"` is 12) and, in bases above
///   10, fullwidth Latin letters;
/// - text that does not parse is an error: "Unable to convert [text] to number of base [b]";
///   a base outside Java's `int` range is "An integer base is required; received [b]".
pub fn number(text: &str, base: Option<i64>) -> Result<Option<Number>, FunctionError> {
    let hex_prefix = text.starts_with("0x");
    let radix = match base {
        None => {
            if hex_prefix {
                16
            } else {
                10
            }
        }
        Some(b) => b,
    };
    if i32::try_from(radix).is_err() {
        return Err(invalid(format!(
            "An integer base is required; received [{radix}]"
        )));
    }
    let value = if hex_prefix && radix == 16 {
        &text[2..]
    } else {
        text
    };
    let parsed = if radix == 10 {
        java_parse_long(value, 10)
            .map(Number::Integer)
            .or_else(|| java_parse_double(value).map(Number::Float))
    } else if (2..=36).contains(&radix) {
        java_parse_long(value, radix as u32).map(Number::Integer)
    } else {
        // Long.parseLong rejects the radix itself.
        None
    };
    match parsed {
        Some(n) => Ok(Some(n)),
        None => Err(invalid(format!(
            "Unable to convert [{value}] to number of base [{radix}]"
        ))),
    }
}

/// The first code point of each run of ten Unicode decimal digits (general category Nd) in the
/// Basic Multilingual Plane, the digits Java's `Character.digit(char, radix)` accepts.
/// Supplementary-plane digits are surrogate pairs in Java, and `Long.parseLong` reads `char`s,
/// so they never count.
const BMP_DIGIT_ZEROS: [u32; 37] = [
    0x0030, 0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6,
    0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80,
    0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0,
    0xFF10,
];

/// Java's `Character.digit(c, radix)` for a BMP character (`None` for -1).
fn java_digit(c: char, radix: u32) -> Option<u32> {
    let cp = c as u32;
    let value = match cp {
        0x41..=0x5A => cp - 0x41 + 10,
        0x61..=0x7A => cp - 0x61 + 10,
        0xFF21..=0xFF3A => cp - 0xFF21 + 10,
        0xFF41..=0xFF5A => cp - 0xFF41 + 10,
        _ => {
            let zero = BMP_DIGIT_ZEROS
                .iter()
                .rev()
                .find(|&&zero| zero <= cp)
                .copied()?;
            let value = cp - zero;
            if value >= 10 {
                return None;
            }
            value
        }
    };
    (value < radix).then_some(value)
}

/// Java's `Long.parseLong(s, radix)` (`None` for a NumberFormatException): an optional `+` or
/// `-`, then one or more digits of the radix, within the long range.
fn java_parse_long(s: &str, radix: u32) -> Option<i64> {
    if !(2..=36).contains(&radix) {
        return None;
    }
    let (negative, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() {
        return None;
    }
    // Accumulate negatively, as Java does, so that the long minimum parses.
    let mut result: i64 = 0;
    for c in digits.chars() {
        let digit = java_digit(c, radix)?;
        result = result
            .checked_mul(i64::from(radix))?
            .checked_sub(i64::from(digit))?;
    }
    if negative {
        Some(result)
    } else {
        result.checked_neg()
    }
}

/// Java's `Double.valueOf(s)` (`None` for a NumberFormatException).
fn java_parse_double(s: &str) -> Option<f64> {
    // String.trim(): every char up to U+0020 on both ends.
    let text = s.trim_matches(|c: char| c <= ' ');
    let (negative, rest) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let sign = if negative { -1.0 } else { 1.0 };
    match rest.as_bytes() {
        [b'N', ..] => return (rest == "NaN").then_some(f64::NAN),
        [b'I', ..] => return (rest == "Infinity").then_some(sign * f64::INFINITY),
        [b'0', b'x' | b'X', ..] => return parse_hex_float(&rest[2..]).map(|v| sign * v),
        _ => {}
    }
    // [digits] ['.' [digits]] [(e|E) [+|-] digits] [f|F|d|D], with at least one mantissa digit.
    let bytes = rest.as_bytes();
    let mut i = 0;
    let mut mantissa_digits = 0;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
        mantissa_digits += 1;
    }
    if i < bytes.len() && bytes[i] == b'.' {
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
            mantissa_digits += 1;
        }
    }
    if mantissa_digits == 0 {
        return None;
    }
    if i < bytes.len() && matches!(bytes[i], b'e' | b'E') {
        i += 1;
        if i < bytes.len() && matches!(bytes[i], b'+' | b'-') {
            i += 1;
        }
        let exponent_start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == exponent_start {
            return None;
        }
    }
    let number = &rest[..i];
    match &bytes[i..] {
        [] | [b'f' | b'F' | b'd' | b'D'] => {}
        _ => return None,
    }
    // The suffix does not change the value: Double.valueOf("1.1f") is the double 1.1. Rust's
    // parser accepts this grammar and rounds correctly, as Java's does.
    number.parse::<f64>().ok().map(|v| sign * v)
}

/// The value of a Java hexadecimal float after its `0x`/`0X`: hex digits with an optional
/// point (at least one digit), a required binary exponent `p`/`P` with optional sign and
/// decimal digits, and an optional `f`/`F`/`d`/`D` suffix. Rounded to nearest, ties to even.
fn parse_hex_float(body: &str) -> Option<f64> {
    let bytes = body.as_bytes();
    let mut i = 0;
    let mut digits: Vec<u8> = Vec::new();
    let mut fraction_digits: i64 = 0;
    while i < bytes.len() && bytes[i].is_ascii_hexdigit() {
        digits.push(hex_value(bytes[i]));
        i += 1;
    }
    if i < bytes.len() && bytes[i] == b'.' {
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_hexdigit() {
            digits.push(hex_value(bytes[i]));
            fraction_digits += 1;
            i += 1;
        }
    }
    if digits.is_empty() || i >= bytes.len() || !matches!(bytes[i], b'p' | b'P') {
        return None;
    }
    i += 1;
    let mut exponent_negative = false;
    if i < bytes.len() && matches!(bytes[i], b'+' | b'-') {
        exponent_negative = bytes[i] == b'-';
        i += 1;
    }
    let exponent_start = i;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    if i == exponent_start {
        return None;
    }
    let exponent_text = &body[exponent_start..i];
    match &bytes[i..] {
        [] | [b'f' | b'F' | b'd' | b'D'] => {}
        _ => return None,
    }
    // Java reads the exponent with Integer.parseInt; beyond an int the result is infinity or
    // zero by the exponent's sign alone, whatever the digits.
    let Some(exponent) = java_parse_long(exponent_text, 10).and_then(|e| i32::try_from(e).ok())
    else {
        return Some(if exponent_negative {
            0.0
        } else {
            f64::INFINITY
        });
    };
    let exponent = if exponent_negative {
        -i64::from(exponent)
    } else {
        i64::from(exponent)
    };
    // value = 0x<digits> * 2^(exponent - 4 * fraction_digits)
    let significant: Vec<u8> = digits.iter().copied().skip_while(|&d| d == 0).collect();
    if significant.is_empty() {
        return Some(0.0);
    }
    const KEPT: usize = 30; // 120 bits, far more than a double needs.
    let mut mantissa: u128 = 0;
    for &d in significant.iter().take(KEPT) {
        mantissa = (mantissa << 4) | u128::from(d);
    }
    let dropped = significant.len().saturating_sub(KEPT);
    let sticky = significant[KEPT.min(significant.len())..]
        .iter()
        .any(|&d| d != 0);
    let scale = exponent - 4 * fraction_digits + 4 * dropped as i64;
    Some(compose_f64(mantissa, sticky, scale))
}

fn hex_value(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        _ => b - b'A' + 10,
    }
}

/// `mantissa * 2^scale` (plus a sliver below the mantissa's last bit when `sticky`), rounded to
/// the nearest double, ties to even, with subnormals and overflow to infinity.
fn compose_f64(mantissa: u128, sticky: bool, scale: i64) -> f64 {
    let bits = i64::from(128 - mantissa.leading_zeros());
    let top = scale + bits - 1; // exponent of the leading bit
    if top > 1023 {
        return f64::INFINITY;
    }
    let lowest_kept = (top - 52).max(-1074);
    let shift = lowest_kept - scale;
    let kept = if shift <= 0 {
        // Exact (the mantissa is at most 53 bits here, and nothing is sticky below it).
        mantissa << (-shift)
    } else if shift > bits {
        return 0.0;
    } else {
        let shift = shift as u32;
        let kept = mantissa >> shift;
        let rest = mantissa & ((1u128 << shift) - 1);
        let half = 1u128 << (shift - 1);
        let round_up = rest > half || (rest == half && (sticky || kept & 1 == 1));
        kept + u128::from(round_up)
    };
    // kept <= 2^53 and 2^lowest_kept is a double: the product is exact or overflows as it
    // should.
    (kept as f64) * power_of_two(lowest_kept)
}

/// 2^e as a double, for -1074 <= e <= 1023.
fn power_of_two(e: i64) -> f64 {
    if e >= -1022 {
        f64::from_bits(((e + 1023) as u64) << 52)
    } else {
        f64::from_bits(1u64 << (e + 1074))
    }
}

// ---------------------------------------------------------------------------------------------
// string() and concat(): Java's `Object.toString()` of the value.
// ---------------------------------------------------------------------------------------------

/// `string(value)`: the text Elasticsearch gives a value (ToStringFunctionProcessor, Java's
/// `toString()`); `None` for null.
///
/// Integers print as Java's `Long.toString`, floats as Java's `Double.toString` (see
/// [`java_double_to_string`]: `1.0`, `42.5`, `1.0E20`), booleans as `true`/`false`. An array
/// (a multi-valued field) prints its first doc value, as a script reads it: doc values are
/// sorted, so that is the smallest element (numbers numerically, strings by UTF-8 bytes, false
/// before true); an array with no non-null element is null.
pub fn to_string(value: ValueRef<'_>) -> Option<String> {
    match value {
        ValueRef::Null => None,
        ValueRef::Bool(b) => Some(b.to_string()),
        ValueRef::Integer(i) => Some(i.to_string()),
        ValueRef::Float(f) => Some(java_double_to_string(f)),
        ValueRef::String(s) => Some(s.to_string()),
        ValueRef::Array(items) => first_doc_value(items).and_then(to_string),
    }
}

/// The smallest non-null element of a (possibly nested) array, the first of its doc values.
/// Elements of types that do not compare keep the earlier one.
fn first_doc_value(items: &[Value]) -> Option<ValueRef<'_>> {
    let mut best: Option<ValueRef<'_>> = None;
    for item in items {
        let candidate = match item {
            Value::Null => continue,
            Value::Array(inner) => match first_doc_value(inner) {
                Some(v) => v,
                None => continue,
            },
            other => other.as_ref(),
        };
        best = match best {
            Some(current) if doc_value_order(candidate, current) != Ordering::Less => Some(current),
            _ => Some(candidate),
        };
    }
    best
}

fn doc_value_order(a: ValueRef<'_>, b: ValueRef<'_>) -> Ordering {
    match (a, b) {
        (ValueRef::Integer(x), ValueRef::Integer(y)) => x.cmp(&y),
        (ValueRef::Integer(_) | ValueRef::Float(_), ValueRef::Integer(_) | ValueRef::Float(_)) => {
            let (x, y) = (number_of(a), number_of(b));
            x.total_cmp(&y)
        }
        (ValueRef::String(x), ValueRef::String(y)) => x.as_bytes().cmp(y.as_bytes()),
        (ValueRef::Bool(x), ValueRef::Bool(y)) => x.cmp(&y),
        _ => Ordering::Equal,
    }
}

fn number_of(v: ValueRef<'_>) -> f64 {
    match v {
        ValueRef::Integer(i) => i as f64,
        ValueRef::Float(f) => f,
        _ => f64::NAN,
    }
}

/// `concat(values...)`: each value's [`to_string`] text, joined; null if any value is null
/// (ConcatFunctionProcessor); `""` for no values.
pub fn concat(values: &[ValueRef<'_>]) -> Option<String> {
    let mut out = String::new();
    for value in values {
        out.push_str(&to_string(*value)?);
    }
    Some(out)
}

/// Java's `Double.toString(d)` as of JDK 19 (the JDKs Elasticsearch 8.10+ bundles): the
/// shortest decimal that reads back as `d`, preferring a two-digit one when the shortest has one
/// digit and a two-digit decimal is closer (`4.9E-324`, not `5E-324`); plain notation with at
/// least one fraction digit for 10^-3 <= |d| < 10^7 (`100.0`, `0.001`), otherwise
/// `d.dddE<exponent>` (`1.0E7`, `1.0E-4`); `NaN`, `Infinity`, `-Infinity`, `-0.0`.
///
/// Older JDKs (17 and before) sometimes printed a longer decimal (`9.999999999999999E22` for
/// 1e23, where JDK 19+ prints `1.0E23`).
pub fn java_double_to_string(d: f64) -> String {
    if d.is_nan() {
        return "NaN".to_string();
    }
    if d.is_infinite() {
        return if d > 0.0 { "Infinity" } else { "-Infinity" }.to_string();
    }
    if d == 0.0 {
        return if d.is_sign_negative() { "-0.0" } else { "0.0" }.to_string();
    }
    let (digits, exponent) = shortest_decimal(d.abs());
    let mut out = String::with_capacity(digits.len() + 8);
    if d < 0.0 {
        out.push('-');
    }
    if (-3..7).contains(&exponent) {
        if exponent >= 0 {
            let integer_digits = exponent as usize + 1;
            if digits.len() <= integer_digits {
                out.push_str(&digits);
                out.extend(std::iter::repeat_n('0', integer_digits - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..integer_digits]);
                out.push('.');
                out.push_str(&digits[integer_digits..]);
            }
        } else {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exponent - 1) as usize));
            out.push_str(&digits);
        }
    } else {
        out.push_str(&digits[..1]);
        out.push('.');
        if digits.len() > 1 {
            out.push_str(&digits[1..]);
        } else {
            out.push('0');
        }
        out.push('E');
        out.push_str(&exponent.to_string());
    }
    out
}

/// The decimal digits (no leading or trailing zeros) and exponent (`d.ddd * 10^exponent`) that
/// Java's `Double.toString` picks for a positive finite double: among the shortest decimals
/// that read back as `v`, the closest to `v`, and of two equally close the one with an even
/// last digit.
fn shortest_decimal(v: f64) -> (String, i32) {
    // Rust prints the shortest decimal that reads back as `v`, the closest such one, but breaks
    // an exact tie upward (-1743746592103460.25 prints ...603, Java ...602).
    let (digits, exponent) = split_scientific(&format!("{v:e}"));
    if digits.len() == 1 {
        // Java considers the two-digit decimals too and takes the closest; the correctly
        // rounded two-digit decimal is the closest of them, if it reads back as `v`.
        let two = format!("{v:.1e}");
        if two.parse::<f64>() == Ok(v) {
            let (two_digits, two_exponent) = split_scientific(&two);
            return (two_digits.trim_end_matches('0').to_string(), two_exponent);
        }
        return (digits, exponent);
    }
    let significand: u64 = digits.parse().expect("at most 17 digits");
    if significand % 2 == 1 {
        // `significand * 10^scale` is the printed decimal; its neighbours one unit below and
        // above are as close to `v` when `v` lies exactly halfway.
        let scale = exponent - (digits.len() as i32 - 1);
        for (neighbour, midpoint) in [
            (significand - 1, significand * 10 - 5),
            (significand + 1, significand * 10 + 5),
        ] {
            if !equals_decimal(v, midpoint, scale - 1) {
                continue;
            }
            let neighbour_digits = neighbour.to_string();
            if neighbour_digits.len() == digits.len()
                && format!("{neighbour_digits}e{scale}").parse::<f64>() == Ok(v)
            {
                // Same length, so the same leading position.
                return (neighbour_digits.trim_end_matches('0').to_string(), exponent);
            }
        }
    }
    (digits, exponent)
}

/// Whether the double `v` (positive, finite) is exactly `d * 10^q`.
fn equals_decimal(v: f64, d: u64, q: i32) -> bool {
    // v = m * 2^e exactly.
    let bits = v.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1 << 52) - 1);
    let (m, e) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1 << 52), biased - 1075)
    };
    // Compare m * 2^e with d * 2^q * 5^q. The odd parts must match, and m < 2^53 and
    // d < 2^64 bound the powers of five involved.
    let (lhs, rhs, twos) = if q >= 0 {
        // m * 2^(e - q) == d * 5^q
        if q > 27 {
            return false;
        }
        (u128::from(m), u128::from(d) * 5u128.pow(q as u32), e - q)
    } else {
        // m * 5^-q * 2^(e - q) == d
        if -q > 27 {
            return false;
        }
        (u128::from(m) * 5u128.pow((-q) as u32), u128::from(d), e - q)
    };
    if twos >= 0 {
        shifted_equals(lhs, twos as u32, rhs)
    } else {
        shifted_equals(rhs, (-twos) as u32, lhs)
    }
}

/// Whether `a * 2^shift == b`, for non-zero `a`.
fn shifted_equals(a: u128, shift: u32, b: u128) -> bool {
    shift <= a.leading_zeros() && a << shift == b
}

/// Splits Rust's `{:e}` output (`1.2345e6`) into digits (`12345`) and exponent (`6`).
fn split_scientific(text: &str) -> (String, i32) {
    let (mantissa, exponent) = text.split_once('e').expect("scientific notation");
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    (digits, exponent.parse().expect("exponent"))
}

// ---------------------------------------------------------------------------------------------
// cidrMatch(): org.elasticsearch.common.network.CIDRUtils and InetAddresses.
// ---------------------------------------------------------------------------------------------

/// An IP address as Java's `InetAddress.getAddress()` gives it: 4 bytes for IPv4 (including
/// IPv4-mapped IPv6 text like `::ffff:10.0.0.1`, which Java turns into an IPv4 address), 16 for
/// IPv6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct IpBytes {
    bytes: [u8; 16],
    len: u8,
}

impl IpBytes {
    fn v4(octets: [u8; 4]) -> IpBytes {
        let mut bytes = [0; 16];
        bytes[..4].copy_from_slice(&octets);
        IpBytes { bytes, len: 4 }
    }

    fn v6(bytes: [u8; 16]) -> IpBytes {
        // InetAddress.getByAddress turns ::ffff:a.b.c.d into the IPv4 address a.b.c.d.
        if bytes[..10].iter().all(|&b| b == 0) && bytes[10] == 0xff && bytes[11] == 0xff {
            return IpBytes::v4([bytes[12], bytes[13], bytes[14], bytes[15]]);
        }
        IpBytes { bytes, len: 16 }
    }

    fn as_slice(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// Lucene's 16-byte encoding: IPv4 as ::ffff:a.b.c.d.
    fn encoded(&self) -> [u8; 16] {
        if self.len == 16 {
            return self.bytes;
        }
        let mut out = [0; 16];
        out[10] = 0xff;
        out[11] = 0xff;
        out[12..].copy_from_slice(&self.bytes[..4]);
        out
    }
}

/// Elasticsearch's `InetAddresses.forString`: "'text' is not an IP string literal." unless the
/// text is an IP address.
fn parse_ip(text: &str) -> Result<IpBytes, FunctionError> {
    ip_string_to_bytes(text.as_bytes())
        .ok_or_else(|| invalid(format!("'{text}' is not an IP string literal.")))
}

/// Elasticsearch's `InetAddresses.ipStringToBytes` (server/.../common/network/
/// InetAddresses.java): ASCII only; a `%scope` suffix is ignored (but a bare trailing `%` is
/// invalid); dotted IPv4 with exactly four decimal octets, no leading zeros, each at most 255;
/// IPv6 with hex groups, at most one `::`, an optional dotted IPv4 tail. Java's `int`/`byte`
/// counters wrap on absurdly long digit runs, and so do these.
fn ip_string_to_bytes(text: &[u8]) -> Option<IpBytes> {
    let mut length = text.len();
    let mut last_colon = None;
    let mut has_dot = false;
    for (i, &c) in text.iter().enumerate() {
        if c & 0x80 != 0 {
            return None;
        } else if c == b'.' {
            has_dot = true;
        } else if c == b':' {
            if has_dot {
                return None;
            }
            last_colon = Some(i);
        } else if c == b'%' {
            if i == text.len() - 1 {
                return None;
            }
            length = i;
            break;
        }
    }
    let text = &text[..length];
    match (last_colon, has_dot) {
        (Some(colon), true) => {
            let quad = ipv4_bytes(&text[colon + 1..])?;
            let mut converted = text[..=colon].to_vec();
            push_hex_group(&mut converted, quad[0], quad[1]);
            converted.push(b':');
            push_hex_group(&mut converted, quad[2], quad[3]);
            ipv6_bytes(&converted).map(IpBytes::v6)
        }
        (Some(_), false) => ipv6_bytes(text).map(IpBytes::v6),
        (None, true) => ipv4_bytes(text).map(IpBytes::v4),
        (None, false) => None,
    }
}

fn push_hex_group(out: &mut Vec<u8>, high: u8, low: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for b in [high, low] {
        out.push(HEX[usize::from(b >> 4)]);
        out.push(HEX[usize::from(b & 0xf)]);
    }
}

fn ipv4_bytes(text: &[u8]) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    let mut octet = 0;
    let mut digits: i8 = 0; // a Java byte
    let mut current: i32 = 0; // a Java int
    for &c in text {
        if c == b'.' {
            if octet >= out.len() || digits == 0 || current > 255 {
                return None;
            }
            out[octet] = current as u8;
            octet += 1;
            current = 0;
            digits = 0;
        } else if c.is_ascii_digit() {
            if digits != 0 && current == 0 {
                return None; // leading zero
            }
            current = current.wrapping_mul(10).wrapping_add(i32::from(c - b'0'));
            digits = digits.wrapping_add(1);
        } else {
            return None;
        }
    }
    if octet != out.len() - 1 || digits == 0 || current > 255 {
        return None;
    }
    out[octet] = current as u8;
    Some(out)
}

fn ipv6_bytes(text: &[u8]) -> Option<[u8; 16]> {
    let n = text.len();
    if n < 2 {
        return None;
    }
    if (text[0] == b':' && text[1] != b':') || (text[n - 1] == b':' && text[n - 2] != b':') {
        return None;
    }
    let mut out = [0u8; 16];
    let mut written = 0;
    let mut put = |hextet: i32, written: &mut usize| -> bool {
        if *written + 2 > out.len() || hextet > 0xffff {
            return false;
        }
        out[*written..*written + 2].copy_from_slice(&(hextet as u16).to_be_bytes());
        *written += 2;
        true
    };
    let mut compressed_at: Option<usize> = None;
    let mut hextet_index = 0;
    let mut hextet_start = 0;
    let mut hextet: i32 = 0; // a Java int
    for (i, &c) in text.iter().enumerate() {
        if c == b':' {
            if hextet_start == i {
                if compressed_at.is_some() && i != 1 {
                    return None; // a second "::"
                }
                compressed_at = Some(hextet_index);
            } else {
                if !put(hextet, &mut written) {
                    return None;
                }
                hextet = 0;
                hextet_index += 1;
            }
            hextet_start = i + 1;
        } else if c.is_ascii_hexdigit() {
            hextet = hextet
                .wrapping_mul(16)
                .wrapping_add(i32::from(hex_value(c)));
        } else {
            return None;
        }
    }
    if hextet_start < n {
        if !put(hextet, &mut written) {
            return None;
        }
        hextet_index += 1;
    }
    match compressed_at {
        Some(at) => {
            if hextet_index >= 8 {
                return None;
            }
            let shift = 8 - hextet_index;
            for index in (at..hextet_index).rev() {
                let from = index * 2;
                let to = (index + shift) * 2;
                let group = [out[from], out[from + 1]];
                out[from] = 0;
                out[from + 1] = 0;
                out[to..to + 2].copy_from_slice(&group);
            }
        }
        None if hextet_index != 8 => return None,
        None => {}
    }
    Some(out)
}

/// An IP block for `cidrMatch`: `10.0.0.0/8`, `fd00::/8`, or a single address.
///
/// Matching follows Elasticsearch's `CIDRUtils.isInRange`: an IPv4 address and an IPv6 block
/// (or the reverse) compare in Lucene's 16-byte form, IPv4 as `::ffff:a.b.c.d`, so
/// `127.0.0.1` is inside `::/64` but not inside `fe80::/10`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cidr {
    lower: IpBytes,
    upper: IpBytes,
}

impl Cidr {
    /// Parses a block as Elasticsearch does (`InetAddresses.parseCidr` when the text has a `/`,
    /// `InetAddresses.forString` otherwise), with its error messages:
    /// - "'10.6.12' is not an IP string literal." for a bad address;
    /// - "Expected [ip/prefix] but was [text]" unless Java's `split("/")` (which drops trailing
    ///   empty parts, so `10.0.0.0/8/` is `10.0.0.0/8`) gives exactly two parts;
    /// - `For input string: "x"` for a prefix Java's `Integer.parseInt` rejects;
    /// - "Illegal prefix length [33] in [...]. Must be 0-32 for IPv4 ranges, 0-128 for IPv6
    ///   ranges";
    /// - "CIDR notation is not allowed with IPv6-mapped IPv4 address [...": a prefix after
    ///   IPv4-mapped IPv6 text (`::ffff:10.0.0.0/104`).
    pub fn parse(text: &str) -> Result<Cidr, FunctionError> {
        if !text.contains('/') {
            let address = parse_ip(text)?;
            return Ok(Cidr {
                lower: address,
                upper: address,
            });
        }
        let mut fields: Vec<&str> = text.split('/').collect();
        while fields.last() == Some(&"") {
            fields.pop();
        }
        let [address_text, prefix_text] = fields[..] else {
            return Err(invalid(format!("Expected [ip/prefix] but was [{text}]")));
        };
        let address = parse_ip(address_text)?;
        if address_text.contains(':') && address.len == 4 {
            return Err(invalid(format!(
                "CIDR notation is not allowed with IPv6-mapped IPv4 address [{address_text} as it \
                 introduces ambiguity as to whether the prefix length should be interpreted as a \
                 v4 prefix length or a v6 prefix length"
            )));
        }
        let prefix = java_parse_long(prefix_text, 10)
            .and_then(|p| i32::try_from(p).ok())
            .ok_or_else(|| invalid(format!("For input string: \"{prefix_text}\"")))?;
        let bits = i32::from(address.len) * 8;
        if !(0..=bits).contains(&prefix) {
            return Err(invalid(format!(
                "Illegal prefix length [{prefix}] in [{text}]. Must be 0-32 for IPv4 ranges, \
                 0-128 for IPv6 ranges"
            )));
        }
        let (mut lower, mut upper) = (address, address);
        for bit in prefix as usize..bits as usize {
            let mask = 1u8 << (7 - (bit & 7));
            lower.bytes[bit >> 3] &= !mask;
            upper.bytes[bit >> 3] |= mask;
        }
        Ok(Cidr { lower, upper })
    }

    /// Whether `ip` (text) is an address inside this block; false for text that is not an IP.
    ///
    /// Elasticsearch's script evaluation raises "'x' is not an IP string literal." for such
    /// text instead; see [`Cidr::try_contains`]. (On an `ip` field Elasticsearch runs a terms
    /// query, and a field value is always an IP.)
    pub fn contains(&self, ip: &str) -> bool {
        self.try_contains(ip).unwrap_or(false)
    }

    /// [`Cidr::contains`], with Elasticsearch's error for text that is not an IP address.
    pub fn try_contains(&self, ip: &str) -> Result<bool, FunctionError> {
        let address = parse_ip(ip)?;
        Ok(self.contains_address(&address))
    }

    fn contains_address(&self, address: &IpBytes) -> bool {
        if address.len == self.lower.len {
            let a = address.as_slice();
            self.lower.as_slice() <= a && a <= self.upper.as_slice()
        } else {
            let a = address.encoded();
            self.lower.encoded() <= a && a <= self.upper.encoded()
        }
    }
}

#[cfg(test)]
// 3.14 is Elasticsearch's test value, not an approximation of pi; the exact binary values of
// some doubles are spelled out in full on purpose.
#[allow(clippy::approx_constant, clippy::excessive_precision)]
mod tests {
    //! Cases marked "ES test" come from Elasticsearch's unit tests for the processor concerned
    //! (x-pack/plugin/eql/src/test/java/org/elasticsearch/xpack/eql/expression/function/
    //! scalar/...), "ES docs" from docs/reference/eql/functions.asciidoc, "ES qa" from
    //! x-pack/plugin/eql/qa/common/src/main/resources/additional_test_queries.toml, and "Java"
    //! from the JDK behaviour the processor relies on (checked against a JDK).

    use super::*;

    fn int(i: i64) -> Number {
        Number::Integer(i)
    }

    fn float(f: f64) -> Number {
        Number::Float(f)
    }

    fn err(message: &str) -> FunctionError {
        FunctionError::Invalid(message.to_string())
    }

    type Arith = fn(Number, Number) -> Result<Option<Number>, FunctionError>;

    #[test]
    fn arithmetic_follows_ql_arithmetics() {
        let cases: &[(&str, Arith, Number, Number, Number)] = &[
            // ES docs: add
            ("add", add, int(4), int(5), int(9)),
            ("add", add, int(4), float(0.5), float(4.5)),
            ("add", add, float(0.5), float(0.25), float(0.75)),
            ("add", add, int(4), int(-2), int(2)),
            ("add", add, int(-2), int(-2), int(-4)),
            // ES docs: subtract
            ("subtract", subtract, int(10), int(2), int(8)),
            ("subtract", subtract, float(10.5), float(0.5), float(10.0)),
            ("subtract", subtract, int(1), float(0.2), float(0.8)),
            ("subtract", subtract, int(10), float(0.5), float(9.5)),
            // ES docs: multiply
            ("multiply", multiply, int(2), int(2), int(4)),
            ("multiply", multiply, float(0.5), int(2), float(1.0)),
            ("multiply", multiply, float(0.25), int(2), float(0.5)),
            ("multiply", multiply, int(-2), int(-2), int(4)),
            // ES docs: divide (integer division truncates)
            ("divide", divide, int(4), int(2), int(2)),
            ("divide", divide, int(4), int(3), int(1)),
            ("divide", divide, int(4), float(3.0), float(4.0 / 3.0)),
            ("divide", divide, int(4), float(0.5), float(8.0)),
            ("divide", divide, float(0.5), int(4), float(0.125)),
            ("divide", divide, float(0.5), float(0.25), float(2.0)),
            ("divide", divide, int(4), int(-2), int(-2)),
            ("divide", divide, int(-4), int(-2), int(2)),
            ("divide", divide, int(12), int(4), int(3)),
            // ES qa additionalMathWithFields1: serial_event_id / 2 == 41 for ids 82 and 83
            ("divide", divide, int(83), int(2), int(41)),
            // Java: `/` truncates toward zero
            ("divide", divide, int(-5), int(2), int(-2)),
            ("divide", divide, int(i64::MIN), int(-1), int(i64::MIN)),
            // Java: float division by zero is IEEE
            ("divide", divide, float(1.0), int(0), float(f64::INFINITY)),
            (
                "divide",
                divide,
                int(-1),
                float(0.0),
                float(f64::NEG_INFINITY),
            ),
            // ES docs: modulo
            ("modulo", modulo, int(10), int(6), int(4)),
            ("modulo", modulo, int(10), int(5), int(0)),
            ("modulo", modulo, int(10), float(0.5), float(0.0)),
            ("modulo", modulo, int(10), int(-6), int(4)),
            ("modulo", modulo, int(-10), int(-6), int(-4)),
            ("modulo", modulo, int(106), int(10), int(6)),
            // ES qa moduloEqualsField: modulo(11, 10) == 1
            ("modulo", modulo, int(11), int(10), int(1)),
            // Java: remainder takes the dividend's sign
            ("modulo", modulo, int(-10), int(6), int(-4)),
            ("modulo", modulo, float(-7.5), int(2), float(-1.5)),
            ("modulo", modulo, int(i64::MIN), int(-1), int(0)),
            // Java: (double) of a long rounds to nearest
            (
                "add",
                add,
                int(9_007_199_254_740_993),
                float(0.0),
                float(9_007_199_254_740_992.0),
            ),
        ];
        for (name, f, a, b, expected) in cases {
            assert_eq!(f(*a, *b), Ok(Some(*expected)), "{name}({a:?}, {b:?})");
        }
    }

    #[test]
    fn float_division_and_remainder_by_zero_are_nan() {
        for f in [divide as Arith, modulo] {
            match f(float(0.0), int(0)) {
                Ok(Some(Number::Float(x))) => assert!(x.is_nan()),
                other => panic!("{other:?}"),
            }
        }
        match modulo(int(1), float(0.0)) {
            Ok(Some(Number::Float(x))) => assert!(x.is_nan()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn integer_overflow_and_division_by_zero_are_errors() {
        // Java: Math.addExact & co throw "long overflow"; integer `/` and `%` throw "/ by zero".
        let cases: &[(&str, Arith, Number, Number, &str)] = &[
            ("add", add, int(i64::MAX), int(1), "long overflow"),
            ("add", add, int(i64::MIN), int(-1), "long overflow"),
            ("subtract", subtract, int(i64::MIN), int(1), "long overflow"),
            ("subtract", subtract, int(0), int(i64::MIN), "long overflow"),
            ("multiply", multiply, int(i64::MAX), int(2), "long overflow"),
            (
                "multiply",
                multiply,
                int(i64::MIN),
                int(-1),
                "long overflow",
            ),
            ("divide", divide, int(1), int(0), "/ by zero"),
            ("divide", divide, int(0), int(0), "/ by zero"),
            ("modulo", modulo, int(1), int(0), "/ by zero"),
        ];
        for (name, f, a, b, message) in cases {
            assert_eq!(f(*a, *b), Err(err(message)), "{name}({a:?}, {b:?})");
        }
        // Floats never overflow into an error.
        assert_eq!(
            multiply(float(f64::MAX), int(2)),
            Ok(Some(float(f64::INFINITY)))
        );
    }

    #[test]
    fn between_follows_es() {
        let cases: &[(&str, &str, &str, bool, &str)] = &[
            // ES test BetweenUtilsTests.testBasicEQLExamples (its last argument there is
            // `caseSensitive = false`, so its "System Idle Process" cases are in the
            // case-insensitive test below)
            ("welcome to event query language", " ", " ", false, "to"),
            (
                "welcome to event query language",
                " ",
                " ",
                true,
                "to event query",
            ),
            // case-sensitive: the first "s" is the one in "System"
            ("System Idle Process", "s", "e", true, "tem Idle Proc"),
            ("System Idle Process", "s", "e", false, "t"),
            (
                "C:\\workspace\\dev\\TestLogs\\something.json",
                "dev",
                ".json",
                false,
                "\\TestLogs\\something",
            ),
            (
                "C:\\workspace\\dev\\TestLogs\\something.json",
                "dev",
                ".json",
                true,
                "\\TestLogs\\something",
            ),
            // ES docs (file.path = C:\Windows\System32\cmd.exe)
            (
                "C:\\Windows\\System32\\cmd.exe",
                "System32\\",
                ".exe",
                false,
                "cmd",
            ),
            (
                "C:\\Windows\\System32\\cmd.exe",
                "workspace\\",
                ".exe",
                false,
                "",
            ),
            (
                "C:\\Windows\\System32\\cmd.exe",
                "\\",
                "\\",
                false,
                "Windows",
            ),
            (
                "C:\\Windows\\System32\\cmd.exe",
                "\\",
                "\\",
                true,
                "Windows\\System32",
            ),
            ("", "system32\\", ".exe", false, ""),
            ("", "", "", false, ""),
            // ES test testEmptyNullLeftRight: an empty left or right returns the source
            ("abcdef", "", "d", false, "abcdef"),
            ("abcdef", "b", "", true, "abcdef"),
            // right missing after left: ""
            ("abcdef", "b", "x", false, ""),
            ("abcdef", "b", "x", true, ""),
            // non-greedy searches right after left; greedy takes the last right anywhere
            ("a-b-c-d", "-", "-", false, "b"),
            ("a-b-c-d", "-", "-", true, "b-c"),
            ("xaax", "a", "a", false, ""),
            // matching is case-sensitive by default
            ("System Idle Process", "S", "E", false, ""),
            // UTF-16 doesn't matter when nothing is cut mid-pair
            ("a😀b😀c", "😀", "😀", false, "b"),
        ];
        for (source, left, right, greedy, expected) in cases {
            assert_eq!(
                between(source, left, right, *greedy, false),
                *expected,
                "between({source:?}, {left:?}, {right:?}, {greedy})"
            );
        }
    }

    #[test]
    fn between_case_insensitive_cuts_the_original() {
        let cases: &[(&str, &str, &str, bool, &str)] = &[
            // ES test BetweenUtilsTests.testBasicEQLExamples
            ("System Idle Process", "s", "e", true, "ystem Idle Proc"),
            ("System Idle Process", "s", "e", false, "yst"),
            ("System Idle Process", "S", "E", false, "yst"),
            (
                "welcome to event query language",
                " ",
                " ",
                true,
                "to event query",
            ),
            (
                "C:\\WINDOWS\\system32\\CMD.exe",
                "System32\\",
                ".EXE",
                false,
                "CMD",
            ),
            ("ÄbcÖ", "ä", "ö", false, "bc"),
        ];
        for (source, left, right, greedy, expected) in cases {
            assert_eq!(
                between(source, left, right, *greedy, true),
                *expected,
                "between~({source:?}, {left:?}, {right:?}, {greedy})"
            );
        }
        // Java: "İ".toLowerCase(ROOT) is two chars, so positions found in the lowercased text
        // shift by one when applied to the original: "i̇ab-c-" finds "a" at 2 and "-" at 4,
        // and "İab-c-".substring(3, 4) is "-" (checked against a JDK).
        assert_eq!(between("İab-c-", "a", "-", false, true), "-");
        assert_eq!(
            between_checked("İa-", "a", "-", false, true),
            Ok(String::new())
        );
    }

    #[test]
    fn between_errors_where_java_substring_throws() {
        // Greedy: the last right ends before the first left ends. Java's
        // "ab".substring(...) throws StringIndexOutOfBoundsException.
        assert_eq!(
            between_checked("a-b", "b", "-", true, false),
            Err(err("Range [3, 1) out of bounds for length 3"))
        );
        assert_eq!(
            between_checked("ab", "a", "a", true, false),
            Err(err("Range [1, 0) out of bounds for length 2"))
        );
        assert_eq!(between("a-b", "b", "-", true, false), "");
        // Case-insensitive, with lowercasing lengthening the text past the original's end.
        assert_eq!(
            between_checked("İİa-", "a", "-", false, true),
            Err(err("Range [5, 5) out of bounds for length 4"))
        );
    }

    #[test]
    fn starts_ends_contains() {
        // ES docs
        assert!(ends_with("regsvr32.exe", ".exe", false));
        assert!(!ends_with("regsvr32.exe", ".dll", false));
        assert!(ends_with("", "", false));
        assert!(!ends_with("ntdll.dll", "regsvr32.exe", false));
        assert!(starts_with("regsvr32.exe", "regsvr32", false));
        assert!(!starts_with("regsvr32.exe", "explorer", false));
        assert!(starts_with("", "", false));
        assert!(string_contains("start regsvr32.exe", "regsvr32", false));
        assert!(string_contains("start regsvr32.exe", "start ", false));
        assert!(!string_contains("start regsvr32.exe", "explorer", false));
        assert!(string_contains("start regsvr32.exe", "regsvr32.exe", false));
        // ES docs: empty strings never "contain"
        assert!(!string_contains("", "", false));
        assert!(!string_contains("start regsvr32.exe", "", false));
        assert!(!string_contains("", "", true));
        // case-sensitive by default
        assert!(!starts_with("Regsvr32.exe", "regsvr32", false));
        assert!(!ends_with("regsvr32.EXE", ".exe", false));
        assert!(!string_contains("START", "tar", false));
        // case-insensitive: both sides lowercased
        assert!(starts_with("Regsvr32.exe", "REGSVR", true));
        assert!(ends_with("regsvr32.EXE", ".Exe", true));
        assert!(string_contains("START", "tar", true));
        assert!(string_contains("ÄÖÜ", "öü", true));
        assert!(!string_contains("ÄÖÜ", "öü", false));
        // Java lowercases each side separately, so a final sigma differs from a lone one:
        // "ΑΣ" -> "ας" does not end with "Σ" -> "σ".
        assert!(!ends_with("ΑΣ", "Σ", true));
        assert!(ends_with("ΑΣ", "ς", true));
    }

    #[test]
    fn index_of_case_sensitive() {
        // ES test IndexOfFunctionProcessorTests.testIndexOfFunctionWithValidInputSensitive
        let cases: &[(&str, &str, Option<i64>, Option<i64>)] = &[
            ("foobarbar", "r", None, Some(5)),
            ("foobaRbar", "r", None, Some(8)),
            ("foobARbar", "AR", None, Some(4)),
            ("foobar", "foo", None, Some(0)),
            ("foo", "foobar", None, None),
            ("foo", "foo", None, Some(0)),
            ("foo", "oO", None, None),
            ("foo", "FOo", None, None),
            ("f", "f", None, Some(0)),
            ("", "bar", Some(1), None),
            ("foobarbar", "R", Some(5), None),
            ("foobar", "O", Some(2), None),
            ("foobar", "O", Some(3), None),
            ("foobarbaz", "ba", Some(4), Some(6)),
            ("bar", "bar", None, Some(0)),
            // ES docs (url.domain = subdomain.example.com)
            ("subdomain.example.com", ".", None, Some(9)),
            ("subdomain.example.com", ".", Some(9), Some(9)),
            ("subdomain.example.com", ".", Some(10), Some(17)),
            ("subdomain.example.com", ".", Some(-6), Some(9)),
            ("", "", None, Some(0)),
            ("subdomain.example.com", "", None, Some(0)),
            ("subdomain.example.com", "", Some(9), Some(9)),
            ("subdomain.example.com", "", Some(10), Some(10)),
            ("subdomain.example.com", "", Some(-6), Some(0)),
            ("subdomain.example.com", "z", None, None),
            ("subdomain.example.com", "z", Some(9), None),
            ("subdomain.example.com", ".", Some(30), None),
            // Java: an empty substring from the end or beyond is found at the length
            ("subdomain.example.com", "", Some(30), Some(21)),
            ("abc", "", Some(3), Some(3)),
            ("abc", "c", Some(3), None),
            // Number.intValue(): a long start keeps its low 32 bits (2^32 + 1 -> 1)
            ("aXbX", "X", Some(4_294_967_297), Some(1)),
            ("aXbX", "X", Some(4_294_967_298), Some(3)),
        ];
        for (source, sub, start, expected) in cases {
            assert_eq!(
                index_of(source, sub, *start, false),
                *expected,
                "indexOf({source:?}, {sub:?}, {start:?})"
            );
        }
    }

    #[test]
    fn index_of_case_insensitive() {
        // ES test IndexOfFunctionProcessorTests.testIndexOfFunctionWithValidInputInsensitive
        let cases: &[(&str, &str, Option<i64>, Option<i64>)] = &[
            ("foobarbar", "r", None, Some(5)),
            ("foobaRbar", "r", None, Some(5)),
            ("foobar", "Foo", None, Some(0)),
            ("foo", "foobar", None, None),
            ("foo", "foo", None, Some(0)),
            ("foo", "oO", None, Some(1)),
            ("foo", "FOo", None, Some(0)),
            ("f", "f", None, Some(0)),
            ("", "bar", Some(1), None),
            ("foobarbar", "R", Some(5), Some(5)),
            ("foobar", "O", Some(2), Some(2)),
            ("foobar", "O", Some(3), None),
            ("foobarbaz", "ba", Some(4), Some(6)),
            ("bar", "bar", None, Some(0)),
            // positions are those of the lowercased source: "İ" lowercases to two chars
            ("İx", "x", None, Some(2)),
            ("ÄX", "x", None, Some(1)),
        ];
        for (source, sub, start, expected) in cases {
            assert_eq!(
                index_of(source, sub, *start, true),
                *expected,
                "indexOf~({source:?}, {sub:?}, {start:?})"
            );
        }
    }

    #[test]
    fn positions_count_utf16_units() {
        // Java: "a😀b".length() is 4 and indexOf("b") is 3.
        assert_eq!(length("a😀b"), 4);
        assert_eq!(index_of("a😀b", "b", None, false), Some(3));
        assert_eq!(index_of("a😀b", "😀", None, false), Some(1));
        assert_eq!(index_of("a😀b😀", "😀", Some(2), false), Some(4));
        // a start inside the pair: the pair itself cannot match there
        assert_eq!(index_of("a😀b", "😀", Some(2), false), None);
        assert_eq!(index_of("a😀b", "", Some(2), false), Some(2));
        assert_eq!(index_of("é😀b", "b", Some(1), true), Some(3));
        assert_eq!(substring("a😀b", 1, Some(3)), "😀");
        assert_eq!(substring("a😀b", 3, None), "b");
        assert_eq!(substring("a😀b", -1, None), "b");
        // Java leaves a lone surrogate; a Rust string holds U+FFFD instead.
        assert_eq!(substring("a😀b", 0, Some(2)), "a\u{FFFD}");
        assert_eq!(substring("a😀b", 2, None), "\u{FFFD}b");
        assert_eq!(between("a😀b", "a", "b", false, false), "😀");
        assert_eq!(between("Ä😀B", "ä", "b", false, true), "😀");
    }

    #[test]
    fn length_counts_java_chars() {
        // ES docs
        assert_eq!(length("explorer.exe"), 12);
        assert_eq!(length("start explorer.exe"), 18);
        assert_eq!(length(""), 0);
        // Java: BMP characters count 1 whatever their UTF-8 size
        assert_eq!(length("é"), 1);
        assert_eq!(length("日本"), 2);
        assert_eq!(length("😀😀"), 4);
    }

    #[test]
    fn substring_slices_like_python() {
        // ES docs
        let s = "start regsvr32.exe";
        assert_eq!(substring(s, 6, None), "regsvr32.exe");
        assert_eq!(substring(s, 0, Some(5)), "start");
        assert_eq!(substring(s, 6, Some(14)), "regsvr32");
        assert_eq!(substring(s, -4, None), ".exe");
        assert_eq!(substring(s, -4, Some(-1)), ".ex");
        // ES test StringUtilsTests (str of length 10)
        let s = "abcdefghij";
        let cases: &[(i64, Option<i64>, &str)] = &[
            (1, Some(7), "bcdefg"),       // testSubstringSlicePositive
            (-5, Some(-1), "fghi"),       // testSubstringSliceNegative
            (-15, Some(-11), ""),         // testSubstringSliceNegativeOverLength
            (11, Some(14), ""),           // testSubstringSlicePositiveOverLength
            (-20, Some(-11), ""),         // testSubstringHigherEndThanStartNegative
            (-15, Some(-1), "abcdefghi"), // testStartNegativeHigherThanLength
            (0, Some(15), "abcdefghij"),  // testEndHigherThanLength
            (3, Some(3), ""),             // testSubstringRandomSliceSameStartEnd
            (-3, Some(-3), ""),
            (7, Some(2), ""), // start after end
            (10, None, ""),
            (-100, None, "abcdefghij"),
            (0, Some(-100), ""),
            // Number.intValue(): 2^32 + 2 -> 2
            (4_294_967_298, None, "cdefghij"),
        ];
        for (start, end, expected) in cases {
            assert_eq!(
                substring(s, *start, *end),
                *expected,
                "substring({s:?}, {start}, {end:?})"
            );
        }
        assert_eq!(substring("", -3, Some(5)), "");
    }

    #[test]
    fn number_parses_like_es() {
        let cases: &[(&str, Option<i64>, Number)] = &[
            // ES docs
            ("1337", None, int(1337)),
            ("42.5", None, float(42.5)),
            ("deadbeef", Some(16), int(3_735_928_559)),
            ("0xdeadbeef", None, int(3_735_928_559)),
            ("0xdeadbeef", Some(16), int(3_735_928_559)),
            ("+1337", None, int(1337)),
            ("-1337", None, int(-1337)),
            ("1337", Some(10), int(1337)),
            // ES docs says "surrounding whitespace is ignored": Long.valueOf fails on it, and
            // Double.valueOf trims, so the result is the float 1337.0.
            ("  1337  ", None, float(1337.0)),
            // ES qa numberStringEquality / numberStringConversion5
            ("31", Some(13), int(40)),
            ("11", Some(16), int(17)),
            ("17", Some(10), int(17)),
            // ES test (toNumberWithNegativeInteger, ...): signs in other bases
            ("-17", Some(8), int(-15)),
            ("-ff", Some(16), int(-255)),
            ("777", Some(8), int(511)),
            ("z", Some(36), int(35)),
            ("101", Some(2), int(5)),
            // Long range, and beyond it the Double.valueOf fallback
            ("9223372036854775807", None, int(i64::MAX)),
            ("-9223372036854775808", None, int(i64::MIN)),
            ("9223372036854775808", None, float(9.223_372_036_854_776e18)),
            ("7fffffffffffffff", Some(16), int(i64::MAX)),
            ("-8000000000000000", Some(16), int(i64::MIN)),
            // Double.valueOf grammar (Java)
            ("1e3", None, float(1000.0)),
            ("-2.5E-1", None, float(-0.25)),
            ("1.", None, float(1.0)),
            (".5", None, float(0.5)),
            ("1.e2", None, float(100.0)),
            ("1.5f", None, float(1.5)),
            ("1d", None, float(1.0)),
            ("Infinity", None, float(f64::INFINITY)),
            ("-Infinity", None, float(f64::NEG_INFINITY)),
            ("\t12\n", None, float(12.0)),
            ("-0", None, int(0)),
            ("1e400", None, float(f64::INFINITY)),
            // hex floats: reachable with base 10, or a prefix that is not exactly "0x"
            ("0x1p3", Some(10), float(8.0)),
            ("0X1P4", None, float(16.0)),
            ("-0x1p3", None, float(-8.0)),
            (" 0x1.8p1", None, float(3.0)),
            ("0x.8p1", Some(10), float(1.0)),
            ("0x1p-1074", Some(10), float(5e-324)),
            ("0x1p-1075", Some(10), float(0.0)),
            ("0x1.8p-1074", Some(10), float(1e-323)),
            ("0x1.00000000000008p0", Some(10), float(1.0)),
            (
                "0x1.000000000000081p0",
                Some(10),
                float(1.000_000_000_000_000_2),
            ),
            ("0x1.fffffffffffff8p1023", Some(10), float(f64::INFINITY)),
            ("0x1.fffffffffffffp1023", Some(10), float(f64::MAX)),
            ("0x0p99999999999", Some(10), float(f64::INFINITY)),
            ("0x1p-99999999999", Some(10), float(0.0)),
            // Java's Character.digit: other decimal digits, fullwidth letters
            ("١٢", None, int(12)),
            ("١٢", Some(8), int(10)),
            ("ＦＦ", Some(16), int(255)),
            ("０ｘ", Some(36), int(33)),
        ];
        for (text, base, expected) in cases {
            assert_eq!(
                number(text, *base),
                Ok(Some(*expected)),
                "number({text:?}, {base:?})"
            );
        }
        match number("NaN", None) {
            Ok(Some(Number::Float(x))) => assert!(x.is_nan()),
            other => panic!("{other:?}"),
        }
        match number("-0.0", None) {
            Ok(Some(Number::Float(x))) => assert!(x == 0.0 && x.is_sign_negative()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn number_errors_like_es() {
        let cases: &[(&str, Option<i64>, &str)] = &[
            // ES test ToNumberFunctionProcessorTests.testInvalidSourceString
            ("", None, "Unable to convert [] to number of base [10]"),
            ("", Some(16), "Unable to convert [] to number of base [16]"),
            (
                "foo",
                None,
                "Unable to convert [foo] to number of base [10]",
            ),
            (
                "foo",
                Some(16),
                "Unable to convert [foo] to number of base [16]",
            ),
            (
                "1.2.3.4",
                Some(10),
                "Unable to convert [1.2.3.4] to number of base [10]",
            ),
            (
                "1.2.3.4",
                Some(16),
                "Unable to convert [1.2.3.4] to number of base [16]",
            ),
            // ES test testNegativeBase16: the 0x prefix is only dropped at the very start
            (
                "-0x1",
                Some(16),
                "Unable to convert [-0x1] to number of base [16]",
            ),
            // ES test toNumberWithUnsupportedDoubleBase: fractions are base 10 only
            (
                "1.0",
                Some(7),
                "Unable to convert [1.0] to number of base [7]",
            ),
            (
                "1.0",
                Some(8),
                "Unable to convert [1.0] to number of base [8]",
            ),
            (
                "1.0",
                Some(16),
                "Unable to convert [1.0] to number of base [16]",
            ),
            // ES test toNumberWithLocales: no grouping separators
            (
                "1,000",
                Some(7),
                "Unable to convert [1,000] to number of base [7]",
            ),
            (
                "1,000",
                None,
                "Unable to convert [1,000] to number of base [10]",
            ),
            // the message shows the text after the dropped "0x"
            ("0x", None, "Unable to convert [] to number of base [16]"),
            (
                "0xfg",
                None,
                "Unable to convert [fg] to number of base [16]",
            ),
            (
                "0x10",
                Some(10),
                "Unable to convert [0x10] to number of base [10]",
            ),
            (
                "0x10",
                Some(8),
                "Unable to convert [0x10] to number of base [8]",
            ),
            // Java grammar details
            ("+", None, "Unable to convert [+] to number of base [10]"),
            ("-", None, "Unable to convert [-] to number of base [10]"),
            (".", None, "Unable to convert [.] to number of base [10]"),
            ("1e", None, "Unable to convert [1e] to number of base [10]"),
            (
                "1e+",
                None,
                "Unable to convert [1e+] to number of base [10]",
            ),
            (
                "1fd",
                None,
                "Unable to convert [1fd] to number of base [10]",
            ),
            (
                "nan",
                None,
                "Unable to convert [nan] to number of base [10]",
            ),
            (
                "inf",
                None,
                "Unable to convert [inf] to number of base [10]",
            ),
            (
                "NaNd",
                None,
                "Unable to convert [NaNd] to number of base [10]",
            ),
            (
                "+-1",
                None,
                "Unable to convert [+-1] to number of base [10]",
            ),
            (
                "1_000",
                None,
                "Unable to convert [1_000] to number of base [10]",
            ),
            (
                "0x1",
                Some(10),
                "Unable to convert [0x1] to number of base [10]",
            ),
            (
                "١.٥",
                None,
                "Unable to convert [١.٥] to number of base [10]",
            ),
            (
                " 12",
                Some(8),
                "Unable to convert [ 12] to number of base [8]",
            ),
            ("9", Some(8), "Unable to convert [9] to number of base [8]"),
            (
                "8000000000000000",
                Some(16),
                "Unable to convert [8000000000000000] to number of base [16]",
            ),
            // Long.parseLong rejects radixes outside 2..=36
            ("1", Some(1), "Unable to convert [1] to number of base [1]"),
            (
                "1",
                Some(37),
                "Unable to convert [1] to number of base [37]",
            ),
            ("1", Some(0), "Unable to convert [1] to number of base [0]"),
            (
                "1",
                Some(-16),
                "Unable to convert [1] to number of base [-16]",
            ),
            // ES test testInvalidBase: the base must be a Java int
            (
                "1",
                Some(4_294_967_306),
                "An integer base is required; received [4294967306]",
            ),
        ];
        for (text, base, message) in cases {
            assert_eq!(
                number(text, *base),
                Err(err(message)),
                "number({text:?}, {base:?})"
            );
        }
    }

    #[test]
    fn to_string_follows_java_to_string() {
        let cases: &[(ValueRef<'_>, Option<&str>)] = &[
            // ES docs
            (ValueRef::Integer(42), Some("42")),
            (ValueRef::Float(42.5), Some("42.5")),
            (ValueRef::String("regsvr32.exe"), Some("regsvr32.exe")),
            (ValueRef::Bool(true), Some("true")),
            (ValueRef::Null, None),
            // ES test ToStringFunctionProcessorTests: Java's toString of 123, 1234L, 123.456
            (ValueRef::Integer(123), Some("123")),
            (ValueRef::Integer(1234), Some("1234")),
            (ValueRef::Float(123.456), Some("123.456")),
            (ValueRef::Bool(false), Some("false")),
            (ValueRef::Integer(-7), Some("-7")),
            (ValueRef::Integer(i64::MIN), Some("-9223372036854775808")),
            (ValueRef::Float(1.0), Some("1.0")),
            (ValueRef::Float(1e20), Some("1.0E20")),
            (ValueRef::String(""), Some("")),
        ];
        for (value, expected) in cases {
            assert_eq!(to_string(*value).as_deref(), *expected, "string({value:?})");
        }
    }

    #[test]
    fn to_string_of_an_array_is_its_first_doc_value() {
        let numbers = [Value::Integer(3), Value::Float(1.5), Value::Integer(2)];
        assert_eq!(to_string(ValueRef::Array(&numbers)).as_deref(), Some("1.5"));
        let strings = [
            Value::String("b".into()),
            Value::String("B".into()),
            Value::String("a".into()),
        ];
        assert_eq!(to_string(ValueRef::Array(&strings)).as_deref(), Some("B"));
        let bools = [Value::Bool(true), Value::Bool(false)];
        assert_eq!(to_string(ValueRef::Array(&bools)).as_deref(), Some("false"));
        let nested = [
            Value::Null,
            Value::Array(vec![Value::Integer(5), Value::Integer(-1)]),
            Value::Integer(0),
        ];
        assert_eq!(to_string(ValueRef::Array(&nested)).as_deref(), Some("-1"));
        let empty = [Value::Null];
        assert_eq!(to_string(ValueRef::Array(&empty)), None);
    }

    #[test]
    fn java_double_to_string_cases() {
        // Java (Double.toString; the JDK 19+ algorithm where noted)
        let cases: &[(f64, &str)] = &[
            (1.0, "1.0"),
            (-1.0, "-1.0"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1e20, "1.0E20"),
            (42.5, "42.5"),
            (3.14, "3.14"),
            (100.0, "100.0"),
            (0.001, "0.001"),
            (0.0001, "1.0E-4"),
            (1e-5, "1.0E-5"),
            (1e7, "1.0E7"),
            (9_999_999.0, "9999999.0"),
            (1_234_567.0, "1234567.0"),
            (12_345_678.9, "1.23456789E7"),
            (123_456_789.0, "1.23456789E8"),
            (0.1 + 0.2, "0.30000000000000004"),
            (0.3, "0.3"),
            (f64::MAX, "1.7976931348623157E308"),
            (f64::MIN_POSITIVE, "2.2250738585072014E-308"),
            (5e-324, "4.9E-324"),
            (2e-323, "2.0E-323"),
            (-1.5e-7, "-1.5E-7"),
            (9_007_199_254_740_993.0, "9.007199254740992E15"),
            // JDK 19+: shortest decimal (JDK 17 printed 9.999999999999999E22)
            (1e23, "1.0E23"),
            // JDK 19+: a closer two-digit decimal beats the one-digit shortest
            (1e-323, "9.9E-324"),
            // JDK 19+: of two equally close shortest decimals, the even one (checked on JDK 25;
            // Rust's own shortest printing rounds these ties up)
            (-1_743_746_592_103_460.25, "-1.7437465921034602E15"),
            (145_360_241_606_786.125, "1.4536024160678612E14"),
            (106_779_538_212_252.625, "1.0677953821225262E14"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
        ];
        for (value, expected) in cases {
            assert_eq!(java_double_to_string(*value), *expected, "{value:e}");
        }
    }

    #[test]
    fn concat_follows_es() {
        use ValueRef::*;
        // ES test ConcatFunctionProcessorTests.testConcat
        assert_eq!(concat(&[]).as_deref(), Some(""));
        assert_eq!(concat(&[Null]), None);
        assert_eq!(concat(&[String("foo")]).as_deref(), Some("foo"));
        assert_eq!(concat(&[Bool(true)]).as_deref(), Some("true"));
        assert_eq!(concat(&[Float(3.14)]).as_deref(), Some("3.14"));
        assert_eq!(
            concat(&[
                String("foo"),
                String("::"),
                String("bar"),
                String("::"),
                String("baz")
            ])
            .as_deref(),
            Some("foo::bar::baz")
        );
        assert_eq!(
            concat(&[
                String("foo"),
                String("::"),
                Null,
                String("::"),
                String("baz")
            ]),
            None
        );
        assert_eq!(
            concat(&[
                String("foo"),
                String("::"),
                Float(1.0),
                String("::"),
                String("baz")
            ])
            .as_deref(),
            Some("foo::1.0::baz")
        );
        // ES docs
        assert_eq!(
            concat(&[String("regsvr32.exe"), String(" "), Integer(42)]).as_deref(),
            Some("regsvr32.exe 42")
        );
        assert_eq!(
            concat(&[String("regsvr32.exe"), String(" "), Float(42.5)]).as_deref(),
            Some("regsvr32.exe 42.5")
        );
        // ES qa concatEquals1
        assert_eq!(
            concat(&[
                Integer(5),
                String("::"),
                String("wininit.exe"),
                String("::"),
                Integer(3)
            ])
            .as_deref(),
            Some("5::wininit.exe::3")
        );
        assert_eq!(concat(&[String("a"), Null, Null]), None);
    }

    fn in_range(ip: &str, blocks: &[&str]) -> bool {
        blocks
            .iter()
            .any(|b| Cidr::parse(b).expect(b).try_contains(ip).expect(ip))
    }

    #[test]
    fn cidr_match_follows_es() {
        // ES test CIDRUtilsTests.testCIDRUtils
        let cases: &[(&str, &[&str], bool)] = &[
            ("10.6.48.157", &[], false),
            ("10.6.48.157", &["10.6.48.157/8"], true),
            ("10.6.48.157", &["192.168.0.0/16"], false),
            ("10.6.48.157", &["192.168.0.0/16", "10.6.48.157/8"], true),
            ("10.6.48.157", &["0.0.0.0/0"], true),
            ("10.6.48.157", &["0.0.0.0"], false),
            ("192.168.2.1", &["192.168.2.1"], true),
            ("192.168.2.1", &["192.168.2.0/32"], false),
            ("192.168.2.5", &["192.168.2.0/24"], true),
            ("92.168.2.1", &["fe80:0:0:0:0:0:c0a8:1/120"], false),
            (
                "fe80:0:0:0:0:0:c0a8:11",
                &["fe80:0:0:0:0:0:c0a8:1/120"],
                true,
            ),
            (
                "fe80:0:0:0:0:0:c0a8:11",
                &["fe80:0:0:0:0:0:c0a8:1/128"],
                false,
            ),
            ("fe80:0:0:0:0:0:c0a8:11", &["192.168.2.0/32"], false),
            (
                "2001:db8:3c0d:5b6d:0:0:42:8329",
                &["2001:db8:3c0d:5b6d:0:0:42:8329/58"],
                true,
            ),
            (
                "2001:db8:3c0d:5b40::",
                &["2001:db8:3c0d:5b6d:0:0:42:8329/58"],
                true,
            ),
            (
                "2001:db8:3c0d:5b7f:ffff:ffff:ffff:ffff",
                &["2001:db8:3c0d:5b6d:0:0:42:8329/58"],
                true,
            ),
            (
                "2001:db8:3c0d:5b53:0:0:0:1",
                &["2001:db8:3c0d:5b6d:0:0:42:8329/58"],
                true,
            ),
            (
                "2001:db8:3c0d:5b3f:ffff:ffff:ffff:ffff",
                &["2001:db8:3c0d:5b6d:0:0:42:8329/58"],
                false,
            ),
            (
                "2001:db8:3c0d:5b80::",
                &["2001:db8:3c0d:5b6d:0:0:42:8329/58"],
                false,
            ),
            (
                "2001:db8:3c0d:5b6d:0:0:42:8329",
                &["2001:db8:3c0d:5b6d:0:0:42:8329/128"],
                true,
            ),
            ("2001:db8:3c0d:5b6d:0:0:42:8329", &["192.168.2.0/32"], false),
            ("127.0.0.1", &["127.0.0.1/8"], true),
            // IPv4 against an IPv6 block compares as ::ffff:127.0.0.1
            ("127.0.0.1", &["::1/64"], true),
            // ES docs (source.address = 192.168.152.12)
            ("192.168.152.12", &["192.168.0.0/16"], true),
            ("192.168.152.12", &["192.168.0.0/16", "10.0.0.0/8"], true),
            ("192.168.152.12", &["10.0.0.0/8"], false),
            ("192.168.152.12", &["10.0.0.0/8", "10.128.0.0/9"], false),
            // IPv4-mapped IPv6 text is an IPv4 address (Java's InetAddress)
            ("::ffff:10.1.2.3", &["10.0.0.0/8"], true),
            ("::ffff:a01:203", &["10.0.0.0/8"], true),
            ("10.1.2.3", &["::ffff:10.1.2.3"], true),
            ("10.1.2.3", &["::/0"], true),
            // IPv4-compatible (not mapped) stays IPv6
            ("::10.1.2.3", &["10.0.0.0/8"], false),
            ("::10.1.2.3", &["::a01:203"], true),
            // bounds are inclusive; masking the host bits of the block address
            ("10.255.255.255", &["10.1.2.3/8"], true),
            ("11.0.0.0", &["10.1.2.3/8"], false),
            ("9.255.255.255", &["10.0.0.0/8"], false),
            // a scope ID is ignored
            ("fe80::1%eth0", &["fe80::/10"], true),
            ("10.0.0.1%1", &["10.0.0.0/8"], true),
            // Java's split("/") drops trailing empty parts
            ("10.0.0.1", &["10.0.0.0/8/"], true),
            // Integer.parseInt accepts a sign
            ("10.0.0.1", &["10.0.0.0/+8"], true),
            ("10.0.0.1", &["10.0.0.0/-0"], true),
        ];
        for (ip, blocks, expected) in cases {
            assert_eq!(
                in_range(ip, blocks),
                *expected,
                "cidrMatch({ip:?}, {blocks:?})"
            );
        }
    }

    #[test]
    fn cidr_errors_like_es() {
        let cases: &[(&str, &str)] = &[
            // ES test CIDRMatchFunctionProcessorTests.testCIDRMatchFunctionInvalidInput
            ("10.6.48", "'10.6.48' is not an IP string literal."),
            ("10.6.12/12", "'10.6.12' is not an IP string literal."),
            // InetAddresses.parseCidr
            ("10.0.0.0/", "Expected [ip/prefix] but was [10.0.0.0/]"),
            (
                "10.0.0.0/8/16",
                "Expected [ip/prefix] but was [10.0.0.0/8/16]",
            ),
            ("/", "Expected [ip/prefix] but was [/]"),
            ("/8", "'' is not an IP string literal."),
            ("10.0.0.0/x", "For input string: \"x\""),
            ("10.0.0.0/ 8", "For input string: \" 8\""),
            (
                "10.0.0.0/33",
                "Illegal prefix length [33] in [10.0.0.0/33]. Must be 0-32 for IPv4 ranges, \
                 0-128 for IPv6 ranges",
            ),
            (
                "::/129",
                "Illegal prefix length [129] in [::/129]. Must be 0-32 for IPv4 ranges, 0-128 \
                 for IPv6 ranges",
            ),
            (
                "10.0.0.0/-1",
                "Illegal prefix length [-1] in [10.0.0.0/-1]. Must be 0-32 for IPv4 ranges, \
                 0-128 for IPv6 ranges",
            ),
            (
                "::ffff:10.0.0.0/104",
                "CIDR notation is not allowed with IPv6-mapped IPv4 address [::ffff:10.0.0.0 as \
                 it introduces ambiguity as to whether the prefix length should be interpreted \
                 as a v4 prefix length or a v6 prefix length",
            ),
            (
                "::ffff:0:0/96",
                "CIDR notation is not allowed with IPv6-mapped IPv4 address [::ffff:0:0 as it \
                 introduces ambiguity as to whether the prefix length should be interpreted as \
                 a v4 prefix length or a v6 prefix length",
            ),
            ("example.com", "'example.com' is not an IP string literal."),
            ("", "'' is not an IP string literal."),
        ];
        for (text, message) in cases {
            assert_eq!(
                Cidr::parse(text),
                Err(err(message)),
                "Cidr::parse({text:?})"
            );
        }
        // ES test: an invalid source address is an error in a script ...
        let block = Cidr::parse("10.0.0.0/8").unwrap();
        assert_eq!(
            block.try_contains("10.6.48"),
            Err(err("'10.6.48' is not an IP string literal."))
        );
        // ... and simply not contained here.
        assert!(!block.contains("10.6.48"));
        assert!(!block.contains("not an ip"));
        assert!(!block.contains(""));
    }

    #[test]
    fn ip_text_follows_es_inet_addresses() {
        let valid: &[(&str, &[u8])] = &[
            ("0.0.0.0", &[0, 0, 0, 0]),
            ("255.255.255.255", &[255, 255, 255, 255]),
            ("::", &[0; 16]),
            ("::1", &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
            ("1::", &[0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            (
                "1:2:3:4:5:6:7::",
                &[0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0],
            ),
            (
                "FE80::ABCD",
                &[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xab, 0xcd],
            ),
            // no limit on the number of hex digits in a group, only on its value
            (
                "00000001::",
                &[0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            ),
            ("::ffff:1.2.3.4", &[1, 2, 3, 4]),
            (
                "1:2:3:4:5:6:1.2.3.4",
                &[0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 1, 2, 3, 4],
            ),
        ];
        for (text, bytes) in valid {
            let ip = ip_string_to_bytes(text.as_bytes()).unwrap_or_else(|| panic!("{text}"));
            assert_eq!(ip.as_slice(), *bytes, "{text}");
        }
        let invalid = [
            "1.2.3",
            "1.2.3.4.5",
            "1.2.3.256",
            "01.2.3.4", // leading zero
            "1.2.3.00",
            "1..3.4",
            "1.2.3.4.",
            ".1.2.3",
            "1.2.3.-4",
            " 1.2.3.4",
            "1.2.3.4 ",
            "1.2.3.4%",
            "１.2.3.4", // non-ASCII
            "1",
            ":",
            ":1::",
            "1::2::3",
            ":::",
            "1:::2",
            "1:2:3:4:5:6:7",
            "1:2:3:4:5:6:7:8:9",
            "1:2:3:4:5:6:7:8::",
            "::1:2:3:4:5:6:7:8",
            "10000::",
            "1.2.3.4::",
            "::1.2.3",
            "g::",
            "[::1]",
        ];
        for text in invalid {
            assert_eq!(ip_string_to_bytes(text.as_bytes()), None, "{text}");
        }
    }

    #[test]
    fn java_lowercase_cases() {
        assert_eq!(java_lowercase("ABC"), "abc");
        assert!(matches!(java_lowercase("abc"), Cow::Borrowed(_)));
        assert_eq!(java_lowercase("ÄÖÜ"), "äöü");
        // Java: "İ".toLowerCase(Locale.ROOT) is "i̇" (2 chars); a final sigma becomes ς.
        assert_eq!(java_lowercase("İ"), "i\u{307}");
        assert_eq!(java_lowercase("ΑΣ"), "ας");
        assert_eq!(java_lowercase("Σ"), "σ");
        // Java's final sigma: the JDK's word BreakIterator decides what ends a word (each
        // result checked on JDK 25).
        let sigma: &[(&str, &str)] = &[
            ("AΣ-x", "aσ-x"), // a hyphen between letters does not end the word
            ("AΣ x", "aς x"),
            ("AΣ-", "aς-"),
            ("AΣ1", "aς1"),
            ("AΣ1B", "aσ1b"), // digits join letters into one word
            ("AΣ'B", "aσ'b"),
            ("AΣ.B", "aσ.b"),
            ("aaΣ_Σ1", "aaσ_ς1"),             // so does `_`
            ("ªΣ", "ªσ"),                     // `ª` is not cased for Java
            ("ǅΣ", "ǆς"),                     // titlecase is
            ("a‐\u{301}Σ", "a‐\u{301}σ"),     // a mark after the hyphen ends the word
            ("ΩA‐\u{200D}Σ", "ωa‐\u{200D}ς"), // a format character does not
            ("ΩΣ\u{AD}1aǅ", "ως\u{AD}1aǆ"),
            ("AΣİ", "aσi\u{307}"),
            ("AΣ😀", "aς😀"),
            ("aΣb", "aσb"),
        ];
        for (text, lower) in sigma {
            assert_eq!(java_lowercase(text), *lower, "{text}");
        }
        // Rust's str::to_lowercase would say "aς-x"; the case-insensitive functions see Java's.
        assert!(string_contains("AΣ-x", "σ", true));
        assert!(!ends_with("AΣ-x", "ς-x", true));
    }
}
