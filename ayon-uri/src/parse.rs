//! The parser: the server's `parse_uri` (ayon-backend `api/resolve/__init__.py`) step by step,
//! in the server's order, so the first problem reported is the one the server reports.

use std::borrow::Cow;

use crate::error::{UriError, UriErrorKind};
use crate::types::{Scheme, VersionSelector};
use crate::uri::{AyonUri, Span};
use crate::urllib::{self, Cleaned};

/// Query keys the server reads, in the order it validates them.
const KEYS: [&str; 5] = ["product", "task", "version", "representation", "workfile"];
const PRODUCT: usize = 0;
const TASK: usize = 1;
const VERSION: usize = 2;
const REPRESENTATION: usize = 3;
const WORKFILE: usize = 4;

/// One query value the server would use: first non-blank value of its key.
struct Value<'a> {
    decoded: Cow<'a, str>,
    raw: &'a str,
    /// Offset of the raw value in the cleaned text.
    at: usize,
    /// Offset of the `key=value` pair in the cleaned text.
    pair_at: usize,
    pair: &'a str,
}

pub(crate) fn parse(input: &str) -> Result<AyonUri, UriError> {
    if let Some(uri) = fast_path(input) {
        return Ok(uri);
    }
    general(input)
}

/// Byte classes for the fast path: allowed inside a name / allowed at a name's ends.
const NAME: u8 = 1;
const EDGE: u8 = 2;
const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        if b.is_ascii_alphanumeric() || b == b'_' {
            t[i] = NAME | EDGE;
        } else if b == b'.' || b == b'-' {
            t[i] = NAME;
        }
        i += 1;
    }
    t
};

/// Bytes allowed inside a name (`NAME_REGEX`'s middle class).
#[inline(always)]
fn name_byte(b: u8) -> bool {
    CLASS[b as usize] & NAME != 0
}

/// `b[start..end]`, already known to hold only name bytes, is a name: non-empty, clean ends.
#[inline(always)]
fn name_span(b: &[u8], start: usize, end: usize) -> bool {
    end > start && CLASS[b[start] as usize] & EDGE != 0 && CLASS[b[end - 1] as usize] & EDGE != 0
}

/// One pass over the plain, valid URIs that make up nearly all real traffic: ASCII, no escapes,
/// no controls, no `#`, no `:` after the scheme (so no SDF args), no bare keys. It returns `None`
/// for anything else, and [`general`] (the step-by-step emulation) decides; so it only has to
/// be right about what it accepts, which the Python differential test and proptests check.
fn fast_path(input: &str) -> Option<AyonUri> {
    let b = input.as_bytes();
    let (scheme, mut i) = if b.len() >= 7 && b[..7].eq_ignore_ascii_case(b"ayon://") {
        (Scheme::Ayon, 7)
    } else if b.len() >= 14 && b[..14].eq_ignore_ascii_case(b"ayon+entity://") {
        (Scheme::AyonEntity, 14)
    } else {
        return None;
    };
    let span_of = |start: usize, end: usize| Span { start, end };

    // Project.
    let project_start = i;
    while i < b.len() && name_byte(b[i]) {
        i += 1;
    }
    if i < b.len() && !matches!(b[i], b'/' | b'?') {
        return None;
    }
    let project = span_of(project_start, i);
    if !name_span(b, project_start, i) {
        return None;
    }

    // Folder path: `/`-separated names, any number of leading and trailing slashes.
    while i < b.len() && b[i] == b'/' {
        i += 1;
    }
    let path_start = i;
    let mut path_end = i;
    loop {
        let seg_start = i;
        while i < b.len() && name_byte(b[i]) {
            i += 1;
        }
        if i == seg_start {
            break;
        }
        if !name_span(b, seg_start, i) {
            return None;
        }
        path_end = i;
        if i < b.len() && b[i] == b'/' {
            i += 1;
            continue;
        }
        break;
    }
    // Only trailing slashes may follow the last element.
    while i < b.len() && b[i] == b'/' {
        i += 1;
    }
    let path = span_of(path_start, path_end);

    // Query.
    let mut slots: [Option<Span>; 5] = [None; 5];
    if i < b.len() {
        if b[i] != b'?' {
            return None;
        }
        i += 1;
        while i <= b.len() {
            let key_start = i;
            while i < b.len() && b[i].is_ascii_lowercase() {
                i += 1;
            }
            let key_end = i;
            if i == b.len() || b[i] == b'&' {
                if key_end != key_start {
                    return None; // a bare key: rare, let the general path decide
                }
                i += 1;
                continue;
            }
            if b[i] != b'=' {
                return None;
            }
            i += 1;
            let value_start = i;
            while i < b.len() && (name_byte(b[i]) || b[i] == b'*') {
                i += 1;
            }
            let value_end = i;
            if i < b.len() && b[i] != b'&' {
                return None;
            }
            i += 1;
            if value_end == value_start {
                continue; // blank values are absent
            }
            let slot = match &b[key_start..key_end] {
                b"product" => PRODUCT,
                b"task" => TASK,
                b"version" => VERSION,
                b"representation" => REPRESENTATION,
                b"workfile" => WORKFILE,
                _ => continue,
            };
            if slots[slot].is_none() {
                let star = value_end == value_start + 1 && b[value_start] == b'*';
                if !star
                    && (!name_span(b, value_start, value_end)
                        || b[value_start..value_end].contains(&b'*'))
                {
                    return None;
                }
                slots[slot] = Some(span_of(value_start, value_end));
            }
        }
    }
    if (slots[TASK].is_some() || slots[WORKFILE].is_some())
        && (slots[PRODUCT].is_some() || slots[VERSION].is_some() || slots[REPRESENTATION].is_some())
    {
        return None;
    }
    let version = match slots[VERSION] {
        None => None,
        Some(s) => Some(version_selector(&input[s.start..s.end])?),
    };
    Some(AyonUri {
        buf: input.to_owned(),
        scheme,
        project,
        path,
        product: slots[PRODUCT],
        version,
        representation: slots[REPRESENTATION],
        task: slots[TASK],
        workfile: slots[WORKFILE],
        sdf: None,
    })
}

/// The server's steps one by one, for every input (including errors).
fn general(input: &str) -> Result<AyonUri, UriError> {
    // 1. `sanitize_uri`: strip the SDF suffix (on the raw input, before urlparse).
    let sdf = urllib::sdf_range(input);
    let raw = match sdf {
        Some((start, _)) => &input[..start],
        None => input,
    };

    // 2. `urlsplit`'s cleaning, then its scheme / netloc / fragment / query split.
    let cleaned = Cleaned::new(raw);
    let s: &str = &cleaned.text;
    let err = |kind, at: usize, text: &str, message: String| {
        UriError::new(kind, cleaned.original(at), text, message)
    };

    let (scheme_text, mut pos) = match s.find(':') {
        Some(i)
            if i > 0
                && s.as_bytes()[0].is_ascii_alphabetic()
                && s.as_bytes()[..i].iter().all(|&b| urllib::is_scheme_char(b)) =>
        {
            (&s[..i], i + 1)
        }
        _ => ("", 0),
    };

    let mut netloc = "";
    let mut netloc_at = pos;
    if s[pos..].starts_with("//") {
        netloc_at = pos + 2;
        let len = s[netloc_at..]
            .find(['/', '?', '#'])
            .unwrap_or(s.len() - netloc_at);
        netloc = &s[netloc_at..netloc_at + len];
        pos = netloc_at + len;
        if let Err(message) = urllib::check_brackets(netloc) {
            return Err(err(UriErrorKind::BadNetloc, netloc_at, netloc, message));
        }
    }
    let mut rest = &s[pos..];
    if let Some(h) = rest.find('#') {
        rest = &rest[..h];
    }
    let (path, query, query_at) = match rest.find('?') {
        Some(q) => (&rest[..q], &rest[q + 1..], pos + q + 1),
        None => (rest, "", pos + rest.len()),
    };
    let path_at = pos;
    if let Err(message) = urllib::check_nfkc(netloc) {
        return Err(err(UriErrorKind::BadNetloc, netloc_at, netloc, message));
    }

    // 3. Scheme (urlparse lower-cases it).
    let scheme = if scheme_text.eq_ignore_ascii_case("ayon") {
        Scheme::Ayon
    } else if scheme_text.eq_ignore_ascii_case("ayon+entity") {
        Scheme::AyonEntity
    } else {
        let shown = if scheme_text.is_empty() {
            s.split([':', '/']).next().unwrap_or_default()
        } else {
            scheme_text
        };
        return Err(err(
            UriErrorKind::BadScheme,
            0,
            shown,
            format!("Invalid scheme: {}", scheme_text.to_ascii_lowercase()),
        ));
    };

    // 4. Project = netloc.
    if !urllib::is_name(netloc) {
        return Err(err(
            UriErrorKind::BadProject,
            netloc_at,
            netloc,
            format!("Invalid project name: {netloc}"),
        ));
    }

    // 5. Path: strip('/'), then every element must be a name.
    let lead_slashes = path.len() - path.trim_start_matches('/').len();
    let folder = path.trim_matches('/');
    let folder_at = path_at + lead_slashes;
    if !folder.is_empty() {
        let mut at = folder_at;
        for element in folder.split('/') {
            if !urllib::is_name(element) {
                return Err(err(
                    UriErrorKind::BadPathElement,
                    at,
                    element,
                    format!("Invalid path element: {element}"),
                ));
            }
            at += element.len() + 1;
        }
    }

    // 6. parse_qs: '&'-separated, first non-blank value of each key wins.
    let mut values: [Option<Value<'_>>; 5] = [None, None, None, None, None];
    if !query.is_empty() {
        let mut at = query_at;
        for pair in query.split('&') {
            let pair_at = at;
            at += pair.len() + 1;
            let Some((key, value)) = pair.split_once('=') else {
                continue;
            };
            if value.is_empty() {
                continue;
            }
            let key = urllib::unquote_plus(key);
            let Some(slot) = KEYS.iter().position(|k| *k == key) else {
                continue;
            };
            if values[slot].is_none() {
                values[slot] = Some(Value {
                    decoded: urllib::unquote_plus(value),
                    raw: value,
                    at: pair_at + pair.len() - value.len(),
                    pair_at,
                    pair,
                });
            }
        }
    }

    // 7. Every value must be `*` or a name (`validate_name`), in the server's key order.
    for (slot, value) in values.iter().enumerate() {
        if let Some(v) = value
            && v.decoded != "*"
            && !urllib::is_name(&v.decoded)
        {
            let kind = if slot == VERSION {
                UriErrorKind::BadVersion
            } else {
                UriErrorKind::BadName
            };
            return Err(err(
                kind,
                v.at,
                v.raw,
                format!("Invalid name: {}", v.decoded),
            ));
        }
    }

    // 8. Task/workfile cannot be mixed with product/version/representation.
    if values[TASK].is_some() || values[WORKFILE].is_some() {
        for (slot, what) in [
            (PRODUCT, "products"),
            (VERSION, "versions"),
            (REPRESENTATION, "representations"),
        ] {
            if let Some(v) = &values[slot] {
                return Err(err(
                    UriErrorKind::MixedTaskAndProduct,
                    v.pair_at,
                    v.pair,
                    format!("Tasks and workfiles cannot be queried with {what}"),
                ));
            }
        }
    }

    // 9. The version selector (`get_version_conditions`).
    let version = match &values[VERSION] {
        None => None,
        Some(v) => Some(version_selector(&v.decoded).ok_or_else(|| {
            err(
                UriErrorKind::BadVersion,
                v.at,
                v.raw,
                format!("Invalid version name: {}", v.decoded),
            )
        })?),
    };

    // Build the single buffer holding every component.
    let sdf_text = sdf.map(|(a, b)| &input[a..b]);
    let mut buf = String::with_capacity(
        netloc.len()
            + folder.len()
            + values
                .iter()
                .flatten()
                .map(|v| v.decoded.len())
                .sum::<usize>()
            + sdf_text.map_or(0, str::len),
    );
    let mut push = |text: &str| {
        let start = buf.len();
        buf.push_str(text);
        Span {
            start,
            end: buf.len(),
        }
    };
    let project = push(netloc);
    let path = push(folder);
    let mut take = |slot: usize| values[slot].as_ref().map(|v| push(&v.decoded));
    let product = take(PRODUCT);
    let representation = take(REPRESENTATION);
    let task = take(TASK);
    let workfile = take(WORKFILE);
    let sdf = sdf_text.map(&mut push);
    Ok(AyonUri {
        buf,
        scheme,
        project,
        path,
        product,
        version,
        representation,
        task,
        workfile,
        sdf,
    })
}

/// `get_version_conditions`: `*`, keywords (any case), or digits with an optional `v`/`V`.
fn version_selector(value: &str) -> Option<VersionSelector> {
    if value == "*" {
        return Some(VersionSelector::Any);
    }
    // `.strip().lower()`: after the name check only a final '\n' can be whitespace.
    let v = value.strip_suffix('\n').unwrap_or(value);
    let digits = match v.as_bytes().first() {
        Some(b'v' | b'V') => &v[1..],
        _ => v,
    };
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        let n = digits.bytes().fold(0u64, |n, d| {
            (n * 10 + u64::from(d - b'0')).min(u64::from(u32::MAX))
        });
        return Some(VersionSelector::Exact(u32::try_from(n).unwrap_or(u32::MAX)));
    }
    if v.eq_ignore_ascii_case("latest") {
        Some(VersionSelector::Latest)
    } else if v.eq_ignore_ascii_case("latestdone") {
        Some(VersionSelector::LatestDone)
    } else if v.eq_ignore_ascii_case("hero") {
        Some(VersionSelector::Hero)
    } else {
        None
    }
}
