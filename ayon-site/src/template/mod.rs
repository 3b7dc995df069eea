//! The AYON anatomy template formatter: `{root[work]}/{project[name]}/.../v{version:0>3}<_{output}>.{ext}`
//! plus a representation's context → a path, exactly as the server's `/api/resolve` builds
//! `filePath` (`api/resolve/templating.py` in ayon-backend).
//!
//! What the server does, and so what [`Template`] does:
//! - A field is `{...}` as the server's key pattern finds it; `{key}`, `{key[sub][subsub]}` and
//!   `{key:spec}` are looked up in the context. A format spec is honoured only when it holds
//!   `<` or `>` (`{version:0>3}`): the server looks a key like `version:03d` up whole, so it is
//!   *missing*, not padded.
//! - A missing key (or a value that is a dict, a list or null) leaves the field as written and
//!   marks the result unsolved; [`Template::format`] still gives the text, as the server does
//!   (it answers the partially filled path). [`Formatted::strict`] turns that into an error
//!   naming the keys.
//! - `<...>` is an optional part: dropped, with its text, when any field in it is missing.
//!   Parts nest. A `<` that never closes, and `<text>` without fields, are plain text.
//! - Values format as Python's `format(value, spec)` does (strings, ints, floats, booleans);
//!   where Python would raise (a spec the value's type refuses, attribute access in a field),
//!   the server fails the whole request; here it is [`TemplateError::Field`], naming the field
//!   and its byte position, never a panic.
//!
//! [`representation_path`] adds the server's last steps: roots into the context, POSIX
//! `normpath`, `//` → `/`, and `\` for Windows sites.

mod pyformat;

use std::borrow::Cow;
use std::fmt;

use serde_json::{Map, Value};

use crate::roots::Roots;
use pyformat::{PyValue, format_value};

/// Why a template could not be formatted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// A field whose value Python's `str.format` refuses (the server answers 500 for it).
    #[error("template `{template}`: field `{field}` at byte {position}: {reason}")]
    Field {
        /// The whole template.
        template: String,
        /// The field as written, braces included.
        field: String,
        /// Byte offset of the field's `{` in the template.
        position: usize,
        /// What is wrong (CPython's message where it has one).
        reason: String,
    },
    /// Strict formatting: keys are missing from the context or hold values that cannot be
    /// formatted (dicts, lists, null).
    #[error(
        "template `{template}` is unsolved: missing keys [{}], keys with invalid types [{}]",
        .missing.join(", "),
        .invalid.join(", ")
    )]
    Unsolved {
        /// The whole template.
        template: String,
        /// Missing keys (`project[name]` style), in order of first appearance.
        missing: Vec<String>,
        /// Keys whose values have a type that cannot be formatted.
        invalid: Vec<String>,
    },
}

/// One field, as the server's key pattern delimits it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Field {
    /// `{...}` as written.
    raw: String,
    /// Byte offset of the `{` in the template.
    position: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Text(String),
    Field(Field),
    Optional(Vec<Node>),
}

/// A parsed anatomy template (the server's `StringTemplate`); parse once, format many times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    nodes: Vec<Node>,
}

/// The result of [`Template::format`]: the text, and what could not be filled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Formatted {
    template: String,
    text: String,
    missing: Vec<String>,
    invalid: Vec<String>,
}

impl Formatted {
    /// The filled text (unfilled fields left as written, as the server answers them).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The filled text, owned.
    pub fn into_text(self) -> String {
        self.text
    }

    /// True when every required field was filled (missing keys inside dropped optional parts
    /// do not count).
    pub fn is_solved(&self) -> bool {
        self.missing.is_empty() && self.invalid.is_empty()
    }

    /// Keys missing from the context (`folder[name]` style), in order of first appearance.
    pub fn missing_keys(&self) -> &[String] {
        &self.missing
    }

    /// Keys whose values are dicts, lists or null, in order of first appearance.
    pub fn invalid_keys(&self) -> &[String] {
        &self.invalid
    }

    /// The text when solved, else [`TemplateError::Unsolved`] naming the keys.
    pub fn strict(self) -> Result<String, TemplateError> {
        if self.is_solved() {
            Ok(self.text)
        } else {
            Err(TemplateError::Unsolved {
                template: self.template,
                missing: self.missing,
                invalid: self.invalid,
            })
        }
    }
}

impl Template {
    /// Parses `template` as the server does; never fails (what the server cannot read as a
    /// field or an optional part is text).
    pub fn new(template: impl Into<String>) -> Template {
        let source = template.into();
        let nodes = optional_parts(split(&source));
        Template { source, nodes }
    }

    /// The template as given.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Fills the template from `context`; unfilled fields stay as written (see [`Formatted`]).
    pub fn format(&self, context: &Map<String, Value>) -> Result<Formatted, TemplateError> {
        let mut acc = Acc::default();
        self.fill(&self.nodes, context, &mut acc)?;
        Ok(Formatted {
            template: self.source.clone(),
            text: acc.out,
            missing: acc.missing,
            invalid: acc.invalid,
        })
    }

    /// Fills the template and requires every required field to be filled.
    pub fn format_strict(&self, context: &Map<String, Value>) -> Result<String, TemplateError> {
        self.format(context)?.strict()
    }

    fn fill(
        &self,
        nodes: &[Node],
        ctx: &Map<String, Value>,
        acc: &mut Acc,
    ) -> Result<(), TemplateError> {
        for node in nodes {
            match node {
                Node::Text(t) => acc.out.push_str(t),
                Node::Field(f) => self.fill_field(f, ctx, acc)?,
                Node::Optional(inner) => {
                    let mut sub = Acc::default();
                    self.fill(inner, ctx, &mut sub)?;
                    if sub.missing.is_empty() && sub.invalid.is_empty() {
                        acc.out.push_str(&sub.out);
                    }
                }
            }
        }
        Ok(())
    }

    fn fill_field(
        &self,
        field: &Field,
        ctx: &Map<String, Value>,
        acc: &mut Acc,
    ) -> Result<(), TemplateError> {
        let key = &field.raw[1..field.raw.len() - 1];
        let existence = key_padding(key).unwrap_or(key);
        let subs: Vec<&str> = existence
            .split(['[', ']'])
            .filter(|s| !s.is_empty())
            .collect();
        match lookup(ctx, &subs) {
            Lookup::Missing(name) => {
                push_once(&mut acc.missing, name);
                acc.out.push_str(&field.raw);
            }
            Lookup::Invalid(name) => {
                push_once(&mut acc.invalid, name);
                acc.out.push_str(&field.raw);
            }
            Lookup::Found(value) => match py_value(value) {
                Some(v) => {
                    let text =
                        python_format(key, &subs, &v).map_err(|reason| TemplateError::Field {
                            template: self.source.clone(),
                            field: field.raw.clone(),
                            position: field.position,
                            reason,
                        })?;
                    acc.out.push_str(&text);
                }
                None => {
                    push_once(&mut acc.invalid, key.to_owned());
                    acc.out.push_str(&field.raw);
                }
            },
        }
        Ok(())
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl From<&str> for Template {
    fn from(s: &str) -> Template {
        Template::new(s)
    }
}

#[derive(Default)]
struct Acc {
    out: String,
    missing: Vec<String>,
    invalid: Vec<String>,
}

fn push_once(v: &mut Vec<String>, s: String) {
    if !v.contains(&s) {
        v.push(s);
    }
}

/// The server's `KEY_PATTERN` (`\{.*?[^{0]*\}`) applied from the `{` at `i`: the exclusive end
/// of the field, if one starts there.
///
/// The lazy `.*?` grows one character at a time (never across a newline) and the greedy
/// `[^{0]*` then reaches the next `{` or `0`; the field ends at the last `}` of the first such
/// run that holds one. So `{version:0>3}` is one field although `0` stops the first run.
fn field_end(b: &[u8], i: usize) -> Option<usize> {
    let mut start = i + 1;
    loop {
        let mut run_end = start;
        while run_end < b.len() && b[run_end] != b'{' && b[run_end] != b'0' {
            run_end += 1;
        }
        if let Some(at) = b[start..run_end].iter().rposition(|&c| c == b'}') {
            return Some(start + at + 1);
        }
        if run_end >= b.len() || b[i + 1..=run_end].contains(&b'\n') {
            return None;
        }
        start = run_end + 1;
    }
}

/// Raw parts: text (with each `<` and `>` a part of its own) and fields.
enum Raw {
    Text(String),
    Open,
    Close,
    Field(Field),
}

fn split(template: &str) -> Vec<Raw> {
    let b = template.as_bytes();
    let mut parts = Vec::new();
    let mut text_start = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'{'
            && let Some(end) = field_end(b, i)
        {
            split_text(&template[text_start..i], &mut parts);
            parts.push(Raw::Field(Field {
                raw: template[i..end].to_owned(),
                position: i,
            }));
            i = end;
            text_start = end;
            continue;
        }
        i += 1;
    }
    split_text(&template[text_start..], &mut parts);
    parts
}

fn split_text(text: &str, parts: &mut Vec<Raw>) {
    let mut rest = text;
    while let Some(at) = rest.find(['<', '>']) {
        if at > 0 {
            parts.push(Raw::Text(rest[..at].to_owned()));
        }
        parts.push(if rest.as_bytes()[at] == b'<' {
            Raw::Open
        } else {
            Raw::Close
        });
        rest = &rest[at + 1..];
    }
    if !rest.is_empty() {
        parts.push(Raw::Text(rest.to_owned()));
    }
}

/// The server's `find_optional_parts`: `<...>` holding a field becomes an optional part,
/// `<>` and `<text>` stay text, `>` without `<` is text, an unclosed `<` is text.
fn optional_parts(parts: Vec<Raw>) -> Vec<Node> {
    let mut top: Vec<Node> = Vec::new();
    // Open levels; each starts with the `<` that opened it.
    let mut open: Vec<Vec<Node>> = Vec::new();
    for part in parts {
        let node = match part {
            Raw::Open => {
                open.push(vec![Node::Text("<".to_owned())]);
                continue;
            }
            Raw::Close => match open.pop() {
                Some(mut level) => {
                    level.remove(0);
                    match level.as_slice() {
                        [] => Node::Text("<>".to_owned()),
                        [Node::Text(t)] => Node::Text(format!("<{t}>")),
                        _ => Node::Optional(level),
                    }
                }
                None => Node::Text(">".to_owned()),
            },
            Raw::Text(t) => Node::Text(t),
            Raw::Field(f) => Node::Field(f),
        };
        match open.last_mut() {
            Some(level) => level.push(node),
            None => top.push(node),
        }
    }
    // Unclosed levels are text, in order (their `<` included).
    top.extend(open.into_iter().flatten());
    top
}

/// The server's `KEY_PADDING_PATTERN` (`([^:]+)\S+[><]\S+`), first match's group: the key of a
/// field with a padding spec (`version` of `version:0>3`).
fn key_padding(key: &str) -> Option<&str> {
    let c: Vec<(usize, char)> = key.char_indices().collect();
    let n = c.len();
    let byte = |i: usize| c.get(i).map_or(key.len(), |(b, _)| *b);
    // `\S+[><]\S+` at `p`: a run of non-space characters with `<` or `>` neither first nor last.
    let tail = |p: usize| {
        let mut m = 0;
        while p + m < n && !c[p + m].1.is_whitespace() {
            m += 1;
        }
        (1..m.saturating_sub(1)).any(|k| matches!(c[p + k].1, '<' | '>'))
    };
    for s in 0..n {
        let mut longest = 0;
        while s + longest < n && c[s + longest].1 != ':' {
            longest += 1;
        }
        for len in (1..=longest).rev() {
            if tail(s + len) {
                return Some(&key[byte(s)..byte(s + len)]);
            }
        }
    }
    None
}

enum Lookup<'v> {
    Found(&'v Value),
    /// The key to report (`a[b]` style, up to the missing part).
    Missing(String),
    Invalid(String),
}

/// Walks `subs` down the context as the server's `FormattingPart.format` does.
fn lookup<'v>(ctx: &'v Map<String, Value>, subs: &[&str]) -> Lookup<'v> {
    let name = |used: &[&str]| {
        let mut s = used.first().copied().unwrap_or_default().to_owned();
        for k in used.iter().skip(1) {
            s.push('[');
            s.push_str(k);
            s.push(']');
        }
        s
    };
    let Some((first, rest)) = subs.split_first() else {
        // `{}`: the whole context is the value, a dict.
        return Lookup::Invalid(String::new());
    };
    let Some(mut value) = ctx.get(*first) else {
        return Lookup::Missing((*first).to_owned());
    };
    for (i, sub) in rest.iter().enumerate() {
        match value {
            Value::Null => return Lookup::Missing(name(&subs[..i + 2])),
            Value::Object(m) => match m.get(*sub) {
                Some(v) => value = v,
                None => return Lookup::Missing(name(&subs[..i + 2])),
            },
            _ => return Lookup::Invalid(name(&subs[..i + 1])),
        }
    }
    Lookup::Found(value)
}

fn py_value(v: &Value) -> Option<PyValue<'_>> {
    match v {
        Value::String(s) => Some(PyValue::Str(Cow::Borrowed(s))),
        Value::Bool(b) => Some(PyValue::Bool(*b)),
        Value::Number(n) => Some(match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => PyValue::Int(i128::from(i)),
            (None, Some(u)) => PyValue::Int(i128::from(u)),
            _ => PyValue::Float(n.as_f64().unwrap_or(f64::NAN)),
        }),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// `"{key}".format(**fill_data)` where `fill_data` nests `subs` down to `value`, as the server
/// calls it: the field's own name, indices, conversion and spec, parsed as CPython does.
fn python_format(key: &str, subs: &[&str], value: &PyValue<'_>) -> Result<String, String> {
    if key.contains(['{', '}']) {
        return Err("braces inside a field are not supported".to_owned());
    }
    // The field name ends at the first `:` or `!` outside `[...]`.
    let bytes = key.as_bytes();
    let mut i = 0;
    while i < bytes.len() && !matches!(bytes[i], b':' | b'!') {
        if bytes[i] == b'[' {
            while i < bytes.len() && bytes[i] != b']' {
                i += 1;
            }
        }
        if i < bytes.len() {
            i += 1;
        }
    }
    let name = &key[..i.min(key.len())];
    let mut rest = &key[i.min(key.len())..];
    let mut conversion = None;
    if let Some(r) = rest.strip_prefix('!') {
        let mut chars = r.chars();
        let Some(c) = chars.next() else {
            return Err("end of string while looking for conversion specifier".to_owned());
        };
        conversion = Some(c);
        rest = chars.as_str();
        if !rest.is_empty() && !rest.starts_with(':') {
            return Err("expected ':' after conversion specifier".to_owned());
        }
    }
    let spec = rest.strip_prefix(':').unwrap_or(rest);
    check_field_name(name, subs)?;
    let value = match conversion {
        None => value.clone(),
        Some('s') => PyValue::Str(value.to_str().into()),
        Some('r' | 'a') if !matches!(value, PyValue::Str(_)) => PyValue::Str(value.to_str().into()),
        Some(c @ ('r' | 'a')) => {
            return Err(format!("conversion `!{c}` of a string is not supported"));
        }
        Some(c) => return Err(format!("Unknown conversion specifier {c}")),
    };
    format_value(&value, spec)
}

/// CPython's field-name grammar (`arg_name ("." attr | "[" key "]")*`) must name exactly the
/// nested keys the server put in `fill_data`; anything else is the error Python raises.
fn check_field_name(name: &str, subs: &[&str]) -> Result<(), String> {
    let end = name.find(['.', '[']).unwrap_or(name.len());
    let arg = &name[..end];
    if arg.is_empty() || arg.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "positional field `{arg}` (Python: Replacement index out of range)"
        ));
    }
    let mut accessors: Vec<&str> = Vec::new();
    let mut rest = &name[end..];
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let e = r.find(['.', '[']).unwrap_or(r.len());
            if e == 0 {
                return Err("Empty attribute in format string".to_owned());
            }
            return Err(format!("attribute access `.{}` in a field", &r[..e]));
        }
        let Some(r) = rest.strip_prefix('[') else {
            return Err("Only '.' or '[' may follow ']' in format field specifier".to_owned());
        };
        let Some(close) = r.find(']') else {
            return Err("Missing ']' in format string".to_owned());
        };
        let index = &r[..close];
        if index.is_empty() {
            return Err("Empty attribute in format string".to_owned());
        }
        if index.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("KeyError: {index} (an integer index into a dict)"));
        }
        accessors.push(index);
        rest = &r[close + 1..];
    }
    let (first, nested) = subs.split_first().unwrap_or((&"", &[]));
    if arg != *first {
        return Err(format!("KeyError: '{arg}'"));
    }
    if accessors.len() < nested.len() {
        return Err("the field names a dict, which has no format for a path".to_owned());
    }
    for (i, a) in accessors.iter().enumerate() {
        if nested.get(i) != Some(a) {
            return Err(format!("KeyError: '{a}'"));
        }
    }
    Ok(())
}

/// Python's `posixpath.normpath`, as the server applies it to the filled path (`\` is not a
/// separator to it).
pub fn normpath(path: &str) -> String {
    if path.is_empty() {
        return ".".to_owned();
    }
    let initial = if path.starts_with("//") && !path.starts_with("///") {
        "//"
    } else if path.starts_with('/') {
        "/"
    } else {
        ""
    };
    let mut parts: Vec<&str> = Vec::new();
    for comp in path.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                if (initial.is_empty() && parts.is_empty()) || parts.last() == Some(&"..") {
                    parts.push("..");
                } else if !parts.is_empty() {
                    parts.pop();
                }
            }
            c => parts.push(c),
        }
    }
    let joined = format!("{initial}{}", parts.join("/"));
    if joined.is_empty() {
        ".".to_owned()
    } else {
        joined
    }
}

/// A representation's `filePath` as the server's `/api/resolve` writes it: `context` with
/// `root` set to `roots` (empty: the path stays rootless, `{root[work]}/...`), formatted
/// (unfilled fields kept, as the server does), `normpath`, `//` → `/`, and `\` throughout when
/// `roots` are a Windows site's. A request without a site is a non-Windows site without roots.
///
/// For offline answers that must equal the client's, format rootless (roots without entries,
/// of the site's platform) and root the result with [`Roots::substitute`], as the client does
/// with the server's rootless answers; the two differ only where the server mangles a path
/// (see [the substitution rule](crate::roots#the-substitution-rule)).
pub fn representation_path(
    template: &Template,
    context: &Map<String, Value>,
    roots: &Roots,
) -> Result<String, TemplateError> {
    let mut ctx = context.clone();
    let root: Map<String, Value> = roots
        .iter()
        .map(|(n, v)| (n.to_owned(), Value::String(v.to_owned())))
        .collect();
    ctx.insert("root".to_owned(), Value::Object(root));
    let filled = template.format(&ctx)?.into_text();
    let path = normpath(&filled).replace("//", "/");
    Ok(if roots.platform().is_windows() {
        path.replace('/', "\\")
    } else {
        path
    })
}

#[cfg(test)]
mod tests;
