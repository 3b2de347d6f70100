//! The Elasticsearch EQL function catalogue: names, arity, argument kinds and result kinds.
//!
//! One table drives the parser (name resolution, `~` forms), the verifier (arity and argument
//! kinds) and the printer (canonical spelling). Function names are case-insensitive in EQL;
//! [`Function::name`] is the spelling the Elasticsearch reference uses.

/// What kind of value an argument must be, or a function returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    String,
    Numeric,
    /// A whole number: any numeric expression, but not a decimal literal.
    Integer,
    Boolean,
    /// An IP address: in practice a field mapped as `ip` (no literal has this type).
    Ip,
    /// Anything (`string(x)`, `concat(...)`).
    Any,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::String => "string",
            Kind::Numeric => "numeric",
            Kind::Integer => "integer",
            Kind::Boolean => "boolean",
            Kind::Ip => "ip",
            Kind::Any => "any",
        }
    }
}

/// One parameter of a function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param {
    pub name: &'static str,
    pub kind: Kind,
    /// Must be a constant: an expression that reads no field (Elasticsearch needs the value
    /// when it plans the query).
    pub constant: bool,
}

const fn p(name: &'static str, kind: Kind) -> Param {
    Param {
        name,
        kind,
        constant: false,
    }
}

const fn constant(name: &'static str, kind: Kind) -> Param {
    Param {
        name,
        kind,
        constant: true,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Function {
    Add,
    Between,
    CidrMatch,
    Concat,
    Divide,
    EndsWith,
    IndexOf,
    Length,
    Modulo,
    Multiply,
    Number,
    StartsWith,
    String,
    StringContains,
    Substring,
    Subtract,
}

/// A function's signature: required parameters, then optional ones; a variadic function
/// repeats its last parameter.
#[derive(Debug, Clone, Copy)]
pub struct Signature {
    pub params: &'static [Param],
    pub required: usize,
    pub variadic: bool,
    pub returns: Kind,
}

impl Signature {
    pub fn min_args(&self) -> usize {
        self.required
    }

    /// The most arguments accepted, or `None` for variadic functions.
    pub fn max_args(&self) -> Option<usize> {
        (!self.variadic).then_some(self.params.len())
    }

    /// The parameter that argument `index` binds to.
    pub fn param(&self, index: usize) -> Option<&'static Param> {
        match self.params.get(index) {
            Some(p) => Some(p),
            None if self.variadic => self.params.last(),
            None => None,
        }
    }
}

impl Function {
    pub const ALL: [Function; 16] = [
        Function::Add,
        Function::Between,
        Function::CidrMatch,
        Function::Concat,
        Function::Divide,
        Function::EndsWith,
        Function::IndexOf,
        Function::Length,
        Function::Modulo,
        Function::Multiply,
        Function::Number,
        Function::StartsWith,
        Function::String,
        Function::StringContains,
        Function::Substring,
        Function::Subtract,
    ];

    /// The spelling of the Elasticsearch reference, used when printing.
    pub fn name(self) -> &'static str {
        match self {
            Function::Add => "add",
            Function::Between => "between",
            Function::CidrMatch => "cidrMatch",
            Function::Concat => "concat",
            Function::Divide => "divide",
            Function::EndsWith => "endsWith",
            Function::IndexOf => "indexOf",
            Function::Length => "length",
            Function::Modulo => "modulo",
            Function::Multiply => "multiply",
            Function::Number => "number",
            Function::StartsWith => "startsWith",
            Function::String => "string",
            Function::StringContains => "stringContains",
            Function::Substring => "substring",
            Function::Subtract => "subtract",
        }
    }

    /// The function called `name`, in any letter case.
    pub fn from_name(name: &str) -> Option<Function> {
        Function::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(name))
    }

    /// The known function whose name is closest to `name`, if any is close enough to be a
    /// plausible typo.
    pub fn closest(name: &str) -> Option<Function> {
        let lower = name.to_ascii_lowercase();
        Function::ALL
            .into_iter()
            .map(|f| {
                let candidate = f.name().to_ascii_lowercase();
                (strsim::jaro_winkler(&lower, &candidate), f)
            })
            .filter(|(score, _)| *score >= 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, f)| f)
    }

    /// Whether `name~(...)` exists: only for the string functions Elasticsearch lists.
    pub fn has_case_insensitive_form(self) -> bool {
        matches!(
            self,
            Function::Between
                | Function::EndsWith
                | Function::IndexOf
                | Function::StartsWith
                | Function::StringContains
        )
    }

    pub fn signature(self) -> Signature {
        use Kind::*;
        const fn sig(params: &'static [Param], required: usize, returns: Kind) -> Signature {
            Signature {
                params,
                required,
                variadic: false,
                returns,
            }
        }
        const ADD: Signature = sig(&[p("addend", Numeric), p("addend", Numeric)], 2, Numeric);
        const BETWEEN: Signature = sig(
            &[
                p("source", String),
                p("left", String),
                p("right", String),
                p("greedy", Boolean),
            ],
            3,
            String,
        );
        const CIDR_MATCH: Signature = Signature {
            params: &[p("ip", Ip), constant("cidr", String)],
            required: 2,
            variadic: true,
            returns: Boolean,
        };
        const CONCAT: Signature = Signature {
            params: &[p("value", Any)],
            required: 1,
            variadic: true,
            returns: String,
        };
        const DIVIDE: Signature = sig(&[p("dividend", Numeric), p("divisor", Numeric)], 2, Numeric);
        const ENDS_WITH: Signature =
            sig(&[p("source", String), p("substring", String)], 2, Boolean);
        const INDEX_OF: Signature = sig(
            &[
                p("source", String),
                p("substring", String),
                p("start_pos", Integer),
            ],
            2,
            Numeric,
        );
        const LENGTH: Signature = sig(&[p("source", String)], 1, Numeric);
        const MODULO: Signature = sig(&[p("dividend", Numeric), p("divisor", Numeric)], 2, Numeric);
        const MULTIPLY: Signature = sig(&[p("factor", Numeric), p("factor", Numeric)], 2, Numeric);
        const NUMBER: Signature = sig(
            &[p("string", String), constant("base", Integer)],
            1,
            Numeric,
        );
        const STARTS_WITH: Signature = sig(&[p("source", String), p("prefix", String)], 2, Boolean);
        const STRING: Signature = sig(&[p("value", Any)], 1, String);
        const STRING_CONTAINS: Signature =
            sig(&[p("source", String), p("substring", String)], 2, Boolean);
        const SUBSTRING: Signature = sig(
            &[p("source", String), p("start", Integer), p("end", Integer)],
            2,
            String,
        );
        const SUBTRACT: Signature = sig(
            &[p("minuend", Numeric), p("subtrahend", Numeric)],
            2,
            Numeric,
        );
        match self {
            Function::Add => ADD,
            Function::Between => BETWEEN,
            Function::CidrMatch => CIDR_MATCH,
            Function::Concat => CONCAT,
            Function::Divide => DIVIDE,
            Function::EndsWith => ENDS_WITH,
            Function::IndexOf => INDEX_OF,
            Function::Length => LENGTH,
            Function::Modulo => MODULO,
            Function::Multiply => MULTIPLY,
            Function::Number => NUMBER,
            Function::StartsWith => STARTS_WITH,
            Function::String => STRING,
            Function::StringContains => STRING_CONTAINS,
            Function::Substring => SUBSTRING,
            Function::Subtract => SUBTRACT,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_in_any_case_and_round_trip() {
        for f in Function::ALL {
            assert_eq!(Function::from_name(f.name()), Some(f));
            assert_eq!(Function::from_name(&f.name().to_uppercase()), Some(f));
        }
        assert_eq!(
            Function::from_name("STARTSWITH"),
            Some(Function::StartsWith)
        );
        assert_eq!(Function::from_name("startswith~"), None);
        assert_eq!(Function::from_name("arrayContains"), None);
    }

    #[test]
    fn typos_suggest_the_closest_function() {
        assert_eq!(Function::closest("startWith"), Some(Function::StartsWith));
        assert_eq!(Function::closest("cidrmatches"), Some(Function::CidrMatch));
        assert_eq!(Function::closest("lenght"), Some(Function::Length));
        assert_eq!(Function::closest("xyz"), None);
    }

    #[test]
    fn only_five_functions_have_a_tilde_form() {
        let with_tilde: Vec<_> = Function::ALL
            .into_iter()
            .filter(|f| f.has_case_insensitive_form())
            .map(|f| f.name())
            .collect();
        assert_eq!(
            with_tilde,
            [
                "between",
                "endsWith",
                "indexOf",
                "startsWith",
                "stringContains"
            ]
        );
    }

    #[test]
    fn variadic_signatures_repeat_their_last_parameter() {
        let cidr = Function::CidrMatch.signature();
        assert_eq!(cidr.max_args(), None);
        assert_eq!(cidr.param(5).map(|p| p.name), Some("cidr"));
        let sub = Function::Substring.signature();
        assert_eq!((sub.min_args(), sub.max_args()), (2, Some(3)));
        assert!(sub.param(3).is_none());
    }
}
