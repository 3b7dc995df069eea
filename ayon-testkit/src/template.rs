//! The subset of AYON's `StringTemplate` that representation templates use, and
//! `os.path.normpath` as the server applies it to the filled path.

use serde_json::{Map, Value};

/// Fills `{key}`, `{key[sub]}` and `{key:fmt}` from `context`. An optional part `<...>` is
/// dropped when any key inside it is missing; a missing key elsewhere is left literally
/// (`{root[work]}` stays when roots are not resolved).
pub fn fill(template: &str, context: &Map<String, Value>) -> String {
    let chars: Vec<char> = template.chars().collect();
    let mut pos = 0;
    let (out, _) = fill_part(&chars, &mut pos, context, false);
    out
}

/// Fills until the end or the `>` closing an optional part; returns (text, all keys found).
fn fill_part(
    chars: &[char],
    pos: &mut usize,
    ctx: &Map<String, Value>,
    optional: bool,
) -> (String, bool) {
    let mut out = String::new();
    let mut complete = true;
    while *pos < chars.len() {
        let c = chars[*pos];
        match c {
            '<' => {
                *pos += 1;
                let (inner, ok) = fill_part(chars, pos, ctx, true);
                if ok {
                    out.push_str(&inner);
                }
            }
            '>' if optional => {
                *pos += 1;
                return (out, complete);
            }
            '{' => {
                let Some(end) = chars[*pos..].iter().position(|&c| c == '}') else {
                    out.extend(&chars[*pos..]);
                    *pos = chars.len();
                    break;
                };
                let raw: String = chars[*pos..*pos + end + 1].iter().collect();
                let inner = &raw[1..raw.len() - 1];
                *pos += end + 1;
                match format_key(inner, ctx) {
                    Some(v) => out.push_str(&v),
                    None => {
                        complete = false;
                        out.push_str(&raw);
                    }
                }
            }
            _ => {
                out.push(c);
                *pos += 1;
            }
        }
    }
    (out, complete)
}

fn format_key(inner: &str, ctx: &Map<String, Value>) -> Option<String> {
    let (key, spec) = match inner.split_once(':') {
        Some((k, s)) => (k, Some(s)),
        None => (inner, None),
    };
    let mut parts = key.split('[');
    let first = parts.next()?;
    let mut value = ctx.get(first)?;
    for p in parts {
        let sub = p.strip_suffix(']')?;
        value = value.as_object()?.get(sub)?;
    }
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => if *b { "True" } else { "False" }.to_owned(),
        _ => return None,
    };
    Some(match spec {
        Some(spec) => apply_spec(&text, spec, value.is_number()),
        None => text,
    })
}

/// Python's format-spec mini-language: fill, align, `0`, width (precision and type ignored).
fn apply_spec(text: &str, spec: &str, numeric: bool) -> String {
    let chars: Vec<char> = spec.chars().collect();
    let mut i = 0;
    let mut fill = ' ';
    let mut align = None;
    if chars.len() >= 2 && matches!(chars[1], '<' | '>' | '^' | '=') {
        fill = chars[0];
        align = Some(chars[1]);
        i = 2;
    } else if !chars.is_empty() && matches!(chars[0], '<' | '>' | '^' | '=') {
        align = Some(chars[0]);
        i = 1;
    }
    if align.is_none() && chars.get(i) == Some(&'0') {
        fill = '0';
        align = Some('=');
        i += 1;
    }
    let width: usize = chars[i..]
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .collect::<String>()
        .parse()
        .unwrap_or(0);
    let len = text.chars().count();
    if len >= width {
        return text.to_owned();
    }
    let pad: String = std::iter::repeat_n(fill, width - len).collect();
    match align.unwrap_or(if numeric { '>' } else { '<' }) {
        '<' => format!("{text}{pad}"),
        '^' => {
            let left = (width - len) / 2;
            let l: String = std::iter::repeat_n(fill, left).collect();
            let r: String = std::iter::repeat_n(fill, width - len - left).collect();
            format!("{l}{text}{r}")
        }
        '=' => match text.strip_prefix('-') {
            Some(rest) => format!("-{pad}{rest}"),
            None => format!("{pad}{text}"),
        },
        _ => format!("{pad}{text}"),
    }
}

/// Python's `posixpath.normpath`.
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx() -> Map<String, Value> {
        json!({"root": {"work": "/mnt/projects"}, "project": {"name": "demo_offline", "code": "demo"},
               "hierarchy": "assets/characters", "folder": {"name": "hero"},
               "product": {"name": "usdAsset", "type": "usd"}, "version": 1, "ext": "usd"})
        .as_object()
        .cloned()
        .unwrap_or_default()
    }

    #[test]
    fn fills_the_published_template_like_the_server() {
        let t = "{root[work]}/{project[name]}/{hierarchy}/{folder[name]}/publish/{product[type]}/{product[name]}/v{version:0>3}/{project[code]}_{folder[name]}_{product[name]}_v{version:0>3}<_{output}><.{frame:0>4}><_{udim}>.{ext}";
        assert_eq!(
            fill(t, &ctx()),
            "/mnt/projects/demo_offline/assets/characters/hero/publish/usd/usdAsset/v001/demo_hero_usdAsset_v001.usd"
        );
        let mut c = ctx();
        c.remove("root");
        c.insert("frame".into(), json!(7));
        assert!(fill(t, &c).starts_with("{root[work]}/demo_offline/"));
        assert!(fill(t, &c).ends_with("_v001.0007.usd"));
    }

    #[test]
    fn format_specs() {
        assert_eq!(apply_spec("7", "03d", true), "007");
        assert_eq!(apply_spec("ab", "*^6", false), "**ab**");
        assert_eq!(apply_spec("ab", "4", false), "ab  ");
        assert_eq!(apply_spec("12345", "0>3", true), "12345");
    }

    #[test]
    fn normpath_matches_python() {
        assert_eq!(normpath("a//b/./c/../d"), "a/b/d");
        assert_eq!(normpath("/../x"), "/x");
        assert_eq!(normpath("../x/.."), "..");
        assert_eq!(normpath("//srv/x/"), "//srv/x");
        assert_eq!(normpath("///srv"), "/srv");
        assert_eq!(normpath(""), ".");
        assert_eq!(normpath("P:/projects//a"), "P:/projects/a");
    }
}
