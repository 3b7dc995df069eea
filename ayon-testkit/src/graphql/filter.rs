//! The `filter:` argument of the entity connections: a QueryFilter as JSON text, as the real
//! server's `ayon_server.sqlfilter` reads it (`{"conditions": [{"key": "updatedAt",
//! "operator": "gte", "value": "2026-11-22T22:24:24+00:00"}], "operator": "and"}`).
//!
//! Followed from the server: the key's first element goes to snake_case and must be in the
//! connection's column whitelist (`Invalid key: x` otherwise); operators are lower-cased with
//! `-` and `_` removed; `in` needs a list; only `isnull` / `notnull` take no value; an empty
//! `in` list matches nothing and an empty `notin` list everything; nested filters join with
//! their own `and` / `or`. Times (`createdAt`, `updatedAt`) compare as instants, as Postgres
//! casts the text to `timestamptz`. The testkit evaluates the scalar columns its library has;
//! a whitelisted key it has no value for (`attrib`, `data`, `tags`) is an error naming it.

use serde_json::Value;

use super::status_error;

/// A column's value on one entity.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Cell<'a> {
    /// Text, compared as text.
    Text(&'a str),
    /// A server timestamp, compared as an instant.
    Time(&'a str),
    /// A number.
    Int(i64),
    /// A flag.
    Bool(bool),
    /// SQL NULL.
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Gt,
    Lte,
    Gte,
    Like,
    In,
    NotIn,
    IsNull,
    NotNull,
}

#[derive(Debug)]
enum Node {
    Leaf {
        column: String,
        op: Op,
        value: Value,
    },
    Group(QueryFilter),
}

/// A parsed filter, checked against a connection's whitelist.
#[derive(Debug)]
pub(crate) struct QueryFilter {
    nodes: Vec<Node>,
    any: bool,
}

type GqlResult<T> = async_graphql::Result<T>;

fn invalid(message: impl Into<String>) -> async_graphql::Error {
    status_error(&message.into(), 400)
}

/// `updatedAt` → `updated_at`, as the server's `camel_to_snake`.
fn snake(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

fn op(text: &str) -> GqlResult<Op> {
    let norm: String = text
        .to_ascii_lowercase()
        .chars()
        .filter(|c| *c != '-' && *c != '_')
        .collect();
    Ok(match norm.as_str() {
        "eq" => Op::Eq,
        "ne" => Op::Ne,
        "lt" => Op::Lt,
        "gt" => Op::Gt,
        "lte" => Op::Lte,
        "gte" => Op::Gte,
        "like" => Op::Like,
        "in" => Op::In,
        "notin" => Op::NotIn,
        "isnull" => Op::IsNull,
        "notnull" => Op::NotNull,
        "includes" | "excludes" | "includesall" | "excludesall" | "includesany" | "excludesany" => {
            return Err(invalid(format!(
                "testkit: filter operator `{text}` is not supported"
            )));
        }
        _ => return Err(invalid(format!("Invalid operator: {text}"))),
    })
}

impl QueryFilter {
    /// Parses the argument against the connection's `columns` (the server's whitelist and
    /// whether the testkit holds each); `None` when absent or without conditions.
    pub(crate) fn parse(text: Option<&str>, columns: &Columns) -> GqlResult<Option<QueryFilter>> {
        let Some(text) = text else { return Ok(None) };
        let value: Value =
            serde_json::from_str(text).map_err(|e| invalid(format!("filter is not JSON: {e}")))?;
        let filter = QueryFilter::from_value(&value, columns)?;
        Ok((!filter.nodes.is_empty()).then_some(filter))
    }

    fn from_value(value: &Value, columns: &Columns) -> GqlResult<QueryFilter> {
        let object = value
            .as_object()
            .ok_or_else(|| invalid("filter must be an object"))?;
        let any = match object.get("operator").and_then(Value::as_str) {
            None => false,
            Some(o) if o.eq_ignore_ascii_case("and") => false,
            Some(o) if o.eq_ignore_ascii_case("or") => true,
            Some(o) => return Err(invalid(format!("Invalid filter operator: {o}"))),
        };
        let mut nodes = Vec::new();
        for c in object
            .get("conditions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if c.get("key").is_none() && c.get("conditions").is_some() {
                nodes.push(Node::Group(QueryFilter::from_value(c, columns)?));
                continue;
            }
            let key = c
                .get("key")
                .and_then(Value::as_str)
                .ok_or_else(|| invalid("a condition needs a `key`"))?;
            let first = key.split(['.', '/']).next().unwrap_or_default().trim();
            let column = snake(first);
            if !columns.server(&column) {
                return Err(invalid(format!("Invalid key: {column}")));
            }
            if !columns.held(&column) {
                return Err(invalid(format!(
                    "testkit: filter key `{key}` is not supported"
                )));
            }
            let op = op(c.get("operator").and_then(Value::as_str).unwrap_or("eq"))?;
            let value = c.get("value").cloned().unwrap_or(Value::Null);
            if matches!(op, Op::In | Op::NotIn) && !value.is_array() {
                return Err(invalid("Value must be a list"));
            }
            if !matches!(op, Op::IsNull | Op::NotNull) && value.is_null() {
                return Err(invalid("Value cannot be null"));
            }
            if column.ends_with("_at") {
                for v in value
                    .as_array()
                    .map_or(std::slice::from_ref(&value), Vec::as_slice)
                {
                    if let Some(text) = v.as_str() {
                        time(text)?;
                    }
                }
            }
            nodes.push(Node::Leaf { column, op, value });
        }
        Ok(QueryFilter { nodes, any })
    }

    /// Whether an entity passes; `cell` gives its value of a (snake_case) column the
    /// testkit holds for the connection.
    pub(crate) fn matches<'a>(&self, cell: &dyn Fn(&str) -> Cell<'a>) -> bool {
        let mut results = self.nodes.iter().map(|node| match node {
            Node::Group(g) => g.matches(cell),
            Node::Leaf { column, op, value } => leaf(cell(column), *op, value),
        });
        if self.any {
            results.any(|r| r)
        } else {
            results.all(|r| r)
        }
    }
}

/// The server's `filter` whitelist of each connection (`ayon_server/graphql/resolvers/*.py`),
/// one line each: the columns the testkit evaluates, then after `|` those it holds no value
/// for.
const WHITELISTS: &str = "
folders: id name folder_type parent_id active status created_at updated_at | label attrib data tags created_by updated_by
tasks: active folder_id id name status task_type created_at updated_at | assignees attrib data label tags thumbnail_id created_by updated_by
products: id name folder_id product_type status active created_at updated_at | product_base_type attrib data tags created_by updated_by
versions: id version product_id author status active created_at updated_at | task_id attrib data tags created_by updated_by product_type product_base_type task_type folder_type hero_version_id
representations: name version_id status active created_at updated_at | files attrib data traits tags
";

/// The filter columns of one connection, from [`WHITELISTS`].
pub(crate) struct Columns {
    held: &'static str,
    other: &'static str,
}

impl Columns {
    /// The columns of `connection` (none for a connection not listed).
    pub(crate) fn of(connection: &str) -> Columns {
        let line = WHITELISTS
            .lines()
            .find_map(|l| l.strip_prefix(connection)?.strip_prefix(':'))
            .unwrap_or("");
        let (held, other) = line.split_once('|').unwrap_or((line, ""));
        Columns { held, other }
    }

    fn server(&self, column: &str) -> bool {
        self.held(column) || self.other.split_ascii_whitespace().any(|c| c == column)
    }

    fn held(&self, column: &str) -> bool {
        self.held.split_ascii_whitespace().any(|c| c == column)
    }
}

fn time(text: &str) -> GqlResult<i64> {
    ayon_site::parse_server_time_micros(text).ok_or_else(|| {
        invalid(format!(
            "invalid input syntax for type timestamp with time zone: \"{text}\""
        ))
    })
}

/// `have <op> want` with SQL's types: times as instants, text as text; NULL (or a value of
/// another type) never compares.
fn compare(have: Cell<'_>, want: &Value) -> Option<std::cmp::Ordering> {
    match (have, want) {
        (Cell::Time(h), Value::String(w)) => Some(
            ayon_site::parse_server_time_micros(h)?.cmp(&ayon_site::parse_server_time_micros(w)?),
        ),
        (Cell::Text(h), Value::String(w)) => Some(h.cmp(w.as_str())),
        (Cell::Int(h), Value::Number(w)) => w.as_i64().map(|w| h.cmp(&w)),
        (Cell::Bool(h), Value::Bool(w)) => Some(h.cmp(w)),
        _ => None,
    }
}

fn leaf(have: Cell<'_>, op: Op, want: &Value) -> bool {
    use std::cmp::Ordering::{Equal, Greater, Less};
    match op {
        Op::IsNull => matches!(have, Cell::Null),
        Op::NotNull => !matches!(have, Cell::Null),
        Op::In | Op::NotIn => {
            let found = want
                .as_array()
                .into_iter()
                .flatten()
                .any(|w| compare(have, w) == Some(Equal));
            (op == Op::In) == found
        }
        Op::Like => {
            let (Cell::Text(h), Some(pattern)) = (have, want.as_str()) else {
                return false;
            };
            like(&h.to_lowercase(), &pattern.to_lowercase())
        }
        _ => {
            let Some(ord) = compare(have, want) else {
                return false;
            };
            match op {
                Op::Eq => ord == Equal,
                Op::Ne => ord != Equal,
                Op::Lt => ord == Less,
                Op::Gt => ord == Greater,
                Op::Lte => ord != Greater,
                _ => ord != Less,
            }
        }
    }
}

/// SQL `LIKE` with `%` and `_` (for the server's `ILIKE`, callers lower-case both sides).
pub(crate) fn like(text: &str, pattern: &str) -> bool {
    let (t, p): (Vec<char>, Vec<char>) = (text.chars().collect(), pattern.chars().collect());
    let (mut ti, mut pi, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '_' || p[pi] == t[ti]) {
            ti += 1;
            pi += 1;
        } else if pi < p.len() && p[pi] == '%' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '%')
}
