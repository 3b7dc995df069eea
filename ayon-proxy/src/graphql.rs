//! GraphQL bodies as the proxy needs them: query or mutation, and one key per meaning.
//!
//! ayon-python-api builds its field lists from Python sets, so the same `get_folders` call
//! sends its fields in another order in every new process (string hashing is randomised per
//! process). A key on the raw body would never find yesterday's answer on the train; the key
//! is taken over a canonical form instead: selection sets sorted, insignificant white space
//! and commas dropped, variables with sorted keys and lists of scalars sorted (AYON's list
//! arguments are id and name filters, whose answers do not depend on their order).

use serde_json::Value;

/// What the operations of a GraphQL document are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    /// Only queries (`query ...` or a bare `{ ... }`): a read.
    Query,
    /// At least one mutation or subscription: never recorded or replayed.
    Mutation,
}

/// A `POST /graphql` body, understood.
#[derive(Debug, Clone)]
pub(crate) struct GraphqlRequest {
    /// Query or mutation.
    pub(crate) operation: Operation,
    /// The canonical text the proxy keys the answer on.
    pub(crate) canonical: String,
    /// The operation's name, for messages.
    pub(crate) name: Option<String>,
}

/// Reads a `POST /graphql` body, or says why it is not a GraphQL request (not JSON, no
/// `query` string).
pub(crate) fn parse(body: &[u8]) -> Result<GraphqlRequest, String> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| format!("the GraphQL request body is not JSON: {e}"))?;
    let query = v
        .get("query")
        .and_then(Value::as_str)
        .ok_or("the GraphQL request body has no `query` string")?;
    let tokens = lex(query);
    let operation = if top_level_words(&tokens).any(|w| w == "mutation" || w == "subscription") {
        Operation::Mutation
    } else {
        Operation::Query
    };
    let operation_name = v.get("operationName").and_then(Value::as_str);
    let name = operation_name.map(str::to_owned).or_else(|| {
        let mut words = top_level_words(&tokens);
        (words.next()? == "query").then(|| words.next().map(str::to_owned))?
    });
    let mut canonical = String::with_capacity(query.len());
    let mut i = 0;
    while i < tokens.len() {
        if tokens[i] == "{" {
            let (set, next) = selection_set(&tokens, i);
            canonical.push_str(&set);
            i = next;
        } else if tokens[i] == "(" {
            let next = balanced(&tokens, i);
            push_tokens(&mut canonical, &tokens[i..next]);
            i = next;
        } else {
            push_tokens(&mut canonical, &tokens[i..=i]);
            i += 1;
        }
    }
    canonical.push('\n');
    write_json(
        v.get("variables").unwrap_or(&Value::Null),
        true,
        &mut canonical,
    );
    canonical.push('\n');
    canonical.push_str(operation_name.unwrap_or(""));
    Ok(GraphqlRequest {
        operation,
        canonical,
        name,
    })
}

/// Names at brace and parenthesis depth 0 (`query`, `mutation`, operation names, `fragment`).
fn top_level_words<'a>(tokens: &'a [&'a str]) -> impl Iterator<Item = &'a str> + 'a {
    let mut depth = 0i32;
    tokens.iter().filter_map(move |t| {
        match *t {
            "{" | "(" | "[" => depth += 1,
            "}" | ")" | "]" => depth -= 1,
            w if depth == 0 && w.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') => {
                return Some(w);
            }
            _ => {}
        }
        None
    })
}

/// The tokens of a GraphQL document: names, numbers, strings (kept whole), punctuators and
/// `...`; white space, commas and comments dropped.
fn lex(doc: &str) -> Vec<&str> {
    let b = doc.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        match c {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => i += 1,
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' => {
                let block = b[i..].starts_with(b"\"\"\"");
                i += if block { 3 } else { 1 };
                while i < b.len() {
                    if block && b[i..].starts_with(b"\"\"\"") {
                        i += 3;
                        break;
                    }
                    if !block && b[i] == b'\\' {
                        i += 2;
                        continue;
                    }
                    i += 1;
                    if !block && b[i - 1] == b'"' {
                        break;
                    }
                }
                out.push(&doc[start..i.min(b.len())]);
            }
            b'.' if b[i..].starts_with(b"...") => {
                i += 3;
                out.push("...");
            }
            c if c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'$' || c >= 0x80 => {
                i += 1;
                while i < b.len()
                    && (b[i].is_ascii_alphanumeric()
                        || matches!(b[i], b'_' | b'.' | b'+' | b'-')
                        || b[i] >= 0x80)
                {
                    i += 1;
                }
                out.push(&doc[start..i]);
            }
            _ => {
                // One punctuator; a stray byte is a token of its own (the server will judge it).
                let len = doc[i..].chars().next().map_or(1, char::len_utf8);
                i += len;
                out.push(&doc[start..i]);
            }
        }
    }
    out
}

/// Index after the bracket that closes the one at `open` (or the end).
fn balanced(tokens: &[&str], open: usize) -> usize {
    let mut depth = 0i32;
    for (j, t) in tokens.iter().enumerate().skip(open) {
        match *t {
            "{" | "(" | "[" => depth += 1,
            "}" | ")" | "]" => {
                depth -= 1;
                if depth == 0 {
                    return j + 1;
                }
            }
            _ => {}
        }
    }
    tokens.len()
}

fn push_tokens(out: &mut String, tokens: &[&str]) {
    for t in tokens {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push(' ');
        }
        out.push_str(t);
    }
}

/// The selection set opening at `open`, its items canonical and sorted; and the index after it.
fn selection_set(tokens: &[&str], open: usize) -> (String, usize) {
    let mut items: Vec<String> = Vec::new();
    let mut item = String::new();
    let mut i = open + 1;
    // An item ends where the next one starts: a name or `...` that does not continue this one.
    // A name continues after `:` (alias), `...` (fragment name or `on`), `... on` (type
    // condition) and `@` (directive).
    let mut continues = false;
    while i < tokens.len() && tokens[i] != "}" {
        let t = tokens[i];
        if t == "{" {
            let (set, next) = selection_set(tokens, i);
            push_tokens(&mut item, &[&set]);
            i = next;
            continues = false;
            continue;
        }
        if t == "(" {
            let next = balanced(tokens, i);
            push_tokens(&mut item, &tokens[i..next]);
            i = next;
            continues = false;
            continue;
        }
        let is_name = t.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
        if (t == "..." || is_name) && !continues && !item.is_empty() {
            items.push(std::mem::take(&mut item));
        }
        push_tokens(&mut item, &[t]);
        let after_spread = i > 0 && tokens[i - 1] == "...";
        continues = matches!(t, ":" | "..." | "@") || (t == "on" && after_spread);
        i += 1;
    }
    if !item.is_empty() {
        items.push(item);
    }
    items.sort();
    items.dedup();
    (
        format!("{{ {} }}", items.join(" ")),
        (i + 1).min(tokens.len()),
    )
}

/// JSON written with object keys sorted, and lists of scalars sorted when `sort_lists`.
fn write_json(v: &Value, sort_lists: bool, out: &mut String) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (n, k) in keys.into_iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_json(&map[k], sort_lists, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            let mut parts: Vec<String> = items
                .iter()
                .map(|i| {
                    let mut s = String::new();
                    write_json(i, sort_lists, &mut s);
                    s
                })
                .collect();
            if sort_lists && items.iter().all(|i| !i.is_object() && !i.is_array()) {
                parts.sort();
            }
            out.push('[');
            out.push_str(&parts.join(","));
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// A JSON body with object keys sorted (lists kept in order: a resolve's answer follows its
/// URIs), or `None` when it is not JSON.
pub(crate) fn canonical_body(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let mut out = String::with_capacity(body.len());
    write_json(&v, false, &mut out);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(query: &str, variables: Value) -> Result<GraphqlRequest, String> {
        parse(
            serde_json::json!({"query": query, "variables": variables})
                .to_string()
                .as_bytes(),
        )
    }

    #[test]
    fn operations() {
        let op = |q: &str| req(q, Value::Null).map(|r| r.operation);
        assert_eq!(
            op("query Folders { project { name } }"),
            Ok(Operation::Query)
        );
        assert_eq!(
            op("{ projects { edges { node { name } } } }"),
            Ok(Operation::Query)
        );
        assert_eq!(
            op("query A($m: String = \"mutation\") { a(x: \"mutation {\") } # mutation\n"),
            Ok(Operation::Query)
        );
        assert_eq!(op("mutation { createThing }"), Ok(Operation::Mutation));
        assert_eq!(
            op("query A { a } mutation B { b }"),
            Ok(Operation::Mutation)
        );
        assert_eq!(op("subscription { s }"), Ok(Operation::Mutation));
        assert!(parse(b"not json").is_err());
        assert!(parse(b"{\"variables\": {}}").is_err());
        assert_eq!(
            req("query FoldersQuery($p: String!) { a }", Value::Null)
                .expect("query")
                .name
                .as_deref(),
            Some("FoldersQuery")
        );
    }

    #[test]
    fn one_key_per_meaning() {
        let a = req(
            "query Q($ids: [String!]) { project(name: \"p\") { folders(ids: $ids) { edges { node { id name path attrib { fps resolutionWidth } } } } } }",
            serde_json::json!({"ids": ["b", "a"], "projectName": "p"}),
        )
        .expect("a");
        let b = req(
            "query Q($ids: [String!]) {\n  project(name: \"p\") {\n    folders(ids: $ids) {\n      edges { node { path, attrib { resolutionWidth fps } name id } }\n    }\n  }\n}",
            serde_json::json!({"projectName": "p", "ids": ["a", "b"]}),
        )
        .expect("b");
        assert_eq!(a.canonical, b.canonical);
        for other in [
            req(
                "query Q { project(name: \"q\") { folders { edges { node { id } } } } }",
                Value::Null,
            ),
            req(
                "query Q { project(name: \"p\") { folders { edges { node { id } } } } }",
                serde_json::json!({"x": 1}),
            ),
            req(
                "query Q { project(name: \"p\") { products { edges { node { id } } } } }",
                Value::Null,
            ),
            req(
                "query Q { project(name: \"p\") { folders { edges { node { name } } } } }",
                Value::Null,
            ),
        ] {
            assert_ne!(other.expect("other").canonical, a.canonical);
        }
        // Aliases, arguments and fragments stay attached to their field.
        let x = req(
            "{ a: f(x: 1) { id } b: f(x: 2) { id } ...F @include(if: true) ... on T { z } }",
            Value::Null,
        )
        .expect("x");
        let y = req(
            "{ ... on T { z } b: f(x: 2) { id } ...F @include(if: true) a: f(x: 1) { id } }",
            Value::Null,
        )
        .expect("y");
        assert_eq!(x.canonical, y.canonical);
        let z = req(
            "{ a: f(x: 2) { id } b: f(x: 1) { id } ...F @include(if: true) ... on T { z } }",
            Value::Null,
        )
        .expect("z");
        assert_ne!(x.canonical, z.canonical);
    }

    #[test]
    fn canonical_bodies_sort_keys_only() {
        assert_eq!(
            canonical_body(br#"{"uris": ["b", "a"], "resolveRoots": true}"#),
            canonical_body(br#"{"resolveRoots":true,"uris":["b","a"]}"#)
        );
        assert_ne!(
            canonical_body(br#"{"uris": ["b", "a"]}"#),
            canonical_body(br#"{"uris": ["a", "b"]}"#)
        );
        assert_eq!(canonical_body(b"nope"), None);
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_read_without_panic(query in "\\PC*", raw in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let _ = parse(serde_json::json!({"query": query, "variables": {"a": [3, 1]}}).to_string().as_bytes());
            let _ = parse(&raw);
            let _ = canonical_body(&raw);
        }

        #[test]
        fn graphql_like_text_is_read_without_panic(query in "[{}()\\[\\]:.@#$\" a-z0-9\\\\é\n]{0,80}") {
            let _ = parse(serde_json::json!({"query": query}).to_string().as_bytes());
        }
    }
}
