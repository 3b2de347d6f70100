//! String matching as Elasticsearch does it: wildcard patterns (`:`, `like`, `like~`), Lucene
//! regular expressions (`regex`, `regex~`), and case folding (`~` forms, `in~`, `:`).
//!
//! Why this module exists: Elasticsearch never runs EQL string predicates itself. It turns them
//! into Lucene queries over the keyword terms (`:` and `like` become a `wildcard` query, `in~` and a
//! wildcard-free `:` a `term` query with `case_insensitive`, `regex` a `regexp` query), so the
//! results follow Lucene's automata: anchored, code point by code point, with Lucene's own regular
//! expression syntax and Lucene's case expansion. The `regex` crate and Rust's string methods mean
//! something slightly different on every one of those points, and this module closes the gap while
//! staying fast enough to run on every event.
//!
//! # Semantics (query form: a bare field compared with constants)
//!
//! * Wildcards (`:` with a `*` or `?`, `like`, `like~`): EQL rewrites the pattern to a SQL `LIKE`
//!   pattern and then to a Lucene wildcard with every `\` escaped, so `*` is any run of code points
//!   (also empty), `?` exactly one code point (a multi-byte character or an emoji counts once),
//!   the pattern is anchored at both ends, and there is no escape character: `\`, `%` and `_` are
//!   literals.
//! * Case-insensitive forms (`:`, `like~`, `in~`, `regex~`): Lucene expands each *pattern*
//!   character `p` to the set `{p, toUpperCase(p), toLowerCase(p)}` plus the Unicode simple case
//!   folding siblings that Java's one-to-one mappings miss (Kelvin sign, long s, final sigma, ...;
//!   Lucene's `CaseExpansion` table). Since Elasticsearch's "Use Lucene's Unicode case folding for
//!   case-insensitive queries" change this applies to `term`, `wildcard` and `regexp` queries
//!   alike, so all four operators fold the same way. There is no multi-character folding: `ß`
//!   never equals `ss`, but it equals `ẞ`. The expansion is not symmetric for the Turkish letters:
//!   a pattern `ı` (dotless i) matches `ı` and `I`, a pattern `İ` matches `İ` and `i`, while a
//!   pattern `i` or `I` matches only `i` and `I`. [`eq_ignore_case`] therefore takes the value
//!   and the literal in that order; [`fold_case`] gives a canonical form whose equality is exact
//!   for every literal without `İ`/`ı`. (Elasticsearch releases before that change folded only
//!   code points up to U+0080, i.e. ASCII letters; the two agree on ASCII data.)
//! * `regex`: Lucene `RegExp` with the flags Elasticsearch's `regexp` query uses (`ALL` plus the
//!   deprecated complement): `.` is any code point (newlines included), `?` `*` `+` `{n}` `{n,}`
//!   `{n,m}`, `|`, `( )`, `[...]`, `[^...]`, the classes `\d \D \s \S \w \W` (ASCII only), `\x`
//!   for a literal `x` (an escaped ASCII letter other than those classes is an error), `"..."`
//!   literal strings, `@` any string, `#` the empty language, `<n-m>` decimal intervals, `&`
//!   intersection and `~` complement. There are no anchors (`^` and `$` are literals) and no lazy
//!   quantifiers: `.*?` is `(.*)?`. Several patterns are joined with `|` before parsing, exactly as
//!   Elasticsearch's `Match` does. With `regex~` only single characters are case-expanded (also
//!   single characters inside a class), never ranges such as `[a-z]` or the `\w` classes.
//!   `&` and `~` are evaluated when they sit at the top of the pattern (`A&B`, `~(A)`, `~A|B`);
//!   nested inside a sequence or a repetition they are rejected with an error, as are named
//!   automata `<name>` (which Elasticsearch rejects too).
//!
//! The script form (a computed value such as `substring(x, 1) : "a*"`) is evaluated by
//! Elasticsearch with `java.util.regex` and `String.compareToIgnoreCase` instead; its case rule is
//! available as [`eq_ignore_case_script`].

use std::borrow::Cow;
use std::collections::HashSet;

use aho_corasick::AhoCorasick;
use memchr::memmem;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    #[error("{0}")]
    Invalid(String),
}

// ---------------------------------------------------------------------------------------------
// Case folding
// ---------------------------------------------------------------------------------------------

/// `İ` (U+0130): Java lowercases it to `i`, but nothing folds back to it.
const CAPITAL_I_WITH_DOT: char = '\u{130}';
/// `ı` (U+0131): Java uppercases it to `I`, but nothing folds back to it.
const SMALL_DOTLESS_I: char = '\u{131}';

/// The variants Lucene's `CaseExpansion.expand` adds beyond `Character.toUpperCase` and
/// `Character.toLowerCase` (Unicode simple case folding siblings), sorted by code point.
const SPECIAL_VARIANTS: &[(char, &[char])] = &[
    ('\u{004B}', &['\u{212A}']),
    ('\u{0053}', &['\u{017F}']),
    ('\u{006B}', &['\u{212A}']),
    ('\u{0073}', &['\u{017F}']),
    ('\u{00B5}', &['\u{03BC}']),
    ('\u{00C5}', &['\u{212B}']),
    ('\u{00DF}', &['\u{1E9E}']),
    ('\u{00E5}', &['\u{212B}']),
    ('\u{017F}', &['\u{0073}']),
    ('\u{01C4}', &['\u{01C5}']),
    ('\u{01C6}', &['\u{01C5}']),
    ('\u{01C7}', &['\u{01C8}']),
    ('\u{01C9}', &['\u{01C8}']),
    ('\u{01CA}', &['\u{01CB}']),
    ('\u{01CC}', &['\u{01CB}']),
    ('\u{01F1}', &['\u{01F2}']),
    ('\u{01F3}', &['\u{01F2}']),
    ('\u{0345}', &['\u{03B9}', '\u{1FBE}']),
    ('\u{0390}', &['\u{1FD3}']),
    ('\u{0392}', &['\u{03D0}']),
    ('\u{0395}', &['\u{03F5}']),
    ('\u{0398}', &['\u{03D1}', '\u{03F4}']),
    ('\u{0399}', &['\u{0345}', '\u{1FBE}']),
    ('\u{039A}', &['\u{03F0}']),
    ('\u{039C}', &['\u{00B5}']),
    ('\u{03A0}', &['\u{03D6}']),
    ('\u{03A1}', &['\u{03F1}']),
    ('\u{03A3}', &['\u{03C2}']),
    ('\u{03A6}', &['\u{03D5}']),
    ('\u{03A9}', &['\u{2126}']),
    ('\u{03B0}', &['\u{1FE3}']),
    ('\u{03B2}', &['\u{03D0}']),
    ('\u{03B5}', &['\u{03F5}']),
    ('\u{03B8}', &['\u{03D1}', '\u{03F4}']),
    ('\u{03B9}', &['\u{0345}', '\u{1FBE}']),
    ('\u{03BA}', &['\u{03F0}']),
    ('\u{03BC}', &['\u{00B5}']),
    ('\u{03C0}', &['\u{03D6}']),
    ('\u{03C1}', &['\u{03F1}']),
    ('\u{03C2}', &['\u{03C3}']),
    ('\u{03C3}', &['\u{03C2}']),
    ('\u{03C6}', &['\u{03D5}']),
    ('\u{03C9}', &['\u{2126}']),
    ('\u{03D0}', &['\u{03B2}']),
    ('\u{03D1}', &['\u{03B8}', '\u{03F4}']),
    ('\u{03D5}', &['\u{03C6}']),
    ('\u{03D6}', &['\u{03C0}']),
    ('\u{03F0}', &['\u{03BA}']),
    ('\u{03F1}', &['\u{03C1}']),
    ('\u{03F4}', &['\u{0398}', '\u{03D1}']),
    ('\u{03F5}', &['\u{03B5}']),
    ('\u{0412}', &['\u{1C80}']),
    ('\u{0414}', &['\u{1C81}']),
    ('\u{041E}', &['\u{1C82}']),
    ('\u{0421}', &['\u{1C83}']),
    ('\u{0422}', &['\u{1C84}', '\u{1C85}']),
    ('\u{042A}', &['\u{1C86}']),
    ('\u{0432}', &['\u{1C80}']),
    ('\u{0434}', &['\u{1C81}']),
    ('\u{043E}', &['\u{1C82}']),
    ('\u{0441}', &['\u{1C83}']),
    ('\u{0442}', &['\u{1C84}', '\u{1C85}']),
    ('\u{044A}', &['\u{1C86}']),
    ('\u{0462}', &['\u{1C87}']),
    ('\u{0463}', &['\u{1C87}']),
    ('\u{1C80}', &['\u{0432}']),
    ('\u{1C81}', &['\u{0434}']),
    ('\u{1C82}', &['\u{043E}']),
    ('\u{1C83}', &['\u{0441}']),
    ('\u{1C84}', &['\u{0442}', '\u{1C85}']),
    ('\u{1C85}', &['\u{0442}', '\u{1C84}']),
    ('\u{1C86}', &['\u{044A}']),
    ('\u{1C87}', &['\u{0463}']),
    ('\u{1C88}', &['\u{A64B}']),
    ('\u{1E60}', &['\u{1E9B}']),
    ('\u{1E61}', &['\u{1E9B}']),
    ('\u{1E9B}', &['\u{1E61}']),
    ('\u{1FBE}', &['\u{0345}', '\u{03B9}']),
    ('\u{1FD3}', &['\u{0390}']),
    ('\u{1FE3}', &['\u{03B0}']),
    ('\u{2126}', &['\u{03A9}']),
    ('\u{212A}', &['\u{004B}']),
    ('\u{212B}', &['\u{00C5}']),
    ('\u{A64A}', &['\u{1C88}']),
    ('\u{A64B}', &['\u{1C88}']),
    ('\u{FB05}', &['\u{FB06}']),
    ('\u{FB06}', &['\u{FB05}']),
];

fn special_variants(c: char) -> &'static [char] {
    match SPECIAL_VARIANTS.binary_search_by_key(&c, |&(k, _)| k) {
        Ok(i) => SPECIAL_VARIANTS[i].1,
        Err(_) => &[],
    }
}

/// The only element of `it`, if it has exactly one.
fn single(mut it: impl Iterator<Item = char>) -> Option<char> {
    let first = it.next()?;
    match it.next() {
        None => Some(first),
        Some(_) => None,
    }
}

/// Java's `Character.toUpperCase(int)`: the simple (one code point) uppercase mapping.
fn java_upper(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_uppercase();
    }
    if let Some(u) = single(c.to_uppercase()) {
        return u;
    }
    // Rust gives the full (SpecialCasing) mapping; where that has several code points the simple
    // mapping is the character itself, except for the Greek letters with ypogegrammeni.
    match c as u32 {
        0x1F80..=0x1F87 | 0x1F90..=0x1F97 | 0x1FA0..=0x1FA7 => {
            char::from_u32(c as u32 + 8).unwrap_or(c)
        }
        0x1FB3 => '\u{1FBC}',
        0x1FC3 => '\u{1FCC}',
        0x1FF3 => '\u{1FFC}',
        _ => c,
    }
}

/// Java's `Character.toLowerCase(int)`: the simple (one code point) lowercase mapping.
fn java_lower(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    match single(c.to_lowercase()) {
        Some(l) => l,
        // Only U+0130 has a multi-character full lowercase; its simple mapping is `i`.
        None if c == CAPITAL_I_WITH_DOT => 'i',
        None => c,
    }
}

/// The characters a case-insensitive Lucene automaton accepts for the pattern character `c`
/// (`Automata.makeCaseInsensitiveChar`), `c` first, without duplicates.
fn case_variants(c: char) -> Vec<char> {
    let mut out = vec![c];
    for v in [java_upper(c), java_lower(c)]
        .into_iter()
        .chain(special_variants(c).iter().copied())
    {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

/// Whether a case-insensitive pattern character `pattern` accepts the text character `text`.
fn is_case_variant(pattern: char, text: char) -> bool {
    text == pattern
        || text == java_upper(pattern)
        || text == java_lower(pattern)
        || special_variants(pattern).contains(&text)
}

/// Whether `fold_char` equality decides case-insensitive matching for this pattern character
/// (everything but the asymmetric Turkish `İ` and `ı`).
fn folds_exactly(c: char) -> bool {
    c != CAPITAL_I_WITH_DOT && c != SMALL_DOTLESS_I
}

/// The canonical representative of `c`'s case class: for every pattern character `p` other than
/// `İ`/`ı`, Lucene accepts the text character `t` exactly when `fold_char(t) == fold_char(p)`.
/// One code point in, one code point out (so `?` still counts one character).
pub fn fold_char(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    match c {
        // Their own classes: nothing else maps to them.
        CAPITAL_I_WITH_DOT | SMALL_DOTLESS_I => c,
        // Pairs whose members both have multi-character uppercase forms.
        '\u{1FD3}' => '\u{0390}',
        '\u{1FE3}' => '\u{03B0}',
        '\u{FB05}' => '\u{FB06}',
        _ => {
            let upper = single(c.to_uppercase()).unwrap_or(c);
            single(upper.to_lowercase()).unwrap_or(upper)
        }
    }
}

/// Folds `text` for case-insensitive comparison exactly as Elasticsearch does: code point by
/// code point with [`fold_char`] (no multi-character folding, `ß` stays `ß`).
///
/// `fold_case(value) == fold_case(literal)` is Elasticsearch's `in~`/`:` equality whenever the
/// literal contains no `İ` (U+0130) or `ı` (U+0131); [`eq_ignore_case`] is exact for all.
pub fn fold_case(text: &str) -> Cow<'_, str> {
    let first = if text.is_ascii() {
        match text.bytes().position(|b| b.is_ascii_uppercase()) {
            None => return Cow::Borrowed(text),
            Some(i) => i,
        }
    } else {
        match text.char_indices().find(|&(_, c)| fold_char(c) != c) {
            None => return Cow::Borrowed(text),
            Some((i, _)) => i,
        }
    };
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..first]);
    out.extend(text[first..].chars().map(fold_char));
    Cow::Owned(out)
}

/// Case-insensitive equality as Elasticsearch's `in~` and `:` (without wildcards) compare a field
/// `value` with a query `literal` (a `term` query with `case_insensitive`): each literal
/// character accepts its Lucene case variants. Symmetric except for `İ`/`ı` in the literal.
pub fn eq_ignore_case(value: &str, literal: &str) -> bool {
    if value.len() == literal.len() && value.as_bytes().eq_ignore_ascii_case(literal.as_bytes()) {
        return true;
    }
    if value.is_ascii() && literal.is_ascii() {
        return false;
    }
    let mut values = value.chars();
    for p in literal.chars() {
        let Some(t) = values.next() else {
            return false;
        };
        let same = if folds_exactly(p) {
            fold_char(t) == fold_char(p)
        } else {
            is_case_variant(p, t)
        };
        if !same {
            return false;
        }
    }
    values.next().is_none()
}

/// Case-insensitive equality of the script form (a computed value, e.g. `concat(a, b) : "x"`),
/// which Elasticsearch evaluates with Java's `String.compareToIgnoreCase`: characters are equal
/// when they are equal, or their uppercase forms are, or the lowercase forms of those are. Unlike
/// the query form it is symmetric and equates `ı`, `i`, `I` and `İ`.
pub fn eq_ignore_case_script(a: &str, b: &str) -> bool {
    if a.len() == b.len() && a.as_bytes().eq_ignore_ascii_case(b.as_bytes()) {
        return true;
    }
    if a.is_ascii() && b.is_ascii() {
        return false;
    }
    let mut bs = b.chars();
    for c1 in a.chars() {
        let Some(c2) = bs.next() else {
            return false;
        };
        if c1 == c2 {
            continue;
        }
        let (u1, u2) = (java_upper(c1), java_upper(c2));
        if u1 != u2 && java_lower(u1) != java_lower(u2) {
            return false;
        }
    }
    bs.next().is_none()
}

/// Whether `text` holds `ſ` (U+017F) or the Kelvin sign (U+212A), the only non-ASCII characters
/// whose fold is ASCII.
fn has_kelvin_or_long_s(text: &str) -> bool {
    let b = text.as_bytes();
    memchr::memchr2_iter(0xC5, 0xE2, b).any(|i| {
        if b[i] == 0xC5 {
            b.get(i + 1) == Some(&0xBF)
        } else {
            b.get(i + 1..i + 3) == Some(&[0x84, 0xAA][..])
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Wildcards
// ---------------------------------------------------------------------------------------------

/// A wildcard token: a literal code point, `?` or `*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WTok {
    Lit(char),
    Any,
    Star,
}

fn parse_wildcard(pattern: &str) -> Vec<WTok> {
    pattern
        .chars()
        .map(|c| match c {
            '*' => WTok::Star,
            '?' => WTok::Any,
            c => WTok::Lit(c),
        })
        .collect()
}

/// One or more wildcard patterns OR'ed together (`x : ("a*", "*b")`): `*` is any run of
/// characters, `?` exactly one character, anchored at both ends, no escape character.
///
/// Each pattern is classified once: a pattern without wildcards is an equality test (a hash
/// lookup for long lists), `lit*` a prefix test, `*lit` a suffix test, and all `*lit*` patterns
/// of the set share one substring searcher (memmem for one literal, the SIMD packed searcher for
/// up to a few dozen, an Aho-Corasick automaton beyond). Other patterns run a segment matcher
/// (`*`-separated pieces, the middle ones found left to right). Case-insensitive sets
/// (`:`, `like~`) store canonical folds ([`fold_char`]) and compare ASCII case-insensitively,
/// substring searches on an ASCII-lowercased copy of the text made window by window on the
/// stack; a non-ASCII text is folded first only when it holds characters for which that would
/// be wrong (any non-ASCII text if a literal is non-ASCII, otherwise only a text with a Kelvin
/// sign or long s when a literal has `k` or `s`). Patterns with `İ`/`ı` are matched code point by
/// code point with Lucene's exact expansion.
#[derive(Debug, Clone)]
pub struct WildcardSet {
    /// Boxed so that holders (the engine's compiled conditions) stay small.
    inner: Box<Matchers>,
}

/// The compiled patterns of a [`WildcardSet`].
#[derive(Debug, Clone)]
struct Matchers {
    case_insensitive: bool,
    match_all: bool,
    exact: Exact,
    prefixes: Vec<Box<[u8]>>,
    suffixes: Vec<Box<[u8]>>,
    contains: Option<Contains>,
    /// Byte length of the longest `*literal*`.
    longest_contains: usize,
    globs: Vec<Glob>,
    /// Case-insensitive patterns holding `İ`/`ı`, matched character by character.
    char_globs: Vec<CharGlob>,
    text_fold: TextFold,
}

#[derive(Debug, Clone)]
enum Exact {
    Few(Vec<Box<[u8]>>),
    Many(HashSet<Box<str>>),
}

#[derive(Debug, Clone)]
enum Contains {
    /// One literal: memmem.
    One(Box<memmem::Finder<'static>>),
    /// Up to a few dozen literals: the SIMD (Teddy) packed searcher.
    Packed(aho_corasick::packed::Searcher),
    /// Anything bigger: an Aho-Corasick automaton, ASCII case-insensitive when needed.
    Automaton(AhoCorasick),
}

impl Contains {
    /// Whether a literal occurs in `t`; case-insensitive sets search the ASCII-lowercased text
    /// (their literals are folded, so lowercase).
    fn is_match(&self, t: &[u8], fold: bool, longest: usize) -> bool {
        match self {
            Contains::One(finder) if fold => {
                any_lowercase_window(t, longest, |w| finder.find(w).is_some())
            }
            Contains::One(finder) => finder.find(t).is_some(),
            Contains::Packed(searcher) if fold => {
                any_lowercase_window(t, longest, |w| searcher.find(w).is_some())
            }
            Contains::Packed(searcher) => searcher.find(t).is_some(),
            Contains::Automaton(ac) => ac.is_match(t),
        }
    }
}

/// When a case-insensitive set must fold a non-ASCII text before matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum TextFold {
    /// Every literal is ASCII and holds no `k`/`s`: the raw text compares correctly.
    Never,
    /// ASCII literals with `k` or `s`: fold when the text has a Kelvin sign or a long s.
    KelvinOrLongS,
    /// Some literal is not ASCII: fold every non-ASCII text.
    Always,
}

/// The shape of one pattern, from cheapest to most general.
enum Shape {
    All,
    Exact(String),
    Prefix(String),
    Suffix(String),
    Contains(String),
    General,
}

fn literal(toks: &[WTok]) -> Option<String> {
    toks.iter()
        .map(|t| match t {
            WTok::Lit(c) => Some(*c),
            _ => None,
        })
        .collect()
}

fn shape(toks: &[WTok]) -> Shape {
    let stars = toks.iter().filter(|t| **t == WTok::Star).count();
    let n = toks.len();
    let lit = |range: std::ops::Range<usize>| literal(&toks[range]);
    match stars {
        0 => lit(0..n).map_or(Shape::General, Shape::Exact),
        1 if n == 1 => Shape::All,
        1 if toks[n - 1] == WTok::Star => lit(0..n - 1).map_or(Shape::General, Shape::Prefix),
        1 if toks[0] == WTok::Star => lit(1..n).map_or(Shape::General, Shape::Suffix),
        2 if n > 2 && toks[0] == WTok::Star && toks[n - 1] == WTok::Star => {
            lit(1..n - 1).map_or(Shape::General, Shape::Contains)
        }
        _ => Shape::General,
    }
}

/// More than this many equality patterns go into a hash set.
const EXACT_HASH_THRESHOLD: usize = 16;

impl WildcardSet {
    pub fn new(patterns: &[&str], case_insensitive: bool) -> WildcardSet {
        let tokens = patterns.iter().map(|p| parse_wildcard(p)).collect();
        WildcardSet::from_tokens(tokens, case_insensitive)
    }

    fn from_tokens(patterns: Vec<Vec<WTok>>, case_insensitive: bool) -> WildcardSet {
        let ci = case_insensitive;
        let mut set = Matchers {
            case_insensitive: ci,
            match_all: false,
            exact: Exact::Few(Vec::new()),
            prefixes: Vec::new(),
            suffixes: Vec::new(),
            contains: None,
            longest_contains: 0,
            globs: Vec::new(),
            char_globs: Vec::new(),
            text_fold: TextFold::Never,
        };
        let mut exact: Vec<String> = Vec::new();
        let mut contains: Vec<String> = Vec::new();
        for mut toks in patterns {
            toks.dedup_by(|a, b| *a == WTok::Star && *b == WTok::Star);
            if ci
                && toks
                    .iter()
                    .any(|t| matches!(t, WTok::Lit(c) if !folds_exactly(*c)))
            {
                set.char_globs.push(CharGlob { toks });
                continue;
            }
            if ci {
                for t in &mut toks {
                    if let WTok::Lit(c) = t {
                        *c = fold_char(*c);
                        let need = if !c.is_ascii() {
                            TextFold::Always
                        } else if *c == 'k' || *c == 's' {
                            TextFold::KelvinOrLongS
                        } else {
                            TextFold::Never
                        };
                        set.text_fold = set.text_fold.max(need);
                    }
                }
            }
            match shape(&toks) {
                Shape::All => set.match_all = true,
                Shape::Exact(s) => exact.push(s),
                Shape::Prefix(s) => set.prefixes.push(s.into_bytes().into()),
                Shape::Suffix(s) => set.suffixes.push(s.into_bytes().into()),
                Shape::Contains(s) => contains.push(s),
                Shape::General => set.globs.push(Glob::new(&toks)),
            }
        }
        exact.sort();
        exact.dedup();
        set.exact = if exact.len() > EXACT_HASH_THRESHOLD {
            Exact::Many(exact.into_iter().map(String::into_boxed_str).collect())
        } else {
            Exact::Few(exact.into_iter().map(|s| s.into_bytes().into()).collect())
        };
        contains.sort();
        contains.dedup();
        set.longest_contains = contains.iter().map(String::len).max().unwrap_or(0);
        let packed = || {
            aho_corasick::packed::Config::new()
                .builder()
                .extend(&contains)
                .build()
        };
        set.contains = match contains.len() {
            0 => None,
            1 => Some(Contains::One(Box::new(
                memmem::Finder::new(contains[0].as_bytes()).into_owned(),
            ))),
            _ if let Some(searcher) = packed() => Some(Contains::Packed(searcher)),
            _ => match AhoCorasick::builder()
                .ascii_case_insensitive(ci)
                .build(&contains)
            {
                Ok(ac) => Some(Contains::Automaton(ac)),
                // Too big for an automaton: fall back to one segment matcher each.
                Err(_) => {
                    for s in &contains {
                        let mut toks = vec![WTok::Star];
                        toks.extend(s.chars().map(WTok::Lit));
                        toks.push(WTok::Star);
                        set.globs.push(Glob::new(&toks));
                    }
                    None
                }
            },
        };
        WildcardSet {
            inner: Box::new(set),
        }
    }

    pub fn is_match(&self, text: &str) -> bool {
        self.inner.is_match(text)
    }
}

impl Matchers {
    fn is_match(&self, text: &str) -> bool {
        if self.match_all {
            return true;
        }
        let hit = if self.case_insensitive {
            let prepared = self.prepare(text);
            self.match_prepared(&prepared, true)
        } else {
            self.match_prepared(text, false)
        };
        hit || self.char_globs.iter().any(|g| g.is_match(text))
    }

    /// The text a case-insensitive set compares with ASCII case-insensitivity: the text itself
    /// when that is exact, its fold otherwise.
    fn prepare<'t>(&self, text: &'t str) -> Cow<'t, str> {
        if text.is_ascii() {
            return Cow::Borrowed(text);
        }
        match self.text_fold {
            TextFold::Never => Cow::Borrowed(text),
            TextFold::KelvinOrLongS if !has_kelvin_or_long_s(text) => Cow::Borrowed(text),
            _ => fold_case(text),
        }
    }

    fn match_prepared(&self, text: &str, fold: bool) -> bool {
        let t = text.as_bytes();
        let hit = match &self.exact {
            Exact::Few(list) => list.iter().any(|e| eq_bytes(t, e, fold)),
            Exact::Many(set) => {
                if fold {
                    set.contains(&*fold_case(text))
                } else {
                    set.contains(text)
                }
            }
        };
        if hit {
            return true;
        }
        if self
            .prefixes
            .iter()
            .any(|p| t.len() >= p.len() && eq_bytes(&t[..p.len()], p, fold))
        {
            return true;
        }
        if self
            .suffixes
            .iter()
            .any(|s| t.len() >= s.len() && eq_bytes(&t[t.len() - s.len()..], s, fold))
        {
            return true;
        }
        let hit = self
            .contains
            .as_ref()
            .is_some_and(|c| c.is_match(t, fold, self.longest_contains));
        hit || self.globs.iter().any(|g| g.is_match(t, fold))
    }
}

/// Whether `f` holds for some window of `t` with ASCII letters lowercased. Windows overlap by
/// `longest - 1` bytes, so every occurrence of a literal up to `longest` bytes lies in one of
/// them; they live in a stack buffer, so long texts are not copied to the heap.
fn any_lowercase_window(t: &[u8], longest: usize, mut f: impl FnMut(&[u8]) -> bool) -> bool {
    const WINDOW: usize = 256;
    if longest >= WINDOW / 2 {
        return f(&t.to_ascii_lowercase());
    }
    let mut buf = [0u8; WINDOW];
    let step = WINDOW - longest.saturating_sub(1);
    let mut start = 0;
    loop {
        let end = (start + WINDOW).min(t.len());
        let window = &mut buf[..end - start];
        for (d, s) in window.iter_mut().zip(&t[start..end]) {
            *d = s.to_ascii_lowercase();
        }
        if f(window) {
            return true;
        }
        if end == t.len() {
            return false;
        }
        start += step;
    }
}

/// Byte equality, ASCII case-insensitive when `fold`.
fn eq_bytes(a: &[u8], b: &[u8], fold: bool) -> bool {
    if fold {
        a.eq_ignore_ascii_case(b)
    } else {
        a == b
    }
}

/// The length of the UTF-8 sequence starting with `b`.
fn utf8_len(b: u8) -> usize {
    match b {
        0x00..=0x7F => 1,
        0x80..=0xDF => 2,
        0xE0..=0xEF => 3,
        _ => 4,
    }
}

fn is_continuation(b: u8) -> bool {
    b & 0xC0 == 0x80
}

/// The byte offset where the last `k` code points of `t` start.
fn start_of_last_chars(t: &[u8], k: usize) -> Option<usize> {
    let mut i = t.len();
    for _ in 0..k {
        if i == 0 {
            return None;
        }
        i -= 1;
        while i > 0 && is_continuation(t[i]) {
            i -= 1;
        }
    }
    Some(i)
}

/// The first occurrence of `lit` in `hay` at or after `from`.
fn find_literal(hay: &[u8], lit: &[u8], from: usize, fold: bool) -> Option<usize> {
    let rest = hay.get(from..)?;
    if !fold {
        return memmem::find(rest, lit).map(|i| i + from);
    }
    let b = lit[0];
    let (lo, up) = (b.to_ascii_lowercase(), b.to_ascii_uppercase());
    memchr::memchr2_iter(lo, up, rest)
        .find(|&i| rest.len() - i >= lit.len() && rest[i..i + lit.len()].eq_ignore_ascii_case(lit))
        .map(|i| i + from)
}

/// A piece of a wildcard pattern between stars.
#[derive(Debug, Clone)]
enum SegTok {
    Lit(Box<[u8]>),
    Any(usize),
}

#[derive(Debug, Clone)]
struct Segment {
    toks: Vec<SegTok>,
    /// Length in code points.
    chars: usize,
}

impl Segment {
    /// Where the segment ends when it starts at byte `i` of `t`.
    fn match_at(&self, t: &[u8], mut i: usize, fold: bool) -> Option<usize> {
        for tok in &self.toks {
            match tok {
                SegTok::Lit(l) => {
                    let end = i + l.len();
                    if end > t.len() || !eq_bytes(&t[i..end], l, fold) {
                        return None;
                    }
                    i = end;
                }
                SegTok::Any(k) => {
                    for _ in 0..*k {
                        if i >= t.len() {
                            return None;
                        }
                        i += utf8_len(t[i]);
                    }
                }
            }
        }
        Some(i)
    }

    /// The end of the leftmost match starting at or after `from` (a character boundary).
    fn find(&self, t: &[u8], from: usize, fold: bool) -> Option<usize> {
        match self.toks.first() {
            Some(SegTok::Lit(l)) => {
                let mut at = from;
                loop {
                    let i = find_literal(t, l, at, fold)?;
                    if let Some(end) = self.match_at(t, i, fold) {
                        return Some(end);
                    }
                    at = i + utf8_len(t[i]);
                }
            }
            _ => {
                let mut i = from;
                while i <= t.len() {
                    if let Some(end) = self.match_at(t, i, fold) {
                        return Some(end);
                    }
                    if i == t.len() {
                        break;
                    }
                    i += utf8_len(t[i]);
                }
                None
            }
        }
    }
}

/// A general wildcard pattern as `*`-separated segments: the first anchored at the start, the
/// last at the end, the middle ones found greedily left to right (leftmost is always best).
#[derive(Debug, Clone)]
struct Glob {
    segments: Vec<Segment>,
}

impl Glob {
    fn new(toks: &[WTok]) -> Glob {
        let mut segments = Vec::new();
        for piece in toks.split(|t| *t == WTok::Star) {
            let mut seg = Segment {
                toks: Vec::new(),
                chars: 0,
            };
            let mut lit = String::new();
            for t in piece {
                seg.chars += 1;
                match *t {
                    WTok::Lit(c) => lit.push(c),
                    _ => {
                        if !lit.is_empty() {
                            let bytes = std::mem::take(&mut lit).into_bytes();
                            seg.toks.push(SegTok::Lit(bytes.into()));
                        }
                        match seg.toks.last_mut() {
                            Some(SegTok::Any(k)) => *k += 1,
                            _ => seg.toks.push(SegTok::Any(1)),
                        }
                    }
                }
            }
            if !lit.is_empty() {
                seg.toks.push(SegTok::Lit(lit.into_bytes().into()));
            }
            segments.push(seg);
        }
        Glob { segments }
    }

    fn is_match(&self, t: &[u8], fold: bool) -> bool {
        let n = self.segments.len();
        let first = &self.segments[0];
        let Some(mut pos) = first.match_at(t, 0, fold) else {
            return false;
        };
        if n == 1 {
            return pos == t.len();
        }
        let last = &self.segments[n - 1];
        let Some(tail) = start_of_last_chars(t, last.chars) else {
            return false;
        };
        if tail < pos || last.match_at(t, tail, fold) != Some(t.len()) {
            return false;
        }
        let hay = &t[..tail];
        for seg in &self.segments[1..n - 1] {
            match seg.find(hay, pos, fold) {
                Some(end) => pos = end,
                None => return false,
            }
        }
        true
    }
}

/// A case-insensitive pattern holding `İ`/`ı`, matched code point by code point with Lucene's
/// exact (asymmetric) expansion.
#[derive(Debug, Clone)]
struct CharGlob {
    toks: Vec<WTok>,
}

impl CharGlob {
    fn is_match(&self, text: &str) -> bool {
        let t: Vec<char> = text.chars().collect();
        let p = &self.toks;
        let (mut pi, mut ti) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while ti < t.len() {
            match p.get(pi) {
                Some(WTok::Star) => {
                    star = Some((pi, ti));
                    pi += 1;
                }
                Some(WTok::Any) => {
                    pi += 1;
                    ti += 1;
                }
                Some(WTok::Lit(c)) if is_case_variant(*c, t[ti]) => {
                    pi += 1;
                    ti += 1;
                }
                _ => match star {
                    Some((sp, st)) => {
                        star = Some((sp, st + 1));
                        pi = sp + 1;
                        ti = st + 1;
                    }
                    None => return false,
                },
            }
        }
        p[pi..].iter().all(|t| *t == WTok::Star)
    }
}

// ---------------------------------------------------------------------------------------------
// Lucene regular expressions
// ---------------------------------------------------------------------------------------------

/// A parsed Lucene `RegExp`.
#[derive(Debug, Clone)]
enum Re {
    Union(Vec<Re>),
    /// Operands and the position of each `&`.
    Inter(Vec<Re>, Vec<usize>),
    Concat(Vec<Re>),
    Opt(Box<Re>),
    Star(Box<Re>),
    Min(Box<Re>, u32),
    MinMax(Box<Re>, u32, u32),
    /// Operand and the position of the `~`.
    Compl(Box<Re>, usize),
    /// A single character (case-expanded by `regex~`).
    Char(char),
    /// A `"..."` string or `()` (case-expanded by `regex~`).
    Str(String),
    /// A character class as inclusive ranges (never case-expanded any further).
    Class(Vec<(char, char)>, bool),
    AnyChar,
    /// `#`, the empty language.
    Empty,
    /// `@`, any string.
    AnyString,
    Interval {
        min: u32,
        max: u32,
        digits: usize,
    },
}

impl Re {
    /// The first (by position) intersection or complement inside, if any.
    fn first_bool(&self) -> Option<(usize, &'static str)> {
        match self {
            Re::Inter(_, at) => Some((at[0], "intersection `&`")),
            Re::Compl(_, at) => Some((*at, "complement `~`")),
            Re::Union(items) | Re::Concat(items) => {
                items.iter().filter_map(Re::first_bool).min_by_key(|b| b.0)
            }
            Re::Opt(e) | Re::Star(e) | Re::Min(e, _) | Re::MinMax(e, _, _) => e.first_bool(),
            _ => None,
        }
    }
}

/// A parse error at a character position of the (joined) pattern.
struct ParseError {
    pos: usize,
    msg: String,
}

/// How deep groups and complements may nest (the translation doubles the depth, and the `regex`
/// crate stops at 250).
const MAX_NESTING: usize = 100;

/// Lucene's `RegExp` parser (flags `ALL | DEPRECATED_COMPLEMENT`), over code points.
struct Parser {
    s: Vec<char>,
    pos: usize,
    case_insensitive: bool,
    depth: usize,
}

type PResult<T> = Result<T, ParseError>;

impl Parser {
    fn err<T>(&self, pos: usize, msg: impl Into<String>) -> PResult<T> {
        Err(ParseError {
            pos,
            msg: msg.into(),
        })
    }

    fn more(&self) -> bool {
        self.pos < self.s.len()
    }

    fn peek_is(&self, c: char) -> bool {
        self.s.get(self.pos) == Some(&c)
    }

    fn peek_in(&self, set: &str) -> bool {
        self.s.get(self.pos).is_some_and(|c| set.contains(*c))
    }

    fn peek_digit(&self) -> bool {
        self.s.get(self.pos).is_some_and(char::is_ascii_digit)
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek_is(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn next(&mut self) -> PResult<char> {
        match self.s.get(self.pos) {
            Some(&c) => {
                self.pos += 1;
                Ok(c)
            }
            None => self.err(self.pos, "unexpected end of pattern"),
        }
    }

    fn parse(mut self) -> PResult<Re> {
        if self.s.is_empty() {
            return Ok(Re::Str(String::new()));
        }
        let e = self.union()?;
        if self.more() {
            return self.err(self.pos, "end of pattern expected (unbalanced `)`?)");
        }
        Ok(e)
    }

    fn nest(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return self.err(self.pos, "pattern nests too deeply");
        }
        Ok(())
    }

    fn union(&mut self) -> PResult<Re> {
        self.nest()?;
        let mut alts = vec![self.inter()?];
        while self.eat('|') {
            alts.push(self.inter()?);
        }
        self.depth -= 1;
        Ok(if alts.len() == 1 {
            alts.pop().unwrap_or(Re::Empty)
        } else {
            Re::Union(alts)
        })
    }

    fn inter(&mut self) -> PResult<Re> {
        let mut parts = vec![self.concat()?];
        let mut at = Vec::new();
        while self.peek_is('&') {
            at.push(self.pos);
            self.pos += 1;
            parts.push(self.concat()?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().unwrap_or(Re::Empty)
        } else {
            Re::Inter(parts, at)
        })
    }

    fn concat(&mut self) -> PResult<Re> {
        let mut items = vec![self.repeat()?];
        while self.more() && !self.peek_in(")|&") {
            items.push(self.repeat()?);
        }
        Ok(if items.len() == 1 {
            items.pop().unwrap_or(Re::Empty)
        } else {
            Re::Concat(items)
        })
    }

    fn number(&mut self, start: usize) -> PResult<u32> {
        let digits: String = self.s[start..self.pos].iter().collect();
        match digits.parse::<i32>() {
            Ok(n) => Ok(n as u32),
            Err(_) => self.err(start, format!("repetition count {digits} is too large")),
        }
    }

    fn repeat(&mut self) -> PResult<Re> {
        let mut e = self.compl()?;
        while self.peek_in("?*+{") {
            if self.eat('?') {
                e = Re::Opt(Box::new(e));
            } else if self.eat('*') {
                e = Re::Star(Box::new(e));
            } else if self.eat('+') {
                e = Re::Min(Box::new(e), 1);
            } else if self.eat('{') {
                let start = self.pos;
                while self.peek_digit() {
                    self.pos += 1;
                }
                if start == self.pos {
                    return self.err(self.pos, "integer expected");
                }
                let n = self.number(start)?;
                let m = if self.eat(',') {
                    let start = self.pos;
                    while self.peek_digit() {
                        self.pos += 1;
                    }
                    if start != self.pos {
                        Some(self.number(start)?)
                    } else {
                        None
                    }
                } else {
                    Some(n)
                };
                if !self.eat('}') {
                    return self.err(self.pos, "expected '}'");
                }
                e = match m {
                    Some(m) if n > m => {
                        return self.err(
                            start,
                            format!("invalid repetition range (out of order): {n}..{m}"),
                        );
                    }
                    Some(m) => Re::MinMax(Box::new(e), n, m),
                    None => Re::Min(Box::new(e), n),
                };
            }
        }
        Ok(e)
    }

    fn compl(&mut self) -> PResult<Re> {
        if self.peek_is('~') {
            let at = self.pos;
            self.pos += 1;
            self.nest()?;
            let inner = self.compl()?;
            self.depth -= 1;
            Ok(Re::Compl(Box::new(inner), at))
        } else {
            self.class_exp()
        }
    }

    fn class_exp(&mut self) -> PResult<Re> {
        if !self.eat('[') {
            return self.simple();
        }
        let negate = self.eat('^');
        let ranges = self.classes()?;
        if !self.eat(']') {
            return self.err(self.pos, "expected ']'");
        }
        // Lucene turns a one-element class into a single character, which `regex~` expands.
        let single = match ranges[..] {
            [(lo, hi)] if lo == hi => Some(lo),
            _ => None,
        };
        Ok(match (single, negate) {
            (Some(c), false) => Re::Char(c),
            (Some(c), true) if self.case_insensitive => {
                Re::Class(case_variants(c).into_iter().map(|v| (v, v)).collect(), true)
            }
            _ => Re::Class(ranges, negate),
        })
    }

    /// The members of a class up to (not including) its `]`.
    fn classes(&mut self) -> PResult<Vec<(char, char)>> {
        let mut ranges = Vec::new();
        loop {
            let start = self.pos;
            if self.eat('\\') {
                if self.peek_is('\\') || self.s.get(self.pos).is_some_and(char::is_ascii_alphabetic)
                {
                    self.predefined(start, &mut ranges)?;
                } else {
                    // An escaped character: literal, never a range start, never case-expanded.
                    let c = self.next()?;
                    ranges.push((c, c));
                }
            } else {
                let c = self.char_exp()?;
                if self.eat('-') {
                    let d = self.char_exp()?;
                    if c > d {
                        return self.err(
                            start,
                            format!(
                                "invalid range: from ({}) cannot be > to ({})",
                                c as u32, d as u32
                            ),
                        );
                    }
                    ranges.push((c, d));
                } else if self.case_insensitive {
                    ranges.extend(case_variants(c).into_iter().map(|v| (v, v)));
                } else {
                    ranges.push((c, c));
                }
            }
            if !self.more() || self.peek_is(']') {
                return Ok(ranges);
            }
        }
    }

    /// `\\`, `\d`, `\D`, `\s`, `\S`, `\w`, `\W` (the backslash at `start` already read).
    fn predefined(&mut self, start: usize, ranges: &mut Vec<(char, char)>) -> PResult<()> {
        const MIN: char = '\0';
        const MAX: char = char::MAX;
        let c = self.next()?;
        let add: &[(char, char)] = match c {
            '\\' => &[('\\', '\\')],
            'd' => &[('0', '9')],
            'D' => &[(MIN, '/'), (':', MAX)],
            's' => &[('\t', '\n'), ('\r', '\r'), (' ', ' ')],
            'S' => &[
                (MIN, '\u{8}'),
                ('\u{B}', '\u{C}'),
                ('\u{E}', '\u{1F}'),
                ('!', MAX),
            ],
            'w' => &[('0', '9'), ('A', 'Z'), ('_', '_'), ('a', 'z')],
            'W' => &[(MIN, '/'), (':', '@'), ('[', '^'), ('`', '`'), ('{', MAX)],
            other => return self.err(start, format!("invalid character class \\{other}")),
        };
        ranges.extend_from_slice(add);
        Ok(())
    }

    fn char_exp(&mut self) -> PResult<char> {
        self.eat('\\');
        self.next()
    }

    fn simple(&mut self) -> PResult<Re> {
        let start = self.pos;
        if self.eat('.') {
            return Ok(Re::AnyChar);
        }
        if self.eat('#') {
            return Ok(Re::Empty);
        }
        if self.eat('@') {
            return Ok(Re::AnyString);
        }
        if self.eat('"') {
            let from = self.pos;
            while self.more() && !self.peek_is('"') {
                self.pos += 1;
            }
            if !self.eat('"') {
                return self.err(self.pos, "expected '\"'");
            }
            return Ok(Re::Str(self.s[from..self.pos - 1].iter().collect()));
        }
        if self.eat('(') {
            if self.eat(')') {
                return Ok(Re::Str(String::new()));
            }
            let e = self.union()?;
            if !self.eat(')') {
                return self.err(self.pos, "expected ')'");
            }
            return Ok(e);
        }
        if self.eat('<') {
            let from = self.pos;
            while self.more() && !self.peek_is('>') {
                self.pos += 1;
            }
            if !self.eat('>') {
                return self.err(self.pos, "expected '>'");
            }
            let body: String = self.s[from..self.pos - 1].iter().collect();
            return self.interval(start, &body);
        }
        if self.eat('\\') {
            if self.peek_is('\\') || self.s.get(self.pos).is_some_and(char::is_ascii_alphabetic) {
                let mut ranges = Vec::new();
                self.predefined(start, &mut ranges)?;
                return Ok(Re::Class(ranges, false));
            }
            return Ok(Re::Char(self.next()?));
        }
        Ok(Re::Char(self.char_exp()?))
    }

    /// `<n-m>` (the body between the angle brackets).
    fn interval(&self, start: usize, body: &str) -> PResult<Re> {
        let Some(i) = body.find('-') else {
            return self.err(
                start,
                format!(
                    "named automaton `<{body}>` is not supported \
                     (Elasticsearch rejects it: '{body}' not found)"
                ),
            );
        };
        let syntax = || ParseError {
            pos: self.pos - 1,
            msg: "interval syntax error".into(),
        };
        if i == 0 || i == body.len() - 1 || body.rfind('-') != Some(i) {
            return Err(syntax());
        }
        let (smin, smax) = (&body[..i], &body[i + 1..]);
        // Java's Integer.parseInt: an optional sign, then decimal digits.
        let parse = |s: &str| -> Option<u32> {
            let digits = s.strip_prefix('+').unwrap_or(s);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            digits.parse::<i32>().ok().map(|n| n as u32)
        };
        let (Some(a), Some(b)) = (parse(smin), parse(smax)) else {
            return Err(syntax());
        };
        let (la, lb) = (smin.chars().count(), smax.chars().count());
        let digits = if la == lb { la } else { 0 };
        Ok(Re::Interval {
            min: a.min(b),
            max: a.max(b),
            digits,
        })
    }
}

// --- decimal intervals -----------------------------------------------------------------------

/// A regex for the decimal numbers in `min..=max`: exactly `digits` digits (zero-padded) when
/// `digits > 0`, otherwise any number of leading zeros (Lucene's `makeDecimalInterval`).
fn interval_regex(min: u32, max: u32, digits: usize) -> String {
    if digits > 0 {
        let x = format!("{min:0digits$}");
        let y = format!("{max:0digits$}");
        return between(x.as_bytes(), y.as_bytes());
    }
    let (lx, ly) = (min.to_string().len(), max.to_string().len());
    let alts: Vec<String> = (lx..=ly)
        .map(|len| {
            let lo = if len == lx {
                min
            } else {
                10u32.pow(len as u32 - 1)
            };
            let hi = if len == ly {
                max
            } else {
                (10u64.pow(len as u32) - 1) as u32
            };
            between(
                format!("{lo:0len$}").as_bytes(),
                format!("{hi:0len$}").as_bytes(),
            )
        })
        .collect();
    format!("0*(?:{})", alts.join("|"))
}

fn any_digits(n: usize) -> String {
    match n {
        0 => String::new(),
        1 => "[0-9]".into(),
        n => format!("[0-9]{{{n}}}"),
    }
}

fn alternation(alts: Vec<String>) -> String {
    if alts.len() == 1 {
        alts.into_iter().next().unwrap_or_default()
    } else {
        format!("(?:{})", alts.join("|"))
    }
}

/// Same-length digit strings `x <= y`.
fn between(x: &[u8], y: &[u8]) -> String {
    let Some((&cx, xr)) = x.split_first() else {
        return String::new();
    };
    let (&cy, yr) = y.split_first().unwrap_or((&cx, xr));
    if cx == cy {
        return format!("{}{}", cx as char, between(xr, yr));
    }
    let mut alts = vec![format!("{}{}", cx as char, at_least(xr))];
    if cx + 1 < cy {
        alts.push(format!(
            "[{}-{}]{}",
            (cx + 1) as char,
            (cy - 1) as char,
            any_digits(xr.len())
        ));
    }
    alts.push(format!("{}{}", cy as char, at_most(yr)));
    alternation(alts)
}

/// Digit strings of the same length as `x`, at least `x`.
fn at_least(x: &[u8]) -> String {
    let Some((&c, rest)) = x.split_first() else {
        return String::new();
    };
    let mut alts = vec![format!("{}{}", c as char, at_least(rest))];
    if c < b'9' {
        alts.push(format!("[{}-9]{}", (c + 1) as char, any_digits(rest.len())));
    }
    alternation(alts)
}

/// Digit strings of the same length as `y`, at most `y`.
fn at_most(y: &[u8]) -> String {
    let Some((&c, rest)) = y.split_first() else {
        return String::new();
    };
    let mut alts = vec![format!("{}{}", c as char, at_most(rest))];
    if c > b'0' {
        alts.push(format!("[0-{}]{}", (c - 1) as char, any_digits(rest.len())));
    }
    alternation(alts)
}

// --- translation -------------------------------------------------------------------------------

fn push_char_literal(out: &mut String, c: char) {
    if c.is_ascii_alphanumeric() {
        out.push(c);
    } else {
        out.push_str(&format!("\\x{{{:X}}}", c as u32));
    }
}

/// Translates to `regex` syntax; `Err` holds the position and name of an intersection or
/// complement that cannot be expressed there.
fn emit(re: &Re, ci: bool, out: &mut String) -> Result<(), (usize, &'static str)> {
    let group = |inner: &Re, suffix: &str, out: &mut String| {
        out.push_str("(?:");
        emit(inner, ci, out)?;
        out.push(')');
        out.push_str(suffix);
        Ok(())
    };
    match re {
        Re::Union(alts) => {
            out.push_str("(?:");
            for (i, a) in alts.iter().enumerate() {
                if i > 0 {
                    out.push('|');
                }
                emit(a, ci, out)?;
            }
            out.push(')');
        }
        Re::Inter(_, at) => return Err((at[0], "intersection `&`")),
        Re::Compl(_, at) => return Err((*at, "complement `~`")),
        Re::Concat(items) => {
            for item in items {
                emit(item, ci, out)?;
            }
        }
        Re::Opt(e) => group(e, "?", out)?,
        Re::Star(e) => group(e, "*", out)?,
        Re::Min(e, n) => group(e, &format!("{{{n},}}"), out)?,
        Re::MinMax(e, n, m) => group(e, &format!("{{{n},{m}}}"), out)?,
        Re::Char(c) => emit_char(*c, ci, out),
        Re::Str(s) => {
            out.push_str("(?:");
            for c in s.chars() {
                emit_char(c, ci, out);
            }
            out.push(')');
        }
        Re::Class(ranges, negated) => {
            out.push('[');
            if *negated {
                out.push('^');
            }
            for &(lo, hi) in ranges {
                out.push_str(&format!("\\x{{{:X}}}", lo as u32));
                if hi != lo {
                    out.push_str(&format!("-\\x{{{:X}}}", hi as u32));
                }
            }
            out.push(']');
        }
        Re::AnyChar => out.push('.'),
        Re::Empty => out.push_str("[^\\x{0}-\\x{10FFFF}]"),
        Re::AnyString => out.push_str("(?:.*)"),
        Re::Interval { min, max, digits } => {
            out.push_str("(?:");
            out.push_str(&interval_regex(*min, *max, *digits));
            out.push(')');
        }
    }
    Ok(())
}

fn emit_char(c: char, ci: bool, out: &mut String) {
    let variants = if ci { case_variants(c) } else { vec![c] };
    if variants.len() == 1 {
        push_char_literal(out, c);
    } else {
        out.push('[');
        for v in variants {
            out.push_str(&format!("\\x{{{:X}}}", v as u32));
        }
        out.push(']');
    }
}

/// Whether `re` is "any string" (`.*`, `@`, `(.*)?`, `.*?`, ...).
fn is_any_string(re: &Re) -> bool {
    match re {
        Re::AnyString => true,
        Re::Star(e) => matches!(**e, Re::AnyChar) || is_any_string(e),
        Re::Opt(e) | Re::Min(e, _) => {
            is_any_string(e) || matches!((re, &**e), (Re::Min(_, 0), Re::AnyChar))
        }
        Re::MinMax(e, _, m) => *m > 0 && is_any_string(e),
        Re::Concat(items) => !items.is_empty() && items.iter().all(is_any_string),
        _ => false,
    }
}

/// Longest wildcard translation worth building.
const MAX_WILDCARD_TOKENS: usize = 4096;

/// `re` as wildcard tokens when it only uses literals, `.` and "any string": the wildcard
/// matcher's fast paths then apply (`.*?net1.*?` is a substring search).
fn to_wildcard(re: &Re, ci: bool, out: &mut Vec<WTok>) -> bool {
    if out.len() > MAX_WILDCARD_TOKENS {
        return false;
    }
    if is_any_string(re) {
        out.push(WTok::Star);
        return true;
    }
    match re {
        Re::Char(c) => out.push(WTok::Lit(*c)),
        Re::Str(s) => out.extend(s.chars().map(WTok::Lit)),
        Re::AnyChar => out.push(WTok::Any),
        Re::Class(ranges, false) if matches!(ranges[..], [(lo, hi)] if lo == hi && (!ci || case_variants(lo).len() == 1)) =>
        {
            out.push(WTok::Lit(ranges[0].0));
        }
        Re::Min(e, n) if matches!(**e, Re::AnyChar) && (*n as usize) < MAX_WILDCARD_TOKENS => {
            out.extend(std::iter::repeat_n(WTok::Any, *n as usize));
            out.push(WTok::Star);
        }
        Re::MinMax(e, n, m)
            if matches!(**e, Re::AnyChar) && n == m && (*n as usize) < MAX_WILDCARD_TOKENS =>
        {
            out.extend(std::iter::repeat_n(WTok::Any, *n as usize));
        }
        Re::Concat(items) => return items.iter().all(|i| to_wildcard(i, ci, out)),
        _ => return false,
    }
    true
}

/// A compiled test: matchers combined by the top-level `|`, `&` and `~` of the pattern.
#[derive(Debug, Clone)]
enum Test {
    Wildcard(WildcardSet),
    Regex(regex::Regex),
    Any(Vec<Test>),
    All(Vec<Test>),
    Not(Box<Test>),
}

impl Test {
    fn is_match(&self, text: &str) -> bool {
        match self {
            Test::Wildcard(w) => w.is_match(text),
            Test::Regex(r) => r.is_match(text),
            Test::Any(tests) => tests.iter().any(|t| t.is_match(text)),
            Test::All(tests) => tests.iter().all(|t| t.is_match(text)),
            Test::Not(t) => !t.is_match(text),
        }
    }
}

/// Where the joined pattern came from, for error messages.
struct Source<'a> {
    patterns: &'a [&'a str],
    /// Character offset of each pattern in the joined string.
    starts: Vec<usize>,
}

impl Source<'_> {
    fn error(&self, pos: usize, msg: &str) -> PatternError {
        let i = self.starts.iter().rposition(|&s| s <= pos).unwrap_or(0);
        let local = pos - self.starts[i];
        let pattern = self.patterns.get(i).copied().unwrap_or("");
        let which = if self.patterns.len() > 1 {
            format!(
                " (pattern {} of {}, joined with `|`)",
                i + 1,
                self.patterns.len()
            )
        } else {
            String::new()
        };
        PatternError::Invalid(format!(
            "invalid regular expression {pattern:?}{which} at position {local}: {msg}"
        ))
    }

    fn unsupported(&self, pos: usize, construct: &str) -> PatternError {
        self.error(
            pos,
            &format!(
                "{construct} is only supported at the top of a pattern (like `A&B`, `~(A)` or \
                 `~A|B`), not inside a sequence or a repetition"
            ),
        )
    }
}

struct Compiler<'a> {
    source: Source<'a>,
    case_insensitive: bool,
    fast_paths: bool,
}

impl Compiler<'_> {
    fn top(&self, re: &Re) -> Result<Test, PatternError> {
        if re.first_bool().is_none() {
            return self.leaf(&[re]);
        }
        match re {
            Re::Union(alts) => {
                let (plain, bools): (Vec<&Re>, Vec<&Re>) =
                    alts.iter().partition(|a| a.first_bool().is_none());
                let mut tests = Vec::new();
                if !plain.is_empty() {
                    tests.push(self.leaf(&plain)?);
                }
                for b in bools {
                    tests.push(self.top(b)?);
                }
                Ok(Test::Any(tests))
            }
            Re::Inter(parts, _) => Ok(Test::All(
                parts
                    .iter()
                    .map(|p| self.top(p))
                    .collect::<Result<_, _>>()?,
            )),
            Re::Compl(inner, _) => Ok(Test::Not(Box::new(self.top(inner)?))),
            other => {
                let (pos, construct) = other.first_bool().unwrap_or((0, "operator"));
                Err(self.source.unsupported(pos, construct))
            }
        }
    }

    /// Alternatives without `&`/`~`: wildcard-shaped ones share one wildcard set, the others
    /// one anchored regex.
    fn leaf(&self, nodes: &[&Re]) -> Result<Test, PatternError> {
        fn flatten<'r>(re: &'r Re, out: &mut Vec<&'r Re>) {
            match re {
                Re::Union(alts) => alts.iter().for_each(|a| flatten(a, out)),
                other => out.push(other),
            }
        }
        let mut flat = Vec::new();
        for n in nodes {
            flatten(n, &mut flat);
        }
        let ci = self.case_insensitive;
        let mut wild = Vec::new();
        let mut rest = Vec::new();
        for n in flat {
            let mut toks = Vec::new();
            if self.fast_paths && to_wildcard(n, ci, &mut toks) {
                wild.push(toks);
            } else {
                rest.push(n);
            }
        }
        let mut tests = Vec::new();
        if !wild.is_empty() {
            tests.push(Test::Wildcard(WildcardSet::from_tokens(wild, ci)));
        }
        if !rest.is_empty() {
            let mut body = String::new();
            for (i, n) in rest.iter().enumerate() {
                if i > 0 {
                    body.push('|');
                }
                emit(n, ci, &mut body).map_err(|(pos, c)| self.source.unsupported(pos, c))?;
            }
            let pattern = format!("(?s)^(?:{body})$");
            let regex = regex::Regex::new(&pattern).map_err(|e| {
                let text = self.source.patterns.join("|");
                PatternError::Invalid(format!(
                    "regular expression {text:?} is too large or complex to compile: {e}"
                ))
            })?;
            tests.push(Test::Regex(regex));
        }
        Ok(if tests.len() == 1 {
            tests.pop().unwrap_or(Test::Any(Vec::new()))
        } else {
            Test::Any(tests)
        })
    }
}

/// One or more Lucene regular expressions OR'ed together, anchored.
///
/// The patterns are joined with `|` and parsed as Lucene's `RegExp` would parse them (see the
/// module documentation for the syntax). Alternatives that only use literals, `.` and "any
/// string" (`.*`, `.*?`, `@`) run on the wildcard matcher and its substring fast paths; the rest
/// become one anchored `regex` with `.` matching newlines and case variants spelled out as
/// classes.
#[derive(Debug, Clone)]
pub struct RegexSet {
    test: Test,
}

impl RegexSet {
    pub fn new(patterns: &[&str], case_insensitive: bool) -> Result<RegexSet, PatternError> {
        RegexSet::build(patterns, case_insensitive, true)
    }

    fn build(
        patterns: &[&str],
        case_insensitive: bool,
        fast_paths: bool,
    ) -> Result<RegexSet, PatternError> {
        if patterns.is_empty() {
            return Ok(RegexSet {
                test: Test::Any(Vec::new()),
            });
        }
        let mut starts = Vec::with_capacity(patterns.len());
        let mut offset = 0;
        for p in patterns {
            starts.push(offset);
            offset += p.chars().count() + 1;
        }
        let source = Source { patterns, starts };
        let parser = Parser {
            s: patterns.join("|").chars().collect(),
            pos: 0,
            case_insensitive,
            depth: 0,
        };
        let re = parser.parse().map_err(|e| source.error(e.pos, &e.msg))?;
        let compiler = Compiler {
            source,
            case_insensitive,
            fast_paths,
        };
        Ok(RegexSet {
            test: compiler.top(&re)?,
        })
    }

    pub fn is_match(&self, text: &str) -> bool {
        self.test.is_match(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    // --- reference matchers ------------------------------------------------------------------

    /// Lucene's rule, straight from the expansion: the pattern character accepts its variants.
    fn ref_char_eq(p: char, t: char, ci: bool) -> bool {
        p == t || (ci && case_variants(p).contains(&t))
    }

    /// A plain backtracking wildcard matcher over code points.
    fn ref_wildcard(p: &[char], t: &[char], ci: bool) -> bool {
        match p.split_first() {
            None => t.is_empty(),
            Some(('*', rest)) => {
                ref_wildcard(rest, t, ci) || (!t.is_empty() && ref_wildcard(p, &t[1..], ci))
            }
            Some(('?', rest)) => !t.is_empty() && ref_wildcard(rest, &t[1..], ci),
            Some((&c, rest)) => {
                !t.is_empty() && ref_char_eq(c, t[0], ci) && ref_wildcard(rest, &t[1..], ci)
            }
        }
    }

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    fn ref_set(patterns: &[&str], ci: bool, text: &str) -> bool {
        patterns
            .iter()
            .any(|p| ref_wildcard(&chars(p), &chars(text), ci))
    }

    /// A wildcard pattern written as an equivalent Lucene regular expression.
    fn wildcard_to_lucene(p: &str) -> String {
        let mut out = String::new();
        for c in p.chars() {
            match c {
                '*' => out.push_str(".*"),
                '?' => out.push('.'),
                c if c.is_ascii_alphanumeric() => out.push(c),
                c => {
                    out.push('\\');
                    out.push(c);
                }
            }
        }
        out
    }

    // --- case folding --------------------------------------------------------------------------

    #[test]
    fn fold_case_examples() {
        let cases = [
            ("hello", "hello"),
            ("HeLLo", "hello"),
            ("C:\\Windows\\System32", "c:\\windows\\system32"),
            ("CAFÉ", "café"),
            ("É", "é"),
            ("ß", "ß"),
            ("\u{1E9E}", "ß"),
            ("STRASSE", "strasse"),
            ("\u{130}", "\u{130}"),
            ("\u{131}", "\u{131}"),
            ("I", "i"),
            ("\u{212A}", "k"),
            ("\u{17F}", "s"),
            ("Σς", "σσ"),
            ("ǅ", "ǆ"),
            ("ÅÅ", "åå"),
            ("日本😀", "日本😀"),
            ("", ""),
        ];
        for (input, want) in cases {
            assert_eq!(fold_case(input), want, "fold_case({input:?})");
        }
        assert!(matches!(fold_case("already lower"), Cow::Borrowed(_)));
        assert!(matches!(fold_case("déjà vu"), Cow::Borrowed(_)));
    }

    /// `fold_char` classes are exactly Lucene's expansion sets, for every code point.
    #[test]
    fn fold_char_agrees_with_lucene_expansion_everywhere() {
        let all: Vec<char> = (0..=0x10FFFFu32).filter_map(char::from_u32).collect();
        let mut classes: HashMap<char, Vec<char>> = HashMap::new();
        for &c in &all {
            classes.entry(fold_char(c)).or_default().push(c);
        }
        for &c in &all {
            let f = fold_char(c);
            assert_eq!(fold_char(f), f, "fold is idempotent at U+{:04X}", c as u32);
            if !folds_exactly(c) {
                assert_eq!(classes[&f], vec![c], "U+{:04X} is its own class", c as u32);
                continue;
            }
            let mut variants = case_variants(c);
            variants.sort_unstable();
            assert_eq!(variants, classes[&f], "class of U+{:04X}", c as u32);
        }
        let to_ascii: Vec<char> = all
            .iter()
            .copied()
            .filter(|c| !c.is_ascii() && fold_char(*c).is_ascii())
            .collect();
        assert_eq!(to_ascii, vec!['\u{17F}', '\u{212A}']);
    }

    #[test]
    fn case_variants_follow_lucene() {
        let cases: &[(char, &[char])] = &[
            ('a', &['a', 'A']),
            ('A', &['A', 'a']),
            ('1', &['1']),
            ('k', &['k', 'K', '\u{212A}']),
            ('\u{212A}', &['\u{212A}', 'k', 'K']),
            ('s', &['s', 'S', '\u{17F}']),
            ('ß', &['ß', '\u{1E9E}']),
            ('\u{1E9E}', &['\u{1E9E}', 'ß']),
            ('i', &['i', 'I']),
            ('I', &['I', 'i']),
            ('\u{131}', &['\u{131}', 'I']),
            ('\u{130}', &['\u{130}', 'i']),
            ('ς', &['ς', 'Σ', 'σ']),
            ('\u{1F80}', &['\u{1F80}', '\u{1F88}']),
            ('\u{1F88}', &['\u{1F88}', '\u{1F80}']),
            ('\u{1FB3}', &['\u{1FB3}', '\u{1FBC}']),
            ('\u{345}', &['\u{345}', '\u{399}', '\u{3B9}', '\u{1FBE}']),
        ];
        for (c, want) in cases {
            assert_eq!(case_variants(*c), *want, "variants of {c:?}");
        }
    }

    #[test]
    fn eq_ignore_case_table() {
        let cases = [
            ("hello", "HELLO", true),
            ("hello", "hello!", false),
            ("", "", true),
            ("a", "", false),
            ("café", "CAFÉ", true),
            ("É", "é", true),
            ("straße", "STRASSE", false),
            ("straße", "STRAẞE", true),
            ("STRAẞE", "straße", true),
            ("\u{212A}", "k", true),
            ("K", "\u{212A}", true),
            ("\u{17F}", "S", true),
            ("ς", "Σ", true),
            ("ǅ", "ǆ", true),
            // Turkish letters: the literal (second argument) decides.
            ("I", "\u{131}", true),
            ("\u{131}", "I", false),
            ("i", "\u{131}", false),
            ("i", "\u{130}", true),
            ("\u{130}", "i", false),
            ("\u{130}", "I", false),
            ("\u{130}", "\u{130}", true),
            ("日本", "日本", true),
            ("日本", "日", false),
        ];
        for (value, literal, want) in cases {
            assert_eq!(
                eq_ignore_case(value, literal),
                want,
                "eq_ignore_case({value:?}, {literal:?})"
            );
            if folds_exactly_all(literal) {
                assert_eq!(
                    fold_case(value) == fold_case(literal),
                    want,
                    "{value:?} {literal:?}"
                );
            }
        }
    }

    fn folds_exactly_all(s: &str) -> bool {
        s.chars().all(folds_exactly)
    }

    #[test]
    fn eq_ignore_case_script_is_javas_compare_to_ignore_case() {
        let cases = [
            ("hello", "HELLO", true),
            ("\u{131}", "i", true),
            ("\u{130}", "i", true),
            ("\u{130}", "\u{131}", true),
            ("ß", "\u{1E9E}", true),
            ("straße", "STRASSE", false),
            ("\u{212A}", "k", true),
            ("ς", "σ", true),
            ("a", "ab", false),
            ("é", "É", true),
        ];
        for (a, b, want) in cases {
            assert_eq!(eq_ignore_case_script(a, b), want, "{a:?} vs {b:?}");
            assert_eq!(eq_ignore_case_script(b, a), want, "{b:?} vs {a:?}");
        }
    }

    #[test]
    fn kelvin_and_long_s_detection() {
        assert!(has_kelvin_or_long_s("\u{212A}elvin"));
        assert!(has_kelvin_or_long_s("bo\u{17F}"));
        assert!(!has_kelvin_or_long_s("Ņ€ż日\u{2126}"));
        assert!(!has_kelvin_or_long_s("plain"));
    }

    // --- wildcards -----------------------------------------------------------------------------

    /// (patterns, case-insensitive, text, expected)
    type WildcardCase = (&'static [&'static str], bool, &'static str, bool);

    const WILDCARD_CASES: &[WildcardCase] = &[
        // Elasticsearch's conformance queries (additional_test_queries.toml).
        (&["1"], false, "1", true),
        (&["1*"], false, "13", true),
        (&["1*"], false, "31", false),
        (&["1?"], false, "1", false),
        (&["1?"], false, "13", true),
        (&["wininit.exe", "lsass.exe"], false, "wininit.exe", true),
        (&["wininit.exe", "lsass.exe"], false, "WININIT.EXE", false),
        (&["winInIT.exe", "lsASS.exe"], true, "wininit.exe", true),
        (&["winInIT.exe", "lsASS.exe"], true, "LSASS.EXE", true),
        (&["winini*.exe", "lsass.*"], false, "wininit.exe", true),
        (&["winini*.exe", "lsass.*"], false, "lsass.exe", true),
        (&["winini*.exe", "lsass.*"], false, "lsass", false),
        (&["winini*.exe", "lsass.*"], false, "winINIT.exe", false),
        (&["winIni*.exe", "lSaSs.*"], true, "WININIT.EXE", true),
        (&["winini?.exe", "lsass.e?e"], false, "lsass.exe", true),
        (&["winini?.exe", "lsass.e?e"], false, "wininit.exe", true),
        (&["winini?.exe", "lsass.e?e"], false, "winini.exe", false),
        (&["winini?.exe", "lsass.e?e"], false, "lsass.eexe", false),
        (&["winINI?.exE", "lSasS.E?E"], true, "wininit.exe", true),
        // Windows paths: the backslash is a literal, never an escape.
        (
            &["*\\red_ttp\\wininit.*"],
            false,
            "C:\\red_ttp\\wininit.exe",
            true,
        ),
        (
            &["*\\red_ttp\\wininit.*"],
            false,
            "C:\\red_ttp/wininit.exe",
            false,
        ),
        (
            &["*\\red_ttp\\wininit.*"],
            true,
            "C:\\RED_TTP\\WININIT.EXE",
            true,
        ),
        (
            &["C:\\Windows\\*"],
            true,
            "c:\\windows\\system32\\cmd.exe",
            true,
        ),
        (&["a\\*"], false, "a\\bcd", true),
        (&["a\\*"], false, "a*", false),
        (&["a\\?"], false, "a\\x", true),
        (&["a\\?"], false, "a?", false),
        (&["\\"], false, "\\", true),
        // No SQL wildcards.
        (&["100%"], false, "100%", true),
        (&["100%"], false, "1000", false),
        (&["a_c"], false, "abc", false),
        (&["a_c"], false, "a_c", true),
        // Stars and the empty pattern.
        (&["*"], false, "", true),
        (&["*"], true, "anything at all", true),
        (&["**"], false, "", true),
        (&["***"], false, "x", true),
        (&[""], false, "", true),
        (&[""], false, "a", false),
        (&[], false, "", false),
        (&[], true, "a", false),
        // `?` is one code point.
        (&["?"], false, "é", true),
        (&["?"], false, "😀", true),
        (&["?"], false, "", false),
        (&["??"], false, "😀", false),
        (&["??"], false, "é😀", true),
        (&["?*?"], false, "日", false),
        (&["?*?"], false, "日本", true),
        (&["caf?"], false, "café", true),
        (&["*?"], false, "", false),
        (&["*??*"], false, "日", false),
        // Non-ASCII case folding.
        (&["*é*"], true, "CAFÉ AU LAIT", true),
        (&["*É*"], true, "café", true),
        (&["café"], true, "CAFÉ", true),
        (&["café"], false, "CAFÉ", false),
        (&["straße"], true, "STRASSE", false),
        (&["straße"], true, "STRAẞE", true),
        (&["STRAẞE"], true, "straße", true),
        (&["*k*"], true, "\u{212A}elvin", true),
        (&["k*"], true, "\u{212A}elvin", true),
        (&["*n"], true, "\u{212A}elvin", true),
        (&["\u{212A}*"], true, "kelvin", true),
        (&["k*"], false, "\u{212A}elvin", false),
        (&["*s"], true, "bo\u{17F}", true),
        (&["\u{17F}"], true, "S", true),
        (&["σ"], true, "ς", true),
        (&["Σ*"], true, "ςx", true),
        (&["*ǅ*"], true, "xǆx", true),
        // Turkish letters: the pattern side decides.
        (&["\u{131}*"], true, "Istanbul", true),
        (&["\u{131}*"], true, "istanbul", false),
        (&["I*"], true, "\u{131}stanbul", false),
        (&["\u{130}*"], true, "istanbul", true),
        (&["\u{130}*"], true, "Istanbul", false),
        (&["i*"], true, "\u{130}stanbul", false),
        (&["*\u{131}"], true, "I", true),
        (&["d\u{131}?"], true, "DIX", true),
        // General shapes.
        (&["a*b*c"], false, "abc", true),
        (&["a*b*c"], false, "aXbYc", true),
        (&["a*b*c"], false, "acb", false),
        (&["a*b*c"], false, "abcb", false),
        (&["*a?c*"], false, "xxabcxx", true),
        (&["*a?c*"], false, "xxacxx", false),
        (&["a*a"], false, "a", false),
        (&["a*a"], false, "aa", true),
        (&["*ab*ab*"], false, "abab", true),
        (&["*ab*ab*"], false, "aba", false),
        (&["?*b"], false, "b", false),
        (&["?*b"], false, "xb", true),
        (&["*.exe"], true, "CMD.EXE", true),
        (&["*.exe"], false, "CMD.EXE", false),
        (&["x*a?c*y"], false, "xaaacy", true),
        (&["x*a?c*y"], true, "XAAACY", true),
        (&["a*?b"], false, "ab", false),
        (&["a*?b"], false, "a日b", true),
        (&["*日*本*"], false, "日x本", true),
        (&["*日*本*"], false, "本x日", false),
    ];

    #[test]
    fn wildcard_table() {
        for &(patterns, ci, text, want) in WILDCARD_CASES {
            let set = WildcardSet::new(patterns, ci);
            assert_eq!(
                set.is_match(text),
                want,
                "{patterns:?} (ci={ci}) on {text:?}"
            );
            assert_eq!(
                ref_set(patterns, ci, text),
                want,
                "reference: {patterns:?} (ci={ci}) on {text:?}"
            );
        }
    }

    /// The detection rule's shape: many `like~ "*term*"` alternatives in one automaton.
    #[test]
    fn many_contains_terms_share_one_automaton() {
        let terms = [
            "*password*",
            "*passwd*",
            "*credential*",
            "*secret*",
            "*api key*",
            "*apikey*",
            "*token*",
            "*private key*",
            "*ssh key*",
            "*vpn*",
            "*network diagram*",
            "*aws*",
            "*azure*",
            "*login*",
            "*admin*",
            "*root*",
            "*k8s*",
        ];
        let set = WildcardSet::new(&terms, true);
        assert!(matches!(set.inner.contains, Some(Contains::Packed(_))));
        assert!(set.inner.globs.is_empty());
        let cases = [
            ("User searched for PASSWORD reset instructions", true),
            ("where is the Network Diagram for DC2", true),
            ("Kubernetes K8S cluster", true),
            ("quarterly planning notes", false),
            ("", false),
            // Kelvin sign folds to `k`: `k8s` is in "\u{212A}8s".
            ("\u{212A}8s notes", true),
            // Long s folds to `s`: "ſecret" holds "secret".
            ("top \u{17F}ecret", true),
            ("café vpn notes", true),
            ("CAFÉ", false),
        ];
        for (text, want) in cases {
            assert_eq!(set.is_match(text), want, "{text:?}");
            assert_eq!(ref_set(&terms, true, text), want, "reference {text:?}");
        }
        let sensitive = WildcardSet::new(&terms, false);
        assert!(!sensitive.is_match("User searched for PASSWORD reset"));
        assert!(sensitive.is_match("User searched for password reset"));
    }

    #[test]
    fn fast_paths_are_chosen() {
        let set = WildcardSet::new(&["abc", "pre*", "*suf", "*mid*", "a*b?c"], false);
        assert!(matches!(&set.inner.exact, Exact::Few(v) if v.len() == 1));
        assert_eq!(set.inner.prefixes.len(), 1);
        assert_eq!(set.inner.suffixes.len(), 1);
        assert!(matches!(set.inner.contains, Some(Contains::One(_))));
        assert_eq!(set.inner.globs.len(), 1);
        assert!(!set.inner.match_all);
        assert!(WildcardSet::new(&["x", "**"], false).inner.match_all);
        let ascii = WildcardSet::new(&["*abc*"], true);
        assert_eq!(ascii.inner.text_fold, TextFold::Never);
        let ks = WildcardSet::new(&["*ask*"], true);
        assert_eq!(ks.inner.text_fold, TextFold::KelvinOrLongS);
        let accents = WildcardSet::new(&["*é*"], true);
        assert_eq!(accents.inner.text_fold, TextFold::Always);
        let turkish = WildcardSet::new(&["\u{131}*"], true);
        assert_eq!(turkish.inner.char_globs.len(), 1);
    }

    /// Case-insensitive substring search lowercases long texts window by window: every offset,
    /// including those straddling window boundaries, must be found.
    #[test]
    fn long_texts_are_searched_across_windows() {
        let long_literal = format!("Needle{}End", "x".repeat(150));
        let literals = ["PassWord", "Needle-Two", long_literal.as_str()];
        for literal in literals {
            let single = WildcardSet::new(&[format!("*{literal}*").as_str()], true);
            let packed = WildcardSet::new(&[format!("*{literal}*").as_str(), "*zzqqzz*"], true);
            assert!(matches!(packed.inner.contains, Some(Contains::Packed(_))));
            for offset in (0..40).chain(200..300).chain(480..530) {
                let mut text = "-".repeat(offset);
                text.push_str(&literal.to_uppercase());
                text.push_str(&"-".repeat(700 - offset.min(700)));
                assert!(single.is_match(&text), "{literal} at {offset}");
                assert!(packed.is_match(&text), "{literal} at {offset} (packed)");
                let broken = text.replacen(&literal.to_uppercase()[1..], "", 1);
                assert!(!single.is_match(&broken), "{literal} removed at {offset}");
            }
        }
    }

    #[test]
    fn many_exact_values_use_a_hash_set() {
        let owned: Vec<String> = (0..40).map(|i| format!("Value{i}")).collect();
        let patterns: Vec<&str> = owned.iter().map(String::as_str).collect();
        let ci = WildcardSet::new(&patterns, true);
        assert!(matches!(ci.inner.exact, Exact::Many(_)));
        assert!(ci.is_match("VALUE17"));
        assert!(ci.is_match("value39"));
        assert!(!ci.is_match("value40"));
        let cs = WildcardSet::new(&patterns, false);
        assert!(cs.is_match("Value17"));
        assert!(!cs.is_match("VALUE17"));
        let accents: Vec<String> = (0..20).map(|i| format!("Été{i}")).collect();
        let accents: Vec<&str> = accents.iter().map(String::as_str).collect();
        let set = WildcardSet::new(&accents, true);
        assert!(set.is_match("ÉTÉ7"));
        assert!(!set.is_match("ETE7"));
    }

    // --- regular expressions -------------------------------------------------------------------

    /// (patterns, case-insensitive, text, expected)
    type RegexCase = (&'static [&'static str], bool, &'static str, bool);

    const REGEX_CASES: &[RegexCase] = &[
        // Elasticsearch's conformance queries.
        (
            &[".*?net1[ ]+localgroup.*?"],
            false,
            "net1 localgroup administrators",
            true,
        ),
        (
            &[".*?net1[ ]+localgroup.*?"],
            false,
            "C:\\Windows\\net1  localgroup",
            true,
        ),
        (
            &[".*?net1[ ]+localgroup.*?"],
            false,
            "net1localgroup",
            false,
        ),
        (
            &[".*?net1[ ]+localgroup.*?"],
            false,
            "NET1 LOCALGROUP",
            false,
        ),
        (&[".*?net1[ ]+localgroup.*?"], true, "NET1 LOCALGROUP", true),
        (
            &[".*?net1.*?"],
            false,
            "c:\\windows\\system32\\net1.exe",
            true,
        ),
        (&[".*?net1.*?"], false, "NET1", false),
        (&[".*?net1.*?"], true, "C:\\NET1.EXE", true),
        (
            &[".*?net1[ ]+[a-z]{4,15}[ ]+.*?"],
            false,
            "net1 localgroup admin",
            true,
        ),
        (
            &[".*?net1[ ]+[a-z]{4,15}[ ]+.*?"],
            false,
            "net1 LOCALGROUP admin",
            false,
        ),
        (
            &[".*?net1[ ]+[a-z]{4,15}[ ]+.*?"],
            false,
            "net1 abc admin",
            false,
        ),
        // Ranges are not case-folded, even by `regex~`.
        (
            &[".*?net1[ ]+[a-z]{4,15}[ ]+.*?"],
            true,
            "NET1 LOCALGROUP ADMIN",
            false,
        ),
        (
            &[".*?net[1]?  localgroup.*?", ".*? myappserver.py .*?"],
            false,
            "net  localgroup",
            true,
        ),
        (
            &[".*?net[1]?  localgroup.*?", ".*? myappserver.py .*?"],
            false,
            "net1  localgroup",
            true,
        ),
        (
            &[".*?net[1]?  localgroup.*?", ".*? myappserver.py .*?"],
            false,
            "python myappserver.py run",
            true,
        ),
        (
            &[".*?net[1]?  localgroup.*?", ".*? myappserver.py .*?"],
            false,
            "net localgroup",
            false,
        ),
        // Anchored; `.` is any code point, newlines included.
        (&["net"], false, "net1", false),
        (&["net.*"], false, "net1", true),
        (&["a.b"], false, "a\nb", true),
        (&[".*"], false, "a\nb", true),
        (&["."], false, "😀", true),
        (&["."], false, "é", true),
        (&[".."], false, "😀", false),
        // Predefined classes are ASCII.
        (&["\\d+"], false, "123", true),
        (&["\\d+"], false, "١٢٣", false),
        (&["\\D"], false, "x", true),
        (&["\\D"], false, "5", false),
        (&["\\s"], false, "\t", true),
        (&["\\s"], false, "\u{A0}", false),
        (&["\\S+"], false, "ab", true),
        (&["\\S"], false, " ", false),
        (&["\\w+"], false, "a_Z9", true),
        (&["\\w"], false, "é", false),
        (&["\\W"], false, "é", true),
        (&["\\W"], false, "_", false),
        (&["[\\d]+"], false, "42", true),
        (&["[^\\d]"], false, "4", false),
        (&["[\\w.]+"], false, "a.b", true),
        // Strings, `@` and `#`.
        (&["\"a.b\""], false, "a.b", true),
        (&["\"a.b\""], false, "axb", false),
        (&["\"a.b\""], true, "A.B", true),
        (&["x\"*\"y"], false, "x*y", true),
        (&["@"], false, "anything\n", true),
        (&["@"], false, "", true),
        (&["a@"], false, "abc", true),
        (&["#"], false, "", false),
        (&["a|#"], false, "a", true),
        (&["a#"], false, "a", false),
        // Numeric intervals.
        (&["<1-10>"], false, "7", true),
        (&["<1-10>"], false, "10", true),
        (&["<1-10>"], false, "010", true),
        (&["<1-10>"], false, "0", false),
        (&["<1-10>"], false, "11", false),
        (&["<01-10>"], false, "01", true),
        (&["<01-10>"], false, "1", false),
        (&["<01-10>"], false, "001", false),
        (&["<10-01>"], false, "05", true),
        (&["foo<1-100>"], false, "foo042", true),
        (&["foo<1-100>"], false, "foo101", false),
        // Case rules of `regex~`: characters expand, ranges do not.
        (&["[a-c]+"], true, "ABC", false),
        (&["[abc]+"], true, "ABC", true),
        (&["[^a]"], true, "A", false),
        (&["[^a]"], false, "A", true),
        (&["[\\é]"], true, "É", true),
        (&["[\\éx]"], true, "É", false),
        (&["[1]"], true, "1", true),
        (&["\\w+"], true, "ABC", true),
        (&["k"], true, "\u{212A}", true),
        (&["\"\u{17F}\""], true, "S", true),
        (&["\u{131}.*"], true, "Istanbul", true),
        (&["\u{131}.*"], true, "istanbul", false),
        (&["\u{130}"], true, "i", true),
        (&["i"], true, "\u{130}", false),
        (&["[\u{131}x]y"], true, "Iy", true),
        (&["[\u{131}x]y"], true, "iy", false),
        // Top-level intersection and complement.
        (&["~(.*foo.*)"], false, "bar", true),
        (&["~(.*foo.*)"], false, "a foo b", false),
        (&[".*a.*&.*b.*"], false, "ab", true),
        (&[".*a.*&.*b.*"], false, "a", false),
        (&["~a|b"], false, "b", true),
        (&["~a|b"], false, "a", false),
        (&["~a|b"], false, "c", true),
        (&["(.*a.*&.*b.*)|c"], false, "c", true),
        (&["(.*a.*&.*b.*)|c"], false, "ba", true),
        (&["(.*a.*&.*b.*)|c"], false, "b", false),
        (&["~~a"], false, "a", true),
        (&["~(a)", "b"], false, "b", true),
        (&[".*&~(.*secret.*)"], true, "TOP SECRET", false),
        // No anchors, no lazy quantifiers, and literal oddities.
        (&["^abc$"], false, "^abc$", true),
        (&["^abc$"], false, "abc", false),
        (&["*abc"], false, "*abc", true),
        (&["a\\*"], false, "a*", true),
        (&["a\\*"], false, "aa", false),
        (&["]"], false, "]", true),
        (&["}"], false, "}", true),
        (&["{"], false, "{", true),
        (&[")"], false, ")", true),
        (&["a|)"], false, ")", true),
        (&["(|)"], false, "|", true),
        (&["&a"], false, "&a", true),
        (&["a.*?"], false, "a", true),
        (&["a.*?"], false, "abc", true),
        (&["a+?"], false, "", true),
        (&["a??"], false, "", true),
        (&["[]a]+"], false, "]a]", true),
        (&["[-a]+"], false, "-a", true),
        (&["[\\.-z]"], false, "-", true),
        (&["[\\.-z]"], false, "y", false),
        (&["a()b"], false, "ab", true),
        (&["()*"], false, "", true),
        (&["()"], false, "x", false),
        // Repetition.
        (&["(ab)+"], false, "abab", true),
        (&["(ab)+"], false, "aba", false),
        (&["a{3}"], false, "aaa", true),
        (&["a{3}"], false, "aa", false),
        (&["a{2,}"], false, "aaaa", true),
        (&["a{1,2}"], false, "aaa", false),
        (&["a{0}"], false, "", true),
        (&[".{3}"], false, "日本語", true),
        (&[".+"], false, "", false),
        (&[".+"], false, "x", true),
        // Backslashes.
        (&["\\\\"], false, "\\", true),
        (
            &["C:\\\\Windows\\\\.*"],
            true,
            "c:\\windows\\notepad.exe",
            true,
        ),
        (
            &["C:\\\\Windows\\\\.*"],
            false,
            "c:\\windows\\notepad.exe",
            false,
        ),
        (
            &[".*\\\\red_ttp\\\\wininit\\..*"],
            false,
            "C:\\red_ttp\\wininit.exe",
            true,
        ),
        // Empty patterns, joined with `|` as Elasticsearch joins them.
        (&[""], false, "", true),
        (&[""], false, "a", false),
        (&["", "b"], false, "b", false),
        (&["", "b"], false, "|b", true),
        (&["a", "b"], false, "b", true),
        (&["(a", "b)"], false, "b", true),
        (&[], false, "", false),
    ];

    #[test]
    fn regex_table() {
        for &(patterns, ci, text, want) in REGEX_CASES {
            for fast in [true, false] {
                let set = RegexSet::build(patterns, ci, fast)
                    .unwrap_or_else(|e| panic!("{patterns:?} (ci={ci}): {e}"));
                assert_eq!(
                    set.is_match(text),
                    want,
                    "{patterns:?} (ci={ci}, fast paths {fast}) on {text:?}"
                );
            }
        }
    }

    #[test]
    fn regex_fast_paths_are_chosen() {
        let set = RegexSet::new(&[".*?net1.*?"], true).unwrap();
        match &set.test {
            Test::Wildcard(w) => assert!(matches!(w.inner.contains, Some(Contains::One(_)))),
            other => panic!("expected a wildcard set, got {other:?}"),
        }
        let set = RegexSet::new(&["lsass.exe", "a.b", ".+x"], false).unwrap();
        assert!(matches!(set.test, Test::Wildcard(_)));
        let mixed = RegexSet::new(&[".*abc.*", "[0-9]+"], false).unwrap();
        assert!(matches!(&mixed.test, Test::Any(t) if t.len() == 2));
    }

    #[test]
    fn regex_errors_name_the_construct_and_position() {
        let cases: &[(&[&str], &[&str])] = &[
            (&["(a"], &["expected ')'", "position 2"]),
            (&["a{2,1}"], &["out of order", "2..1"]),
            (&["\\q"], &["invalid character class \\q", "position 0"]),
            (&["[\\q]"], &["invalid character class \\q"]),
            (&["<abc>"], &["named automaton `<abc>`", "not found"]),
            (&["a)"], &["end of pattern expected", "position 1"]),
            (&["[a"], &["expected ']'"]),
            (&["\"abc"], &["expected '\"'"]),
            (&["a{"], &["integer expected"]),
            (&["a{1"], &["expected '}'"]),
            (&["[z-a]"], &["invalid range", "122", "97"]),
            (&["[a-]"], &["invalid range"]),
            (
                &["x(a&b)"],
                &["intersection `&`", "position 3", "top of a pattern"],
            ),
            (&["a~b"], &["complement `~`", "position 1"]),
            (&["(a~b)*"], &["complement `~`", "position 2"]),
            (&["a|"], &["unexpected end of pattern"]),
            (&["\\"], &["unexpected end of pattern"]),
            (&["a&"], &["unexpected end of pattern"]),
            (&["<1-2-3>"], &["interval syntax error"]),
            (&["<a-b>"], &["interval syntax error"]),
            (&["<-5>"], &["interval syntax error"]),
            (&["a{99999999999}"], &["too large"]),
            (
                &["abc", "(x"],
                &["pattern 2 of 2", "\"(x\"", "expected ')'", "position 2"],
            ),
        ];
        for (patterns, needles) in cases {
            for ci in [false, true] {
                let err = match RegexSet::new(patterns, ci) {
                    Ok(_) => panic!("{patterns:?} should be rejected"),
                    Err(PatternError::Invalid(msg)) => msg,
                };
                for needle in *needles {
                    assert!(
                        err.contains(needle),
                        "{patterns:?}: {err:?} lacks {needle:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("{}a{}", "(".repeat(5000), ")".repeat(5000));
        assert!(RegexSet::new(&[deep.as_str()], false).is_err());
        let tildes = format!("{}a", "~".repeat(5000));
        assert!(RegexSet::new(&[tildes.as_str()], false).is_err());
        let ok = format!("{}a{}", "(".repeat(90), ")".repeat(90));
        assert!(RegexSet::new(&[ok.as_str()], false).unwrap().is_match("a"));
    }

    /// Lucene's `makeDecimalInterval`, checked number by number.
    #[test]
    fn intervals_match_brute_force() {
        let ranges = [
            (0, 0, 0),
            (0, 9, 0),
            (1, 10, 0),
            (5, 123, 0),
            (10, 19, 0),
            (99, 1000, 0),
            (7, 7, 1),
            (1, 10, 2),
            (0, 100, 3),
            (0, 0, 3),
            (123, 456, 3),
            (0, 1099, 4),
        ];
        for (min, max, digits) in ranges {
            let re =
                regex::Regex::new(&format!("^(?:{})$", interval_regex(min, max, digits))).unwrap();
            for v in 0u32..1500 {
                for zeros in 0..3 {
                    let s = format!("{}{v}", "0".repeat(zeros));
                    let want = (min..=max).contains(&v) && (digits == 0 || s.len() == digits);
                    assert_eq!(
                        re.is_match(&s),
                        want,
                        "<{min}-{max}> digits={digits} on {s:?}"
                    );
                }
            }
            assert!(!re.is_match(""));
        }
    }

    // --- properties ----------------------------------------------------------------------------

    const ALPHABET: &[char] = &[
        'a', 'A', 'b', 'k', 'K', '\u{212A}', 's', 'S', '\u{17F}', 'é', 'É', 'ß', '\u{1E9E}', 'i',
        'I', '\u{130}', '\u{131}', 'σ', 'ς', 'Σ', '日', '😀', '\\', '%', '_', '.', '-', '"', '(',
        '[', '&', '~', '<', '#', '@', '|', '\n',
    ];

    fn pattern_char() -> impl Strategy<Value = char> {
        prop_oneof![
            6 => prop::sample::select(ALPHABET),
            2 => Just('*'),
            1 => Just('?'),
        ]
    }

    fn text_char() -> impl Strategy<Value = char> {
        prop_oneof![
            10 => prop::sample::select(ALPHABET),
            1 => Just('*'),
            1 => Just('?'),
        ]
    }

    /// A text `pattern` matches: stars and `?` filled from `fill`, literals possibly swapped for
    /// a case variant.
    fn instantiate(pattern: &str, fill: &[char], pick: u64) -> String {
        let mut out = String::new();
        let mut k = pick;
        for (i, c) in pattern.chars().enumerate() {
            k = k.rotate_left(7) ^ (i as u64);
            match c {
                '*' => out.extend(fill.iter().take((k % 4) as usize)),
                '?' => out.push(fill.first().copied().unwrap_or('x')),
                c => {
                    let v = case_variants(c);
                    out.push(v[(k as usize) % v.len()]);
                }
            }
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        #[test]
        fn wildcard_set_agrees_with_reference(
            patterns in prop::collection::vec(prop::collection::vec(pattern_char(), 0..8), 1..4),
            texts in prop::collection::vec(prop::collection::vec(text_char(), 0..10), 1..4),
            fill in prop::collection::vec(text_char(), 0..4),
            pick in any::<u64>(),
            ci in any::<bool>(),
        ) {
            let patterns: Vec<String> = patterns.into_iter().map(|p| p.into_iter().collect()).collect();
            let refs: Vec<&str> = patterns.iter().map(String::as_str).collect();
            let set = WildcardSet::new(&refs, ci);
            let mut texts: Vec<String> = texts.into_iter().map(|t| t.into_iter().collect()).collect();
            texts.extend(patterns.iter().map(|p| instantiate(p, &fill, pick)));
            for text in &texts {
                let want = ref_set(&refs, ci, text);
                prop_assert_eq!(set.is_match(text), want, "{:?} ci={} on {:?}", refs, ci, text);
            }
        }

        #[test]
        fn regex_set_agrees_with_reference(
            patterns in prop::collection::vec(prop::collection::vec(pattern_char(), 0..7), 1..3),
            texts in prop::collection::vec(prop::collection::vec(text_char(), 0..9), 1..3),
            fill in prop::collection::vec(text_char(), 0..4),
            pick in any::<u64>(),
            ci in any::<bool>(),
        ) {
            let patterns: Vec<String> = patterns.into_iter().map(|p| p.into_iter().collect()).collect();
            let refs: Vec<&str> = patterns.iter().map(String::as_str).collect();
            let lucene: Vec<String> = patterns.iter().map(|p| format!("({})", wildcard_to_lucene(p))).collect();
            let lucene: Vec<&str> = lucene.iter().map(String::as_str).collect();
            let fast = RegexSet::build(&lucene, ci, true).unwrap();
            let slow = RegexSet::build(&lucene, ci, false).unwrap();
            let mut texts: Vec<String> = texts.into_iter().map(|t| t.into_iter().collect()).collect();
            texts.extend(patterns.iter().map(|p| instantiate(p, &fill, pick)));
            for text in &texts {
                let want = ref_set(&refs, ci, text);
                prop_assert_eq!(fast.is_match(text), want, "{:?} ci={} on {:?}", lucene, ci, text);
                prop_assert_eq!(slow.is_match(text), want, "{:?} ci={} (regex) on {:?}", lucene, ci, text);
            }
        }

        #[test]
        fn eq_ignore_case_agrees_with_reference(
            literal in prop::collection::vec(prop::sample::select(ALPHABET), 0..6),
            value in prop::collection::vec(prop::sample::select(ALPHABET), 0..6),
            pick in any::<u64>(),
        ) {
            let literal: String = literal.into_iter().collect();
            let mut values = vec![value.into_iter().collect::<String>()];
            values.push(instantiate(&literal, &[], pick));
            for value in &values {
                let want = ref_wildcard(&chars(&literal), &chars(value), true);
                prop_assert_eq!(eq_ignore_case(value, &literal), want, "{:?} vs {:?}", value, literal);
                prop_assert_eq!(WildcardSet::new(&[literal.as_str()], true).is_match(value), want);
                if folds_exactly_all(&literal) {
                    prop_assert_eq!(fold_case(value) == fold_case(&literal), want);
                }
            }
        }
    }

    // --- timing (run with `cargo test --release -- --ignored --nocapture timing`) --------------

    #[test]
    #[ignore]
    fn timing() {
        use std::hint::black_box;
        use std::time::Instant;
        fn time(label: &str, f: impl Fn() -> bool) {
            let n = 2_000_000;
            let start = Instant::now();
            let mut hits = 0;
            for _ in 0..n {
                hits += usize::from(black_box(f()));
            }
            let ns = start.elapsed().as_nanos() as f64 / n as f64;
            println!("{label:<48} {ns:>7.1} ns/match ({hits} hits)");
        }
        let message = "User jsmith viewed page 'Q3 Network Layout' in space IT-OPS ok";
        assert_eq!(message.len(), 62);
        let terms: Vec<String> = (0..20).map(|i| format!("*term{i:02}x*")).collect();
        let terms: Vec<&str> = terms.iter().map(String::as_str).collect();
        let twenty = WildcardSet::new(&terms, true);
        time("20 *term* like~ on a 62-byte message", || {
            twenty.is_match(black_box(message))
        });
        let realistic = [
            "*password*",
            "*passwd*",
            "*credential*",
            "*secret*",
            "*api key*",
            "*apikey*",
            "*token*",
            "*private key*",
            "*ssh key*",
            "*vpn*",
            "*network diagram*",
            "*aws*",
            "*azure*",
            "*login*",
            "*admin*",
            "*root*",
            "*k8s*",
        ];
        let realistic = WildcardSet::new(&realistic, true);
        time("17 realistic *term* like~", || {
            realistic.is_match(black_box(message))
        });
        let one = WildcardSet::new(&["*password*"], true);
        time("*password* like~", || one.is_match(black_box(message)));
        let one_cs = WildcardSet::new(&["*password*"], false);
        time("*password* like", || one_cs.is_match(black_box(message)));
        let exact = WildcardSet::new(&["user jsmith viewed page"], true);
        time("exact : (ci)", || exact.is_match(black_box(message)));
        let prefix = WildcardSet::new(&["user*"], true);
        time("user* (ci)", || prefix.is_match(black_box(message)));
        let general = WildcardSet::new(&["*jsmith*page*it-?ps*"], true);
        time("*jsmith*page*it-?ps* (ci)", || {
            general.is_match(black_box(message))
        });
        let accented = format!("{message} café");
        time("20 *term* like~ on non-ASCII text", || {
            twenty.is_match(black_box(&accented))
        });
        let re = RegexSet::new(&[".*?net1[ ]+localgroup.*?"], true).unwrap();
        time("regex~ .*?net1[ ]+localgroup.*?", || {
            re.is_match(black_box(message))
        });
        let re = RegexSet::new(&[".*?network.*?"], true).unwrap();
        time("regex~ .*?network.*? (wildcard path)", || {
            re.is_match(black_box(message))
        });
        time("eq_ignore_case", || {
            eq_ignore_case(black_box(message), black_box(message))
        });
    }
}
