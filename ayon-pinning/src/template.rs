//! `{root[NAME]}` tokens: expanding them when reading, putting them back when writing.

use std::borrow::Cow;

use crate::key::{is_sep, is_windows_path};
use crate::roots::Roots;

const OPEN: &str = "{root[";
const CLOSE: &str = "]}";

/// Appends `s` to `out` with every `{root[NAME]}` token replaced by its own root (AYON's C++
/// replaces all tokens with the first one's root). Replacement text is not scanned again.
/// `{root[` without a closing `]}` is kept as text. Returns whether a token was replaced; an
/// unknown name is returned as `Err(name)` (with `out` partly written).
pub(crate) fn expand_into<'s>(
    s: &'s str,
    roots: &Roots,
    out: &mut String,
) -> Result<bool, &'s str> {
    let mut rest = s;
    let mut replaced = false;
    while let Some(at) = find_open(rest) {
        let after_open = &rest[at + OPEN.len()..];
        let Some(close) = after_open.find(CLOSE) else {
            break;
        };
        let name = &after_open[..close];
        let value = roots.get(name).ok_or(name)?;
        out.push_str(&rest[..at]);
        out.push_str(value);
        rest = &after_open[close + CLOSE.len()..];
        replaced = true;
    }
    out.push_str(rest);
    Ok(replaced)
}

/// Position of the next `{root[` (memchr for `{`, then a prefix check: much cheaper than a
/// substring searcher on short strings).
fn find_open(s: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = s[from..].find('{') {
        let at = from + i;
        if s[at..].starts_with(OPEN) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Roots ordered for stripping: longest value first (ties by name, for stable output);
/// empty values never match.
pub(crate) fn strip_order(roots: &Roots) -> Vec<(&str, &str)> {
    let mut v: Vec<(&str, &str)> = roots.iter().filter(|(_, val)| !val.is_empty()).collect();
    v.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(b.0)));
    v
}

/// Replaces a leading root with its token: the first root of `ordered` (see [`strip_order`])
/// that is a prefix of `s` ending at a path-segment boundary. Windows roots (drive letter or
/// UNC) match ASCII-case-insensitively and with `\` equal to `/`.
pub(crate) fn strip<'s>(s: &'s str, ordered: &[(&str, &str)]) -> Cow<'s, str> {
    for (name, root) in ordered {
        if let Some(n) = prefix_len(s, root) {
            return Cow::Owned(format!("{OPEN}{name}{CLOSE}{}", &s[n..]));
        }
    }
    Cow::Borrowed(s)
}

fn prefix_len(s: &str, root: &str) -> Option<usize> {
    let (sb, rb) = (s.as_bytes(), root.as_bytes());
    let n = rb.len();
    if n == 0 || sb.len() < n {
        return None;
    }
    let matches = if is_windows_path(root) {
        sb[..n]
            .iter()
            .zip(rb)
            .all(|(a, b)| a.eq_ignore_ascii_case(b) || (is_sep(*a) && is_sep(*b)))
    } else {
        &sb[..n] == rb
    };
    let boundary = n == sb.len() || is_sep(sb[n]) || is_sep(rb[n - 1]);
    (matches && boundary && s.is_char_boundary(n)).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roots(s: &str) -> Roots {
        Roots::parse(s).unwrap()
    }

    fn expand<'s>(s: &'s str, roots: &Roots) -> Result<String, &'s str> {
        let mut out = String::from("prefix:");
        expand_into(s, roots, &mut out)?;
        Ok(out["prefix:".len()..].to_owned())
    }

    #[test]
    fn each_token_gets_its_own_root() {
        let r = roots("work=/mnt/work,pub=/mnt/pub");
        assert_eq!(
            expand("{root[work]}/a;{root[pub]}/b", &r).unwrap(),
            "/mnt/work/a;/mnt/pub/b"
        );
    }

    #[test]
    fn reports_whether_anything_was_replaced() {
        let r = roots("work=/w");
        let mut out = String::new();
        assert_eq!(expand_into("/plain/{x}/{root[", &r, &mut out), Ok(false));
        assert_eq!(out, "/plain/{x}/{root[");
        out.clear();
        assert_eq!(expand_into("{{root[work]}}", &r, &mut out), Ok(true));
        assert_eq!(out, "{/w}");
    }

    #[test]
    fn unknown_root_is_named() {
        let r = roots("work=/w");
        assert_eq!(expand("{root[work]}/{root[nope]}", &r), Err("nope"));
    }

    #[test]
    fn unclosed_token_is_text_and_replacement_is_not_rescanned() {
        let r = roots("work={root[work]}x");
        assert_eq!(
            expand("{root[work]}/{root[", &r).unwrap(),
            "{root[work]}x/{root["
        );
    }

    #[test]
    fn strip_prefers_longest_root_at_segment_boundaries() {
        let r = roots("a=/mnt/proj,b=/mnt/proj/sub,c=/mnt");
        let o = strip_order(&r);
        assert_eq!(strip("/mnt/proj/sub/x", &o), "{root[b]}/x");
        assert_eq!(strip("/mnt/proj/subway/x", &o), "{root[a]}/subway/x");
        assert_eq!(strip("/mnt/project2/x", &o), "{root[c]}/project2/x");
        assert_eq!(strip("/mnt", &o), "{root[c]}");
        assert_eq!(strip("/mntx", &o), "/mntx");
        assert_eq!(strip("x/mnt/proj", &o), "x/mnt/proj");
    }

    #[test]
    fn windows_roots_match_case_and_separator_insensitively() {
        let r = roots("work=P:\\Projects");
        let o = strip_order(&r);
        assert_eq!(
            strip("p:/projects/demo/a.usd", &o),
            "{root[work]}/demo/a.usd"
        );
        assert_eq!(strip("P:\\PROJECTS\\demo", &o), "{root[work]}\\demo");
        assert_eq!(strip("P:/Projects2/demo", &o), "P:/Projects2/demo");
        // POSIX roots stay case-sensitive.
        let r2 = roots("work=/mnt/Work");
        let o2 = strip_order(&r2);
        assert_eq!(strip("/mnt/work/a", &o2), "/mnt/work/a");
    }

    #[test]
    fn roots_with_regex_metacharacters_are_literal() {
        let r = roots("a-b.c=/mnt/a-b.c/x\\y,unc=\\\\nas-01.studio\\proj");
        let o = strip_order(&r);
        assert_eq!(strip("/mnt/a-b.c/x\\y/z", &o), "{root[a-b.c]}/z");
        assert_eq!(strip("/mnt/aXb.c/x\\y/z", &o), "/mnt/aXb.c/x\\y/z");
        assert_eq!(
            strip("\\\\NAS-01.studio\\proj\\sh010", &o),
            "{root[unc]}\\sh010"
        );
    }

    #[test]
    fn root_ending_in_separator_matches_inside_segment_start() {
        let r = roots("w=/mnt/w/");
        let o = strip_order(&r);
        assert_eq!(strip("/mnt/w/a", &o), "{root[w]}a");
    }

    #[test]
    fn strip_never_splits_a_multibyte_char() {
        let r = roots("w=C:/é");
        let o = strip_order(&r);
        assert_eq!(strip("C:/éx", &o), "C:/éx");
        assert_eq!(strip("C:/é/x", &o), "{root[w]}/x");
    }
}
