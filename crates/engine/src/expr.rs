//! Conditions compiled against a field catalog, and their evaluation with Elasticsearch's
//! semantics.
//!
//! Elasticsearch runs an EQL condition in two ways, and the difference shows in results:
//!
//! - a bare field compared with constants (`x == 5`, `x : "a*"`, `x in (1, 2)`) becomes a
//!   Lucene query, which holds when *any* value of a multi-valued field matches;
//! - anything computed (`length(x) > 3`, `x + 1 == 5`) becomes a script, which reads a
//!   multi-valued field as its first doc value (the smallest, as doc values are sorted).
//!
//! The compiler keeps that split: [`Cond::FieldTest`] is the query form, [`Scalar`] the
//! script form. Logic is three-valued (Kleene): a comparison with a missing value is null, and a
//! `where` keeps only events whose condition is true. `x == null` and `x != null` test for
//! absence and presence, as Elasticsearch rewrites them.

use std::borrow::Cow;
use std::cmp::Ordering;

use quarry_eql::ast::{
    ArithmeticOp, CompareOp, Expr as AstExpr, ExprKind, FieldRef, Literal, MatchOp,
};
use quarry_eql::function::Function;
use quarry_eql::span::Span;
use quarry_event::{Event, FieldCatalog, FieldId, Value, ValueRef};

use crate::functions::{self, Cidr, Number};
use crate::pattern::{self, RegexSet, WildcardSet};

/// Why a verified query could still not be compiled (an invalid regex or CIDR block, or a
/// constant expression that fails, such as `number("x")`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct CompileError {
    pub message: String,
    pub span: Span,
}

impl CompileError {
    fn new(span: Span, message: impl Into<String>) -> Self {
        CompileError {
            message: message.into(),
            span,
        }
    }
}

/// A value during evaluation: a borrowed field value, or one computed by a function.
#[derive(Debug, Clone, PartialEq)]
pub enum Val<'a> {
    Null,
    Bool(bool),
    Integer(i64),
    Float(f64),
    String(Cow<'a, str>),
}

impl<'a> Val<'a> {
    /// A field value as a script reads it (arrays as their first doc value).
    pub fn from_field(v: ValueRef<'a>) -> Val<'a> {
        Val::from_ref(v)
    }

    fn from_ref(v: ValueRef<'a>) -> Val<'a> {
        match v {
            ValueRef::Null => Val::Null,
            ValueRef::Bool(b) => Val::Bool(b),
            ValueRef::Integer(i) => Val::Integer(i),
            ValueRef::Float(f) => Val::Float(f),
            ValueRef::String(s) => Val::String(Cow::Borrowed(s)),
            ValueRef::Array(items) => first_doc_value(items),
        }
    }

    fn from_value(v: &'a Value) -> Val<'a> {
        Val::from_ref(v.as_ref())
    }

    fn to_value(&self) -> Value {
        match self {
            Val::Null => Value::Null,
            Val::Bool(b) => Value::Bool(*b),
            Val::Integer(i) => Value::Integer(*i),
            Val::Float(f) => Value::Float(*f),
            Val::String(s) => Value::String(s.to_string()),
        }
    }

    fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Val::Null => ValueRef::Null,
            Val::Bool(b) => ValueRef::Bool(*b),
            Val::Integer(i) => ValueRef::Integer(*i),
            Val::Float(f) => ValueRef::Float(*f),
            Val::String(s) => ValueRef::String(s),
        }
    }

    fn number(&self) -> Option<Number> {
        match self {
            Val::Integer(i) => Some(Number::Integer(*i)),
            Val::Float(f) => Some(Number::Float(*f)),
            _ => None,
        }
    }

    fn truth(&self) -> Option<bool> {
        match self {
            Val::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

fn from_number(n: Number) -> Val<'static> {
    match n {
        Number::Integer(i) => Val::Integer(i),
        Number::Float(f) => Val::Float(f),
    }
}

/// How a script reads a multi-valued field: its first doc value. Doc values are sorted, so
/// that is the smallest value.
fn first_doc_value(items: &[Value]) -> Val<'_> {
    items
        .iter()
        .map(Val::from_value)
        .filter(|v| *v != Val::Null)
        .min_by(|a, b| compare(a, b).unwrap_or(Ordering::Equal))
        .unwrap_or(Val::Null)
}

/// Orders two values of comparable types: numbers numerically (integers and floats together),
/// strings by code point (UTF-8 byte order, as Elasticsearch orders keyword terms), booleans
/// false before true. `None` for values that cannot be compared (a string and a number, NaN).
pub fn compare(a: &Val<'_>, b: &Val<'_>) -> Option<Ordering> {
    match (a, b) {
        (Val::Integer(x), Val::Integer(y)) => Some(x.cmp(y)),
        (Val::Integer(x), Val::Float(y)) => compare_int_float(*x, *y),
        (Val::Float(x), Val::Integer(y)) => compare_int_float(*y, *x).map(Ordering::reverse),
        (Val::Float(x), Val::Float(y)) => x.partial_cmp(y),
        (Val::String(x), Val::String(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (Val::Bool(x), Val::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// Exact comparison of an integer with a float (no rounding of large integers).
fn compare_int_float(i: i64, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    // 2^63: every float at or beyond it is outside i64.
    const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
    if f >= TWO_POW_63 {
        return Some(Ordering::Less);
    }
    if f < -TWO_POW_63 {
        return Some(Ordering::Greater);
    }
    let truncated = f.trunc() as i64;
    match i.cmp(&truncated) {
        Ordering::Equal => 0.0f64.partial_cmp(&(f - f.trunc())),
        other => Some(other),
    }
}

fn holds(op: CompareOp, ordering: Ordering) -> bool {
    match op {
        CompareOp::Eq => ordering == Ordering::Equal,
        CompareOp::NotEq => ordering != Ordering::Equal,
        CompareOp::Lt => ordering == Ordering::Less,
        CompareOp::LtEq => ordering != Ordering::Greater,
        CompareOp::Gt => ordering == Ordering::Greater,
        CompareOp::GtEq => ordering != Ordering::Less,
    }
}

/// `a op b` in three-valued logic: null when either side is null or they cannot be compared.
fn compare_op(op: CompareOp, a: &Val<'_>, b: &Val<'_>) -> Option<bool> {
    if *a == Val::Null || *b == Val::Null {
        return None;
    }
    compare(a, b).map(|o| holds(op, o))
}

fn flip(op: CompareOp) -> CompareOp {
    match op {
        CompareOp::Lt => CompareOp::Gt,
        CompareOp::LtEq => CompareOp::GtEq,
        CompareOp::Gt => CompareOp::Lt,
        CompareOp::GtEq => CompareOp::LtEq,
        other => other,
    }
}

/// A test of a bare field against constants, evaluated existentially over its values.
#[derive(Debug, Clone)]
pub enum FieldTest {
    /// `field op constant` (`!=` is compiled as `not ==`, as Elasticsearch does).
    Compare { op: CompareOp, value: Value },
    /// `field in (...)`: equality with any listed value; strings folded for `in~`.
    In {
        values: Vec<Value>,
        case_insensitive: bool,
    },
    /// `field : ...`, `like`, `like~`.
    Wildcard(WildcardSet),
    /// `field regex ...`, `regex~`.
    Regex(RegexSet),
}

/// A compiled condition, evaluated to true, false or null.
#[derive(Debug, Clone)]
pub enum Cond {
    Const(Option<bool>),
    /// A bare field tested against constants: any of its values may satisfy the test.
    FieldTest {
        field: FieldId,
        test: Box<FieldTest>,
    },
    /// `expr == null`: the value is absent.
    IsNull(Box<Scalar>),
    /// `expr != null`: the value is present.
    IsNotNull(Box<Scalar>),
    Not(Box<Cond>),
    And(Vec<Cond>),
    Or(Vec<Cond>),
    /// A computed comparison (script semantics).
    Compare {
        op: CompareOp,
        left: Box<Scalar>,
        right: Box<Scalar>,
    },
    /// A computed value tested against constants.
    ScalarTest {
        value: Box<Scalar>,
        test: Box<FieldTest>,
    },
    /// A boolean-valued scalar (a boolean field, `cidrMatch(...)`, `startsWith(...)`).
    Truth(Box<Scalar>),
}

/// A compiled value expression (script semantics: fields read as their first doc value).
#[derive(Debug, Clone)]
pub enum Scalar {
    Const(Value),
    Field(FieldId),
    Cond(Box<Cond>),
    Arithmetic {
        op: ArithmeticOp,
        left: Box<Scalar>,
        right: Box<Scalar>,
    },
    Negate(Box<Scalar>),
    Call {
        function: Function,
        case_insensitive: bool,
        args: Vec<Scalar>,
    },
    /// `cidrMatch(ip, blocks...)` with its blocks parsed once.
    CidrMatch {
        ip: Box<Scalar>,
        blocks: Vec<Cidr>,
    },
}

/// Compiles `expr` as a condition, interning the fields it reads.
pub fn compile_condition(expr: &AstExpr, catalog: &mut FieldCatalog) -> Result<Cond, CompileError> {
    Compiler { catalog }.cond(expr)
}

/// Compiles `expr` as a value (join keys, for example).
pub fn compile_scalar(expr: &AstExpr, catalog: &mut FieldCatalog) -> Result<Scalar, CompileError> {
    Compiler { catalog }.scalar(expr)
}

/// The dotted name Elasticsearch looks a field up by.
pub fn field_name(field: &FieldRef) -> String {
    field.dotted()
}

struct Compiler<'c> {
    catalog: &'c mut FieldCatalog,
}

impl Compiler<'_> {
    fn field(&mut self, f: &FieldRef) -> FieldId {
        self.catalog.intern(&field_name(f))
    }

    fn cond(&mut self, e: &AstExpr) -> Result<Cond, CompileError> {
        let cond = match &e.kind {
            ExprKind::Not(inner) => Cond::Not(Box::new(self.cond(inner)?)),
            ExprKind::And(items) => Cond::And(
                items
                    .iter()
                    .map(|i| self.cond(i))
                    .collect::<Result<_, _>>()?,
            ),
            ExprKind::Or(items) => Cond::Or(
                items
                    .iter()
                    .map(|i| self.cond(i))
                    .collect::<Result<_, _>>()?,
            ),
            ExprKind::Compare { op, left, right } => self.comparison(*op, left, right)?,
            ExprKind::In {
                value,
                list,
                negated,
                case_insensitive,
            } => {
                let mut values = Vec::with_capacity(list.len());
                for item in list {
                    match self.scalar(item)? {
                        Scalar::Const(v) => values.push(v),
                        _ => {
                            return Err(CompileError::new(
                                item.span,
                                "`in` lists must hold constant values",
                            ));
                        }
                    }
                }
                let test = FieldTest::In {
                    values,
                    case_insensitive: *case_insensitive,
                };
                let positive = self.test(value, test)?;
                if *negated {
                    Cond::Not(Box::new(positive))
                } else {
                    positive
                }
            }
            ExprKind::Match {
                value,
                op,
                patterns,
            } => {
                let texts: Vec<&str> = patterns.iter().filter_map(|p| p.text()).collect();
                if texts.len() != patterns.len() {
                    return Err(CompileError::new(e.span, "patterns must be strings"));
                }
                let test = match op {
                    MatchOp::Seq | MatchOp::Like { .. } => {
                        FieldTest::Wildcard(WildcardSet::new(&texts, op.is_case_insensitive()))
                    }
                    MatchOp::Regex { case_insensitive } => FieldTest::Regex(
                        RegexSet::new(&texts, *case_insensitive).map_err(|err| {
                            CompileError::new(
                                patterns[0].span.to(patterns[patterns.len() - 1].span),
                                err.to_string(),
                            )
                        })?,
                    ),
                };
                self.test(value, test)?
            }
            _ => match self.scalar(e)? {
                Scalar::Const(v) => Cond::Const(Val::from_value(&v).truth()),
                Scalar::Cond(c) => *c,
                other => Cond::Truth(Box::new(other)),
            },
        };
        Ok(fold_cond(cond))
    }

    /// `value <test>`: the query form for a bare field, the script form otherwise.
    fn test(&mut self, value: &AstExpr, test: FieldTest) -> Result<Cond, CompileError> {
        if let ExprKind::Field(f) = &value.kind {
            let field = self.field(f);
            return Ok(Cond::FieldTest {
                field,
                test: Box::new(test),
            });
        }
        let scalar = self.scalar(value)?;
        Ok(Cond::ScalarTest {
            value: Box::new(scalar),
            test: Box::new(test),
        })
    }

    fn comparison(
        &mut self,
        op: CompareOp,
        left: &AstExpr,
        right: &AstExpr,
    ) -> Result<Cond, CompileError> {
        let l = self.scalar(left)?;
        let r = self.scalar(right)?;
        // Constants go to the right, as Elasticsearch's optimizer puts them.
        let (op, l, r, value_expr) = match (&l, &r) {
            (Scalar::Const(_), Scalar::Const(_)) => (op, l, r, left),
            (Scalar::Const(_), _) => (flip(op), r, l, right),
            _ => (op, l, r, left),
        };
        if let Scalar::Const(Value::Null) = r {
            return Ok(match op {
                CompareOp::Eq => Cond::IsNull(Box::new(l)),
                CompareOp::NotEq => Cond::IsNotNull(Box::new(l)),
                // Ordering against null is never true.
                _ => Cond::Const(None),
            });
        }
        if let (Scalar::Field(_), Scalar::Const(value)) = (&l, &r)
            && let ExprKind::Field(_) = &value_expr.kind
        {
            let value = value.clone();
            let field = match l {
                Scalar::Field(f) => f,
                _ => unreachable!("matched above"),
            };
            let (op, negate) = match op {
                CompareOp::NotEq => (CompareOp::Eq, true),
                other => (other, false),
            };
            let test = Cond::FieldTest {
                field,
                test: Box::new(FieldTest::Compare { op, value }),
            };
            return Ok(if negate {
                Cond::Not(Box::new(test))
            } else {
                test
            });
        }
        if op == CompareOp::NotEq {
            return Ok(Cond::Not(Box::new(Cond::Compare {
                op: CompareOp::Eq,
                left: Box::new(l),
                right: Box::new(r),
            })));
        }
        Ok(Cond::Compare {
            op,
            left: Box::new(l),
            right: Box::new(r),
        })
    }

    fn scalar(&mut self, e: &AstExpr) -> Result<Scalar, CompileError> {
        let scalar = match &e.kind {
            ExprKind::Literal(l) => Scalar::Const(literal_value(l)),
            ExprKind::Field(f) => Scalar::Field(self.field(f)),
            ExprKind::Arithmetic { op, left, right } => Scalar::Arithmetic {
                op: *op,
                left: Box::new(self.scalar(left)?),
                right: Box::new(self.scalar(right)?),
            },
            ExprKind::Negate(inner) => Scalar::Negate(Box::new(self.scalar(inner)?)),
            ExprKind::Call {
                function,
                case_insensitive,
                args,
                ..
            } => {
                let compiled = args
                    .iter()
                    .map(|a| self.scalar(a))
                    .collect::<Result<Vec<_>, _>>()?;
                if *function == Function::CidrMatch {
                    let mut blocks = Vec::new();
                    for (arg, ast_arg) in compiled[1..].iter().zip(&args[1..]) {
                        match arg {
                            Scalar::Const(Value::String(s)) => {
                                blocks.push(Cidr::parse(s).map_err(|err| {
                                    CompileError::new(ast_arg.span, err.to_string())
                                })?)
                            }
                            Scalar::Const(Value::Null) => {}
                            _ => {
                                return Err(CompileError::new(
                                    ast_arg.span,
                                    "cidrMatch blocks must be constant strings",
                                ));
                            }
                        }
                    }
                    let mut compiled = compiled;
                    let ip = compiled.swap_remove(0);
                    Scalar::CidrMatch {
                        ip: Box::new(ip),
                        blocks,
                    }
                } else {
                    Scalar::Call {
                        function: *function,
                        case_insensitive: *case_insensitive,
                        args: compiled,
                    }
                }
            }
            _ => Scalar::Cond(Box::new(self.cond(e)?)),
        };
        fold_scalar(scalar).map_err(|message| CompileError::new(e.span, message))
    }
}

fn literal_value(l: &Literal) -> Value {
    match l {
        Literal::Null => Value::Null,
        Literal::Bool(b) => Value::Bool(*b),
        Literal::Integer(i) => Value::Integer(*i),
        Literal::Float(f) => Value::Float(*f),
        Literal::String(s) => Value::String(s.clone()),
    }
}

/// An event with no fields, for evaluating constant expressions at compile time.
struct NoEvent;

impl Event for NoEvent {
    fn field(&self, _: FieldId) -> ValueRef<'_> {
        ValueRef::Null
    }
    fn timestamp(&self) -> quarry_event::Timestamp {
        quarry_event::Timestamp::from_nanos(0)
    }
    fn position(&self) -> u64 {
        0
    }
}

fn scalar_is_const(s: &Scalar) -> bool {
    match s {
        Scalar::Const(_) => true,
        Scalar::Field(_) => false,
        Scalar::Cond(c) => matches!(**c, Cond::Const(_)),
        Scalar::Arithmetic { left, right, .. } => scalar_is_const(left) && scalar_is_const(right),
        Scalar::Negate(x) => scalar_is_const(x),
        Scalar::Call { args, .. } => args.iter().all(scalar_is_const),
        Scalar::CidrMatch { ip, .. } => scalar_is_const(ip),
    }
}

/// Constant folding: a value that reads no field is computed once, here.
fn fold_scalar(s: Scalar) -> Result<Scalar, String> {
    if matches!(s, Scalar::Const(_)) || !scalar_is_const(&s) {
        return Ok(s);
    }
    let value = eval_scalar(&s, &NoEvent).map_err(|e| e.to_string())?;
    Ok(Scalar::Const(value.to_value()))
}

fn fold_cond(c: Cond) -> Cond {
    match c {
        Cond::Not(inner) => match *inner {
            Cond::Const(v) => Cond::Const(v.map(|b| !b)),
            other => Cond::Not(Box::new(other)),
        },
        Cond::And(items) => {
            // false wins; true operands drop out.
            let mut kept = Vec::new();
            let mut unknown = false;
            for item in items {
                match item {
                    Cond::Const(Some(false)) => return Cond::Const(Some(false)),
                    Cond::Const(Some(true)) => {}
                    Cond::Const(None) => unknown = true,
                    other => kept.push(other),
                }
            }
            if unknown {
                kept.push(Cond::Const(None));
            }
            match kept.len() {
                0 => Cond::Const(Some(true)),
                1 => kept.pop().expect("one"),
                _ => Cond::And(kept),
            }
        }
        Cond::Or(items) => {
            let mut kept = Vec::new();
            let mut unknown = false;
            for item in items {
                match item {
                    Cond::Const(Some(true)) => return Cond::Const(Some(true)),
                    Cond::Const(Some(false)) => {}
                    Cond::Const(None) => unknown = true,
                    other => kept.push(other),
                }
            }
            if unknown {
                kept.push(Cond::Const(None));
            }
            match kept.len() {
                0 => Cond::Const(Some(false)),
                1 => kept.pop().expect("one"),
                _ => Cond::Or(kept),
            }
        }
        Cond::IsNull(s) if scalar_is_const(&s) => match eval_scalar(&s, &NoEvent) {
            Ok(v) => Cond::Const(Some(v == Val::Null)),
            Err(_) => Cond::IsNull(s),
        },
        Cond::IsNotNull(s) if scalar_is_const(&s) => match eval_scalar(&s, &NoEvent) {
            Ok(v) => Cond::Const(Some(v != Val::Null)),
            Err(_) => Cond::IsNotNull(s),
        },
        Cond::Compare { op, left, right } if scalar_is_const(&left) && scalar_is_const(&right) => {
            match (eval_scalar(&left, &NoEvent), eval_scalar(&right, &NoEvent)) {
                (Ok(l), Ok(r)) => Cond::Const(compare_op(op, &l, &r)),
                _ => Cond::Compare { op, left, right },
            }
        }
        other => other,
    }
}

/// An error raised while evaluating (Elasticsearch fails the search for these; the engine
/// counts them and treats the condition as null).
pub type EvalError = functions::FunctionError;

/// Evaluates `cond` on `event`: `Some(true)`, `Some(false)` or `None` (null).
pub fn eval_cond(cond: &Cond, event: &impl Event) -> Option<bool> {
    match cond {
        Cond::Const(v) => *v,
        Cond::FieldTest { field, test } => field_test(event.field(*field), test),
        Cond::IsNull(s) => Some(matches!(eval_scalar(s, event), Ok(Val::Null))),
        Cond::IsNotNull(s) => Some(!matches!(eval_scalar(s, event), Ok(Val::Null) | Err(_))),
        Cond::Not(inner) => eval_cond(inner, event).map(|b| !b),
        Cond::And(items) => {
            let mut result = Some(true);
            for item in items {
                match eval_cond(item, event) {
                    Some(false) => return Some(false),
                    None => result = None,
                    Some(true) => {}
                }
            }
            result
        }
        Cond::Or(items) => {
            let mut result = Some(false);
            for item in items {
                match eval_cond(item, event) {
                    Some(true) => return Some(true),
                    None => result = None,
                    Some(false) => {}
                }
            }
            result
        }
        Cond::Compare { op, left, right } => {
            let (Ok(l), Ok(r)) = (eval_scalar(left, event), eval_scalar(right, event)) else {
                return None;
            };
            compare_op(*op, &l, &r)
        }
        Cond::ScalarTest { value, test } => match eval_scalar(value, event) {
            Ok(v) => field_test(v.as_ref(), test),
            Err(_) => None,
        },
        Cond::Truth(s) => eval_scalar(s, event).ok().and_then(|v| v.truth()),
    }
}

/// A test of a (possibly multi-valued) value against constants: true if any value passes,
/// null if the value is absent.
fn field_test(value: ValueRef<'_>, test: &FieldTest) -> Option<bool> {
    if value.is_null() {
        return None;
    }
    let mut any = false;
    for element in value.elements() {
        if element_test(element, test) {
            any = true;
            break;
        }
    }
    Some(any)
}

fn element_test(element: ValueRef<'_>, test: &FieldTest) -> bool {
    match test {
        FieldTest::Compare { op, value } => {
            compare_op(*op, &Val::from_ref(element), &Val::from_value(value)) == Some(true)
        }
        FieldTest::In {
            values,
            case_insensitive,
        } => {
            let element = Val::from_ref(element);
            values
                .iter()
                .any(|v| match (&element, v, case_insensitive) {
                    // `in~` folds as Lucene's case-insensitive term query does (value, then literal).
                    (Val::String(e), Value::String(lit), true) => pattern::eq_ignore_case(e, lit),
                    _ => compare(&element, &Val::from_value(v)) == Some(Ordering::Equal),
                })
        }
        FieldTest::Wildcard(set) => match element {
            ValueRef::String(s) => set.is_match(s),
            _ => false,
        },
        FieldTest::Regex(set) => match element {
            ValueRef::String(s) => set.is_match(s),
            _ => false,
        },
    }
}

/// Evaluates a value expression with script semantics.
pub fn eval_scalar<'e>(s: &'e Scalar, event: &'e impl Event) -> Result<Val<'e>, EvalError> {
    Ok(match s {
        Scalar::Const(v) => Val::from_value(v),
        Scalar::Field(f) => Val::from_ref(event.field(*f)),
        Scalar::Cond(c) => match eval_cond(c, event) {
            Some(b) => Val::Bool(b),
            None => Val::Null,
        },
        Scalar::Arithmetic { op, left, right } => {
            let l = eval_scalar(left, event)?;
            let r = eval_scalar(right, event)?;
            let (Some(a), Some(b)) = (l.number(), r.number()) else {
                return Ok(Val::Null);
            };
            let result = match op {
                ArithmeticOp::Add => functions::add(a, b)?,
                ArithmeticOp::Sub => functions::subtract(a, b)?,
                ArithmeticOp::Mul => functions::multiply(a, b)?,
                ArithmeticOp::Div => functions::divide(a, b)?,
                ArithmeticOp::Mod => functions::modulo(a, b)?,
            };
            result.map_or(Val::Null, from_number)
        }
        Scalar::Negate(inner) => match eval_scalar(inner, event)? {
            Val::Integer(i) => i.checked_neg().map_or(Val::Null, Val::Integer),
            Val::Float(f) => Val::Float(-f),
            _ => Val::Null,
        },
        Scalar::CidrMatch { ip, blocks } => match eval_scalar(ip, event)? {
            Val::String(s) => Val::Bool(blocks.iter().any(|b| b.contains(&s))),
            _ => Val::Null,
        },
        Scalar::Call {
            function,
            case_insensitive,
            args,
        } => call(*function, *case_insensitive, args, event)?,
    })
}

fn call<'e>(
    function: Function,
    ci: bool,
    args: &'e [Scalar],
    event: &'e impl Event,
) -> Result<Val<'e>, EvalError> {
    let values = args
        .iter()
        .map(|a| eval_scalar(a, event))
        .collect::<Result<Vec<_>, _>>()?;
    // Every function but concat returns null for a null source; optional arguments that are
    // null take their default.
    let str_arg = |i: usize| -> Option<&str> {
        match values.get(i) {
            Some(Val::String(s)) => Some(s),
            _ => None,
        }
    };
    let int_arg = |i: usize| -> Option<i64> {
        match values.get(i) {
            Some(Val::Integer(n)) => Some(*n),
            Some(Val::Float(f)) if f.fract() == 0.0 => Some(*f as i64),
            _ => None,
        }
    };
    let num_arg = |i: usize| values.get(i).and_then(Val::number);
    let present = |i: usize| values.get(i).is_some_and(|v| *v != Val::Null);
    Ok(match function {
        Function::Add
        | Function::Subtract
        | Function::Multiply
        | Function::Divide
        | Function::Modulo => {
            let (Some(a), Some(b)) = (num_arg(0), num_arg(1)) else {
                return Ok(Val::Null);
            };
            let result = match function {
                Function::Add => functions::add(a, b)?,
                Function::Subtract => functions::subtract(a, b)?,
                Function::Multiply => functions::multiply(a, b)?,
                Function::Divide => functions::divide(a, b)?,
                _ => functions::modulo(a, b)?,
            };
            result.map_or(Val::Null, from_number)
        }
        Function::Between => {
            let (Some(source), Some(left), Some(right)) = (str_arg(0), str_arg(1), str_arg(2))
            else {
                return Ok(Val::Null);
            };
            let greedy = match values.get(3) {
                Some(Val::Bool(b)) => *b,
                _ => false,
            };
            Val::String(Cow::Owned(functions::between(
                source, left, right, greedy, ci,
            )))
        }
        Function::CidrMatch => unreachable!("compiled to Scalar::CidrMatch"),
        Function::Concat => {
            let refs: Vec<ValueRef<'_>> = values.iter().map(Val::as_ref).collect();
            functions::concat(&refs).map_or(Val::Null, |s| Val::String(Cow::Owned(s)))
        }
        Function::EndsWith | Function::StartsWith | Function::StringContains => {
            let (Some(source), Some(other)) = (str_arg(0), str_arg(1)) else {
                return Ok(Val::Null);
            };
            Val::Bool(match function {
                Function::EndsWith => functions::ends_with(source, other, ci),
                Function::StartsWith => functions::starts_with(source, other, ci),
                _ => functions::string_contains(source, other, ci),
            })
        }
        Function::IndexOf => {
            let (Some(source), Some(sub)) = (str_arg(0), str_arg(1)) else {
                return Ok(Val::Null);
            };
            let start = if present(2) {
                match int_arg(2) {
                    Some(s) => Some(s),
                    None => return Ok(Val::Null),
                }
            } else {
                None
            };
            functions::index_of(source, sub, start, ci).map_or(Val::Null, Val::Integer)
        }
        Function::Length => match str_arg(0) {
            Some(s) => Val::Integer(functions::length(s)),
            None => Val::Null,
        },
        Function::Number => {
            let Some(text) = str_arg(0) else {
                return Ok(Val::Null);
            };
            let base = if present(1) { int_arg(1) } else { None };
            functions::number(text, base)?.map_or(Val::Null, from_number)
        }
        Function::String => values
            .first()
            .and_then(|v| functions::to_string(v.as_ref()))
            .map_or(Val::Null, |s| Val::String(Cow::Owned(s))),
        Function::Substring => {
            let (Some(source), Some(start)) = (str_arg(0), int_arg(1)) else {
                return Ok(Val::Null);
            };
            let end = if present(2) {
                match int_arg(2) {
                    Some(e) => Some(e),
                    None => return Ok(Val::Null),
                }
            } else {
                None
            };
            Val::String(Cow::Owned(functions::substring(source, start, end)))
        }
    })
}
