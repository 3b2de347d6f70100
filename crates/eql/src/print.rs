//! Writes a syntax tree back as canonical EQL.
//!
//! The canonical form is what `quarry check` shows and what exports write: lowercase keywords,
//! function names as the Elasticsearch reference spells them, single spaces around operators,
//! the fewest parentheses that keep the tree's shape, and one stage per line in sequences.
//! Printing then parsing gives back the same tree (spans aside): `parse(print(q)) == q`.

use std::fmt::{self, Display, Write};

use crate::ast::*;
use crate::lexer::Keyword;
use crate::parser::escape_string;

impl Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let multiline = !matches!(self.body, QueryBody::Event(_));
        match &self.body {
            QueryBody::Event(q) => write!(f, "{q}")?,
            QueryBody::Sequence(s) => write!(f, "{s}")?,
            QueryBody::Sample(s) => write!(f, "{s}")?,
        }
        for pipe in &self.pipes {
            let sep = if multiline { "\n" } else { " " };
            write!(f, "{sep}| {} {}", pipe.kind.name(), pipe.count)?;
        }
        Ok(())
    }
}

impl Display for EventQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} where {}", self.category, self.condition)
    }
}

impl Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Category::Any { .. } => f.write_str("any"),
            Category::Named { name, .. } if is_bare_identifier(name) => f.write_str(name),
            Category::Named { name, .. } => write!(f, "\"{}\"", escape_string(name)),
        }
    }
}

impl Display for Sequence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sequence")?;
        write_join_keys(f, &self.by)?;
        if let Some(maxspan) = &self.maxspan {
            write!(f, " with maxspan={maxspan}")?;
        }
        for stage in &self.stages {
            write!(f, "\n  {stage}")?;
        }
        if let Some(until) = &self.until {
            write!(f, "\nuntil {until}")?;
        }
        Ok(())
    }
}

impl Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let open = if self.missing { "![" } else { "[" };
        write!(f, "{open}{}]", self.query)?;
        write_join_keys(f, &self.by)?;
        if let Some(runs) = &self.runs {
            write!(f, " with runs={}", runs.count)?;
        }
        Ok(())
    }
}

impl Display for Sample {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sample")?;
        write_join_keys(f, &self.by)?;
        for stage in &self.stages {
            write!(f, "\n  [{}]", stage.query)?;
            write_join_keys(f, &stage.by)?;
        }
        Ok(())
    }
}

impl Display for TimeSpan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.value, self.unit.suffix())
    }
}

fn write_join_keys(f: &mut fmt::Formatter<'_>, keys: &[Expr]) -> fmt::Result {
    for (i, key) in keys.iter().enumerate() {
        f.write_str(if i == 0 { " by " } else { ", " })?;
        write!(f, "{key}")?;
    }
    Ok(())
}

use crate::parser::{
    BP_ADD as ADD, BP_AND as AND, BP_COMPARE as COMPARE, BP_MUL as MUL, BP_NOT as NOT, BP_OR as OR,
    BP_UNARY as UNARY,
};

/// Literals, fields and calls: tighter than any operator.
const PRIMARY: u8 = UNARY + 1;

/// The parser's binding power of the operator at the top of `e`.
fn precedence(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Or(_) => OR,
        ExprKind::And(_) => AND,
        ExprKind::Not(_) => NOT,
        ExprKind::Compare { .. } => COMPARE,
        ExprKind::Arithmetic { op, .. } if op.precedence() == 1 => ADD,
        ExprKind::Arithmetic { .. } => MUL,
        ExprKind::Negate(_) => UNARY,
        // A predicate binds to the primary before it; the whole is a unary-level operand.
        ExprKind::In { .. } | ExprKind::Match { .. } => UNARY,
        ExprKind::Literal(_) | ExprKind::Field(_) | ExprKind::Call { .. } => PRIMARY,
    }
}

/// Writes `e`, in parentheses if it binds more loosely than `min`.
fn write_operand(f: &mut fmt::Formatter<'_>, e: &Expr, min: u8) -> fmt::Result {
    if precedence(e) < min {
        write!(f, "({e})")
    } else {
        write!(f, "{e}")
    }
}

/// Whether `e` prints starting with a number: `-` before it would read back as a negative
/// literal (`-(5 : "a")` must not lose its parentheses).
fn starts_with_number(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Literal(Literal::Integer(_) | Literal::Float(_)) => true,
        ExprKind::In { value, .. } | ExprKind::Match { value, .. } => {
            precedence(value) >= PRIMARY && starts_with_number(value)
        }
        _ => false,
    }
}

impl Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Literal(l) => write!(f, "{l}"),
            ExprKind::Field(field) => write!(f, "{field}"),
            ExprKind::Or(operands) | ExprKind::And(operands) => {
                let (word, min) = match self.kind {
                    ExprKind::Or(_) => (" or ", AND),
                    _ => (" and ", NOT),
                };
                for (i, operand) in operands.iter().enumerate() {
                    if i > 0 {
                        f.write_str(word)?;
                    }
                    write_operand(f, operand, min)?;
                }
                Ok(())
            }
            ExprKind::Not(operand) => {
                f.write_str("not ")?;
                write_operand(f, operand, NOT)
            }
            ExprKind::Compare { op, left, right } => {
                write_operand(f, left, ADD)?;
                write!(f, " {} ", op.symbol())?;
                write_operand(f, right, ADD)
            }
            ExprKind::Arithmetic { op, left, right } => {
                let own = if op.precedence() == 1 { ADD } else { MUL };
                write_operand(f, left, own)?;
                write!(f, " {} ", op.symbol())?;
                write_operand(f, right, own + 1)
            }
            ExprKind::Negate(operand) => {
                f.write_char('-')?;
                // `-5` would read back as the literal -5. A nested negation is spaced (`- -x`),
                // not parenthesized, so that printing never deepens the nesting.
                if starts_with_number(operand) {
                    write!(f, "({operand})")
                } else if matches!(operand.kind, ExprKind::Negate(_)) {
                    write!(f, " {operand}")
                } else {
                    write_operand(f, operand, UNARY)
                }
            }
            ExprKind::In {
                value,
                list,
                negated,
                case_insensitive,
            } => {
                write_operand(f, value, PRIMARY)?;
                f.write_str(if *negated { " not in" } else { " in" })?;
                if *case_insensitive {
                    f.write_char('~')?;
                }
                f.write_str(" (")?;
                for (i, item) in list.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_char(')')
            }
            ExprKind::Match {
                value,
                op,
                patterns,
            } => {
                write_operand(f, value, PRIMARY)?;
                write!(f, " {} ", op.symbol())?;
                if let [single] = patterns.as_slice() {
                    return write!(f, "{}", single.literal);
                }
                f.write_char('(')?;
                for (i, pattern) in patterns.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}", pattern.literal)?;
                }
                f.write_char(')')
            }
            ExprKind::Call {
                function,
                case_insensitive,
                args,
                ..
            } => {
                f.write_str(function.name())?;
                if *case_insensitive {
                    f.write_char('~')?;
                }
                f.write_char('(')?;
                for (i, arg) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{arg}")?;
                }
                f.write_char(')')
            }
        }
    }
}

impl Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Null => f.write_str("null"),
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Integer(i) => write!(f, "{i}"),
            // `{:?}` keeps a decimal point or exponent (`1.0`, `1e300`), so the value reads back
            // as a float, and is the shortest text that reads back to the same bits.
            Literal::Float(x) => write!(f, "{x:?}"),
            Literal::String(s) => write!(f, "\"{}\"", escape_string(s)),
        }
    }
}

impl Display for FieldRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.optional {
            f.write_char('?')?;
        }
        for (i, segment) in self.path.iter().enumerate() {
            match segment {
                PathSegment::Name(name) => {
                    if i > 0 {
                        f.write_char('.')?;
                    }
                    if is_bare_identifier(name) {
                        f.write_str(name)?;
                    } else {
                        write!(f, "`{}`", name.replace('`', "``"))?;
                    }
                }
                PathSegment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// Whether `name` can be written without escaping: an EQL identifier that is not a keyword.
pub(crate) fn is_bare_identifier(name: &str) -> bool {
    let mut bytes = name.bytes();
    let Some(first) = bytes.next() else {
        return false;
    };
    (first.is_ascii_alphabetic() || first == b'_' || first == b'@')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && Keyword::from_text(name).is_none()
}
