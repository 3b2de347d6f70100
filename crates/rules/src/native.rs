//! Rules rewritten against the fields Elastic's own `atlassian_confluence` integration indexes,
//! for clusters that will not install Quarry's ingest pipeline.
//!
//! The integration indexes audit records only (`event.dataset: atlassian_confluence.audit`,
//! `event.action` = the Data Center i18n key or the Cloud summary), so most of the pack's
//! vocabulary has no counterpart there: page, content and space views, prints, URLs and user
//! agents exist only in access logs. A rewrite maps what can be mapped (datasets, actions,
//! fields), turns tests of what cannot into "never true", simplifies, and says in plain words
//! what coverage was lost. A rule left with nothing to match is not exported.

use std::collections::BTreeSet;

use quarry_eql::ast::{self, CompareOp, Expr, ExprKind, FieldRef, Literal, PathSegment, QueryBody};
use quarry_eql::span::Span;

use crate::kql::{Kql, Term, ValueList};

/// What the integration calls things.
#[derive(Debug, Clone)]
pub struct NativeMap {
    /// The integration's dataset.
    pub dataset: String,
    /// Quarry's dataset, replaced by [`NativeMap::dataset`].
    pub our_dataset: String,
    /// For each of Quarry's actions, the integration's `event.action` values meaning it (empty:
    /// the integration never records it).
    pub actions: Vec<(String, Vec<String>)>,
    /// Quarry's field -> the integration's (absent: the integration has no such field).
    pub fields: Vec<(String, String)>,
}

/// A rewritten query and what it lost.
#[derive(Debug, Clone, PartialEq)]
pub struct Rewrite {
    /// The query in the integration's fields, or `None` when nothing of it can match there.
    pub query: Option<String>,
    /// Quarry actions the rule looks for that the integration never records.
    pub lost_actions: BTreeSet<String>,
    /// Fields the rule reads that the integration does not have.
    pub lost_fields: BTreeSet<String>,
}

impl Rewrite {
    /// The paragraph appended to the rule's `note`.
    pub fn note(&self, rule_name: &str) -> String {
        let mut s = String::from("\n\n### Running on the integration's own fields\n\n");
        s.push_str(&format!(
            "This copy of \"{rule_name}\" reads the documents of Elastic's `atlassian_confluence` integration as it indexes them (`event.dataset: atlassian_confluence.audit`), not the shape Quarry's ingest pipeline produces."
        ));
        if !self.lost_actions.is_empty() {
            s.push_str(&format!(
                " The integration records audit events only, so it never sees {}: those exist only in the Tomcat access log.",
                self.lost_actions
                    .iter()
                    .map(|a| format!("`{a}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if !self.lost_fields.is_empty() {
            s.push_str(&format!(
                " It has no {} field{}, so the conditions on {} were dropped.",
                self.lost_fields
                    .iter()
                    .map(|f| format!("`{f}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                if self.lost_fields.len() == 1 { "" } else { "s" },
                if self.lost_fields.len() == 1 {
                    "it"
                } else {
                    "them"
                },
            ));
        }
        s.push_str(" Install Quarry's ingest pipeline (`quarry export pipeline`) and ship the access log for full coverage.");
        s
    }
}

/// A condition after rewriting: an expression, or a constant the rewrite decided.
enum Cond {
    E(Expr),
    Const(bool),
}

struct Rewriter<'a> {
    map: &'a NativeMap,
    lost_actions: BTreeSet<String>,
    lost_fields: BTreeSet<String>,
}

fn span() -> Span {
    Span::point(0)
}

fn field(name: &str) -> Expr {
    Expr::new(
        ExprKind::Field(FieldRef {
            path: name
                .split('.')
                .map(|s| PathSegment::Name(s.to_string()))
                .collect(),
            optional: false,
        }),
        span(),
    )
}

fn string(s: &str) -> Expr {
    Expr::new(ExprKind::Literal(Literal::String(s.to_string())), span())
}

fn in_list(name: &str, values: &[String], negated: bool) -> Expr {
    if values.len() == 1 && !negated {
        return Expr::new(
            ExprKind::Compare {
                op: CompareOp::Eq,
                left: Box::new(field(name)),
                right: Box::new(string(&values[0])),
            },
            span(),
        );
    }
    Expr::new(
        ExprKind::In {
            value: Box::new(field(name)),
            list: values.iter().map(|v| string(v)).collect(),
            negated,
            case_insensitive: false,
        },
        span(),
    )
}

impl Rewriter<'_> {
    fn native_field(&mut self, ours: &str) -> Option<String> {
        match self.map.fields.iter().find(|(f, _)| f == ours) {
            Some((_, n)) => Some(n.clone()),
            None if ours == "event.dataset" || ours == "event.action" || ours == "@timestamp" => {
                Some(ours.to_string())
            }
            None => {
                self.lost_fields.insert(ours.to_string());
                None
            }
        }
    }

    fn natives(&mut self, action: &str) -> Vec<String> {
        match self.map.actions.iter().find(|(a, _)| a == action) {
            Some((_, n)) if !n.is_empty() => n.clone(),
            _ => {
                self.lost_actions.insert(action.to_string());
                Vec::new()
            }
        }
    }

    /// Rewrites the field references of an expression that is not a condition (an operand).
    fn operand(&mut self, e: &Expr) -> Option<Expr> {
        match &e.kind {
            ExprKind::Field(f) => {
                let n = self.native_field(&f.dotted())?;
                let mut out = field(&n);
                if let ExprKind::Field(r) = &mut out.kind {
                    r.optional = f.optional;
                }
                Some(out)
            }
            ExprKind::Literal(_) => Some(e.clone()),
            ExprKind::Call {
                function,
                case_insensitive,
                args,
                name_span,
            } => {
                let args = args
                    .iter()
                    .map(|a| self.operand(a))
                    .collect::<Option<Vec<_>>>()?;
                Some(Expr::new(
                    ExprKind::Call {
                        function: *function,
                        case_insensitive: *case_insensitive,
                        args,
                        name_span: *name_span,
                    },
                    e.span,
                ))
            }
            _ => None,
        }
    }

    fn cond(&mut self, e: &Expr) -> Cond {
        match &e.kind {
            ExprKind::And(xs) => {
                let mut kept = Vec::new();
                for x in xs {
                    match self.cond(x) {
                        Cond::Const(false) => return Cond::Const(false),
                        Cond::Const(true) => {}
                        Cond::E(e) => kept.push(e),
                    }
                }
                match kept.len() {
                    0 => Cond::Const(true),
                    1 => Cond::E(kept.pop().expect("one")),
                    _ => Cond::E(Expr::new(ExprKind::And(kept), span())),
                }
            }
            ExprKind::Or(xs) => {
                let mut kept = Vec::new();
                for x in xs {
                    match self.cond(x) {
                        Cond::Const(true) => return Cond::Const(true),
                        Cond::Const(false) => {}
                        Cond::E(e) => kept.push(e),
                    }
                }
                match kept.len() {
                    0 => Cond::Const(false),
                    1 => Cond::E(kept.pop().expect("one")),
                    _ => Cond::E(Expr::new(ExprKind::Or(kept), span())),
                }
            }
            ExprKind::Not(x) => match self.cond(x) {
                Cond::Const(b) => Cond::Const(!b),
                Cond::E(e) => Cond::E(Expr::new(ExprKind::Not(Box::new(e)), span())),
            },
            ExprKind::Compare { op, left, right } => {
                let name = left.as_field().map(FieldRef::dotted);
                let literal = right.as_literal();
                match (name.as_deref(), literal) {
                    (Some("event.dataset"), Some(Literal::String(s)))
                        if *s == self.map.our_dataset =>
                    {
                        let d = self.map.dataset.clone();
                        self.compare(*op, "event.dataset", &[d])
                    }
                    (Some("event.action"), Some(Literal::String(a))) => {
                        let n = self.natives(a);
                        self.compare(*op, "event.action", &n)
                    }
                    // A field the integration lacks is null there.
                    (Some(f), Some(Literal::Null)) if self.map_lookup(f).is_none() => {
                        self.lost_fields.insert(f.to_string());
                        Cond::Const(*op == CompareOp::Eq)
                    }
                    _ => match (self.operand(left), self.operand(right)) {
                        (Some(l), Some(r)) => Cond::E(Expr::new(
                            ExprKind::Compare {
                                op: *op,
                                left: Box::new(l),
                                right: Box::new(r),
                            },
                            span(),
                        )),
                        _ => Cond::Const(false),
                    },
                }
            }
            ExprKind::In {
                value,
                list,
                negated,
                case_insensitive,
            } => {
                if value.as_field().map(FieldRef::dotted).as_deref() == Some("event.action") {
                    let mut natives = Vec::new();
                    for item in list {
                        if let Some(Literal::String(a)) = item.as_literal() {
                            for n in self.natives(a) {
                                if !natives.contains(&n) {
                                    natives.push(n);
                                }
                            }
                        }
                    }
                    if natives.is_empty() {
                        return Cond::Const(*negated);
                    }
                    return Cond::E(in_list("event.action", &natives, *negated));
                }
                match self.operand(value) {
                    Some(v) => Cond::E(Expr::new(
                        ExprKind::In {
                            value: Box::new(v),
                            list: list.clone(),
                            negated: *negated,
                            case_insensitive: *case_insensitive,
                        },
                        span(),
                    )),
                    None => Cond::Const(*negated),
                }
            }
            ExprKind::Match {
                value,
                op,
                patterns,
            } => match self.operand(value) {
                Some(v) => Cond::E(Expr::new(
                    ExprKind::Match {
                        value: Box::new(v),
                        op: *op,
                        patterns: patterns.clone(),
                    },
                    span(),
                )),
                None => Cond::Const(false),
            },
            _ => match self.operand(e) {
                Some(x) => Cond::E(x),
                None => Cond::Const(false),
            },
        }
    }

    fn map_lookup(&self, ours: &str) -> Option<String> {
        self.map
            .fields
            .iter()
            .find(|(f, _)| f == ours)
            .map(|(_, n)| n.clone())
            .or(
                matches!(ours, "event.dataset" | "event.action" | "@timestamp")
                    .then(|| ours.to_string()),
            )
    }

    fn compare(&mut self, op: CompareOp, name: &str, natives: &[String]) -> Cond {
        match (op, natives.is_empty()) {
            (CompareOp::Eq, true) => Cond::Const(false),
            (CompareOp::NotEq, true) => Cond::Const(true),
            (CompareOp::Eq, false) => Cond::E(in_list(name, natives, false)),
            (CompareOp::NotEq, false) => Cond::E(in_list(name, natives, true)),
            _ => Cond::Const(false),
        }
    }

    fn query(&mut self, q: &ast::Query) -> Option<ast::Query> {
        let mut q = q.clone();
        match &mut q.body {
            QueryBody::Event(e) => match self.cond(&e.condition) {
                Cond::Const(false) => return None,
                Cond::Const(true) => {
                    e.condition = Expr::new(ExprKind::Literal(Literal::Bool(true)), span())
                }
                Cond::E(x) => e.condition = x,
            },
            QueryBody::Sequence(s) => {
                for key in s.by.iter_mut() {
                    *key = self.operand(key)?;
                }
                for stage in s.stages.iter_mut().chain(s.until.iter_mut()) {
                    for key in stage.by.iter_mut() {
                        *key = self.operand(key)?;
                    }
                    match self.cond(&stage.query.condition) {
                        Cond::Const(false) => return None,
                        Cond::Const(true) => {
                            stage.query.condition =
                                Expr::new(ExprKind::Literal(Literal::Bool(true)), span())
                        }
                        Cond::E(x) => stage.query.condition = x,
                    }
                }
            }
            QueryBody::Sample(_) => return None,
        }
        Some(q)
    }

    fn kql(&mut self, k: &Kql) -> Option<Kql> {
        match k {
            Kql::And(xs) => {
                let kept: Vec<Kql> = xs.iter().map(|x| self.kql(x)).collect::<Option<_>>()?;
                Some(Kql::And(kept))
            }
            Kql::Or(xs) => {
                let kept: Vec<Kql> = xs.iter().filter_map(|x| self.kql(x)).collect();
                (!kept.is_empty()).then_some(Kql::Or(kept))
            }
            Kql::Not(x) => self.kql(x).map(|x| Kql::Not(Box::new(x))),
            Kql::Exists { field, span } => Some(Kql::Exists {
                field: self.native_field(field)?,
                span: *span,
            }),
            Kql::Range {
                field,
                span,
                op,
                value,
            } => Some(Kql::Range {
                field: self.native_field(field)?,
                span: *span,
                op,
                value: value.clone(),
            }),
            Kql::Match {
                field,
                span,
                values,
            } => {
                let terms: Vec<&Term> = match values {
                    ValueList::One(t) => vec![t],
                    ValueList::Any(ts) | ValueList::All(ts) => ts.iter().collect(),
                };
                let mapped: Option<Vec<Term>> = match field.as_str() {
                    "event.dataset" => Some(
                        terms
                            .iter()
                            .map(|t| Term {
                                text: if t.text == self.map.our_dataset {
                                    self.map.dataset.clone()
                                } else {
                                    t.text.clone()
                                },
                                quoted: true,
                                wildcard: false,
                            })
                            .collect(),
                    ),
                    "event.action" => {
                        let mut out: Vec<Term> = Vec::new();
                        for t in &terms {
                            for n in self.natives(&t.text) {
                                if !out.iter().any(|o| o.text == n) {
                                    out.push(Term {
                                        text: n,
                                        quoted: true,
                                        wildcard: false,
                                    });
                                }
                            }
                        }
                        Some(out)
                    }
                    _ => {
                        let n = self.native_field(field)?;
                        return Some(Kql::Match {
                            field: n,
                            span: *span,
                            values: values.clone(),
                        });
                    }
                };
                let mut mapped = mapped?;
                if mapped.is_empty() {
                    return None;
                }
                let values = if mapped.len() == 1 {
                    ValueList::One(mapped.pop().expect("one"))
                } else {
                    ValueList::Any(mapped)
                };
                Some(Kql::Match {
                    field: field.clone(),
                    span: *span,
                    values,
                })
            }
        }
    }
}

/// Rewrites an EQL rule query.
pub fn rewrite_eql(query: &ast::Query, map: &NativeMap) -> Rewrite {
    let mut r = Rewriter {
        map,
        lost_actions: BTreeSet::new(),
        lost_fields: BTreeSet::new(),
    };
    let q = r.query(query);
    Rewrite {
        query: q.map(|q| q.to_string()),
        lost_actions: r.lost_actions,
        lost_fields: r.lost_fields,
    }
}

/// Rewrites a threshold rule's KQL (and its group fields).
pub fn rewrite_kql(kql: &str, fields: &[String], map: &NativeMap) -> (Rewrite, Vec<String>) {
    let mut r = Rewriter {
        map,
        lost_actions: BTreeSet::new(),
        lost_fields: BTreeSet::new(),
    };
    let parsed = crate::kql::parse(kql).ok();
    let q = parsed.and_then(|k| r.kql(&k)).map(|k| k.to_kql());
    let fields: Vec<String> = fields.iter().filter_map(|f| r.native_field(f)).collect();
    (
        Rewrite {
            query: q,
            lost_actions: r.lost_actions,
            lost_fields: r.lost_fields,
        },
        fields,
    )
}

/// The rule rewritten for the integration's fields, with the lost coverage added to its note
/// and its index set to the integration's data stream; `Err` says why nothing of it can run
/// there.
pub fn native_rule(rule: &crate::Rule, map: &NativeMap) -> Result<crate::Rule, String> {
    use crate::rule::RuleKind;
    let mut out = rule.clone();
    let rewrite = match &rule.kind {
        RuleKind::Eql(q) => {
            let r = rewrite_eql(q, map);
            if let Some(text) = &r.query {
                out.kind = RuleKind::Eql(quarry_eql::parse(text).map_err(|e| {
                    format!("rewritten query does not verify: {}", e.first().message)
                })?);
                out.query = format!("{text}\n");
            }
            r
        }
        RuleKind::Threshold { value, fields, .. } => {
            let (r, native_fields) = rewrite_kql(&rule.query, fields, map);
            if let Some(text) = &r.query {
                if native_fields.len() != fields.len() {
                    return Err("its threshold fields have no counterpart".into());
                }
                out.kind = RuleKind::Threshold {
                    filter: crate::kql::to_eql(text).map_err(|e| e.to_string())?,
                    fields: native_fields,
                    value: *value,
                };
                out.query = format!("{text}\n");
            }
            r
        }
    };
    if rewrite.query.is_none() {
        let mut why = Vec::new();
        if !rewrite.lost_actions.is_empty() {
            why.push(format!(
                "the integration never records {}",
                rewrite
                    .lost_actions
                    .iter()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if !rewrite.lost_fields.is_empty() {
            why.push(format!(
                "it has no {}",
                rewrite
                    .lost_fields
                    .iter()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        return Err(if why.is_empty() {
            "nothing of it can match the integration's documents".into()
        } else {
            why.join("; ")
        });
    }
    if let Some(s) = &mut out.suppression {
        let mut r = Rewriter {
            map,
            lost_actions: BTreeSet::new(),
            lost_fields: BTreeSet::new(),
        };
        s.group_by = s
            .group_by
            .iter()
            .filter_map(|f| r.native_field(f))
            .collect();
        if s.group_by.is_empty() {
            out.suppression = None;
        }
    }
    out.index = vec![format!("logs-{}-*", map.dataset)];
    out.note = Some(format!(
        "{}{}",
        rule.note.as_deref().unwrap_or(""),
        rewrite.note(&rule.name)
    ));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map() -> NativeMap {
        NativeMap {
            dataset: "atlassian_confluence.audit".into(),
            our_dataset: "atlassian.confluence".into(),
            actions: vec![
                ("page_viewed".into(), vec![]),
                (
                    "search_performed".into(),
                    vec!["audit.logging.summary.search.performed".into()],
                ),
                (
                    "space_exported".into(),
                    vec![
                        "audit.logging.summary.space.export".into(),
                        "Space exported".into(),
                    ],
                ),
            ],
            fields: vec![
                ("user.name".into(), "user.id".into()),
                ("source.ip".into(), "source.ip".into()),
                (
                    "message".into(),
                    "confluence.audit.extra_attributes.value".into(),
                ),
            ],
        }
    }

    fn eql(q: &str) -> Rewrite {
        rewrite_eql(&quarry_eql::parse(q).unwrap(), &map())
    }

    #[test]
    fn datasets_actions_and_fields_are_mapped() {
        let r = eql(
            r#"sequence by user.name, source.ip with maxspan=1h [any where event.dataset == "atlassian.confluence" and event.action in ("page_viewed", "search_performed", "space_exported")] with runs=40"#,
        );
        assert_eq!(
            r.query.as_deref(),
            Some(
                "sequence by user.id, source.ip with maxspan=1h\n  [any where event.dataset == \"atlassian_confluence.audit\" and event.action in (\"audit.logging.summary.search.performed\", \"audit.logging.summary.space.export\", \"Space exported\")] with runs=40"
            )
        );
        assert_eq!(r.lost_actions.iter().collect::<Vec<_>>(), ["page_viewed"]);
        // The result is valid EQL.
        quarry_eql::parse(r.query.as_deref().unwrap()).unwrap();
    }

    #[test]
    fn conditions_on_missing_fields_fall_away() {
        let r = eql(
            r#"any where event.action == "space_exported" or (event.action == "search_performed" and confluence.content.id == null and url.path : "/x*")"#,
        );
        assert_eq!(
            r.query.as_deref(),
            Some(
                r#"any where event.action in ("audit.logging.summary.space.export", "Space exported")"#
            )
        );
        assert!(r.lost_fields.contains("url.path"), "{:?}", r.lost_fields);
        // Nothing left to match: not exported.
        let r = eql(r#"any where event.action == "page_viewed" and url.query : "*expand*""#);
        assert_eq!(r.query, None);
        assert!(r.note("X").contains("`page_viewed`"));
    }

    #[test]
    fn search_text_moves_to_the_audit_attributes() {
        let r =
            eql(r#"any where event.action == "search_performed" and message like~ "*password*""#);
        assert_eq!(
            r.query.as_deref(),
            Some(
                r#"any where event.action == "audit.logging.summary.search.performed" and confluence.audit.extra_attributes.value like~ "*password*""#
            )
        );
    }

    #[test]
    fn threshold_kql_is_rewritten_too() {
        let (r, fields) = rewrite_kql(
            r#"event.dataset : "atlassian.confluence" and event.action : ("page_viewed" or "space_exported")"#,
            &["user.name".into(), "source.ip".into()],
            &map(),
        );
        assert_eq!(
            r.query.as_deref(),
            Some(
                r#"event.dataset : "atlassian_confluence.audit" and event.action : ("audit.logging.summary.space.export" or "Space exported")"#
            )
        );
        assert_eq!(fields, ["user.id", "source.ip"]);
    }
}
