//! The parts of Python's `re` and `urllib.parse` (CPython 3.11–3.13) the server's `parse_uri`
//! relies on, reproduced byte for byte so our verdicts and messages match the server's.

use std::borrow::Cow;

/// `:SDF_FORMAT_ARGS`, the literal that starts the suffix the server strips first.
const SDF_MARK: &str = ":SDF_FORMAT_ARGS";

/// `re.sub(r":SDF_FORMAT_ARGS.*$", "", uri)`: returns the byte range removed, if any.
///
/// Python's `.` stops at `\n` and `$` also matches just before a final `\n`, so the match is
/// the first occurrence after the last non-final newline, up to the end (or the final newline).
pub(crate) fn sdf_range(input: &str) -> Option<(usize, usize)> {
    let bytes = input.as_bytes();
    let end = if bytes.last() == Some(&b'\n') {
        bytes.len() - 1
    } else {
        bytes.len()
    };
    let from = match input[..end].rfind('\n') {
        Some(nl) => nl + 1,
        None => 0,
    };
    let start = from + input[from..end].find(SDF_MARK)?;
    Some((start, end))
}

/// The string `urlsplit` really parses: leading C0 controls and spaces stripped, then every
/// tab, CR and LF removed; with a map back to byte offsets in the original.
pub(crate) struct Cleaned<'a> {
    pub(crate) text: Cow<'a, str>,
    lead: usize,
    /// For an owned `text`: original offset of each byte of `text`, plus one for its end.
    map: Vec<usize>,
}

impl<'a> Cleaned<'a> {
    pub(crate) fn new(raw: &'a str) -> Self {
        let lead = raw.bytes().take_while(|&b| b <= b' ').count();
        let rest = &raw[lead..];
        if !rest.bytes().any(|b| matches!(b, b'\t' | b'\r' | b'\n')) {
            return Cleaned {
                text: Cow::Borrowed(rest),
                lead,
                map: Vec::new(),
            };
        }
        let mut text = String::with_capacity(rest.len());
        let mut map = Vec::with_capacity(rest.len() + 1);
        for (i, c) in rest.char_indices() {
            if matches!(c, '\t' | '\r' | '\n') {
                continue;
            }
            text.push(c);
            for k in 0..c.len_utf8() {
                map.push(lead + i + k);
            }
        }
        map.push(raw.len());
        Cleaned {
            text: Cow::Owned(text),
            lead,
            map,
        }
    }

    /// Byte offset in the original input of byte `i` of the cleaned text.
    pub(crate) fn original(&self, i: usize) -> usize {
        if self.map.is_empty() {
            self.lead + i
        } else {
            self.map.get(i).copied().unwrap_or(self.lead + i)
        }
    }
}

/// `re.match(NAME_REGEX, s)` with `NAME_REGEX = ^[a-zA-Z0-9_]([a-zA-Z0-9_\.\-]*[a-zA-Z0-9_])?$`.
///
/// Python's `$` also matches before one final `\n`, so `"abc\n"` passes (only query values,
/// decoded from `%0A`, can end that way: `urlsplit` removes raw newlines).
pub(crate) fn is_name(s: &str) -> bool {
    let s = s.strip_suffix('\n').unwrap_or(s);
    let b = s.as_bytes();
    let Some((&first, rest)) = b.split_first() else {
        return false;
    };
    let edge = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    if !edge(first) {
        return false;
    }
    match rest.split_last() {
        None => true,
        Some((&last, middle)) => {
            edge(last) && middle.iter().all(|&c| edge(c) || c == b'.' || c == b'-')
        }
    }
}

/// `scheme_chars` of `urllib.parse`: what may appear in a scheme.
pub(crate) fn is_scheme_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')
}

/// `unquote(s.replace('+', ' '))` as `parse_qsl` does it (UTF-8, errors replaced by U+FFFD).
pub(crate) fn unquote_plus(raw: &str) -> Cow<'_, str> {
    if !raw.bytes().any(|b| b == b'%' || b == b'+') {
        return Cow::Borrowed(raw);
    }
    let spaced: Vec<u8> = raw
        .bytes()
        .map(|b| if b == b'+' { b' ' } else { b })
        .collect();
    let decoded: Vec<u8> = percent_encoding::percent_decode(&spaced).collect();
    Cow::Owned(String::from_utf8_lossy(&decoded).into_owned())
}

/// The `urlsplit` checks on a netloc holding brackets (`Invalid IPv6 URL` and friends).
pub(crate) fn check_brackets(netloc: &str) -> Result<(), String> {
    let open = netloc.contains('[');
    let close = netloc.contains(']');
    if open != close {
        return Err("Invalid IPv6 URL".to_owned());
    }
    if !open {
        return Ok(());
    }
    let after = netloc.split_once('[').map_or("", |(_, a)| a);
    let host = after.split_once(']').map_or(after, |(h, _)| h);
    check_bracketed_host(host)
}

/// `_check_bracketed_host`: an IPvFuture literal or an IPv6 address (IPv4 refused).
fn check_bracketed_host(host: &str) -> Result<(), String> {
    if let Some(rest) = host.strip_prefix('v') {
        // \Av[a-fA-F0-9]+\..+\Z
        let hex = rest.bytes().take_while(u8::is_ascii_hexdigit).count();
        let ok = hex > 0 && rest[hex..].strip_prefix('.').is_some_and(|t| !t.is_empty());
        return if ok {
            Ok(())
        } else {
            Err("IPvFuture address is invalid".to_owned())
        };
    }
    if is_ipv4(host) {
        return Err("An IPv4 address cannot be in brackets".to_owned());
    }
    if is_ipv6(host) {
        return Ok(());
    }
    Err(format!(
        "{} does not appear to be an IPv4 or IPv6 address",
        repr(host)
    ))
}

/// `ipaddress.IPv4Address(s)` succeeds: four decimal octets, no leading zeros, each <= 255.
fn is_ipv4(s: &str) -> bool {
    if s.is_empty() {
        return false;
    }
    let mut n = 0;
    for octet in s.split('.') {
        n += 1;
        if octet.is_empty()
            || octet.len() > 3
            || !octet.bytes().all(|b| b.is_ascii_digit())
            || (octet != "0" && octet.starts_with('0'))
            || octet.parse::<u16>().map_or(true, |v| v > 255)
        {
            return false;
        }
    }
    n == 4
}

/// `ipaddress.IPv6Address(s)` succeeds (scope ids, `::` and an IPv4 tail included).
fn is_ipv6(s: &str) -> bool {
    let addr = match s.split_once('%') {
        None => s,
        Some((a, scope)) => {
            if scope.is_empty() || scope.contains('%') {
                return false;
            }
            a
        }
    };
    if addr.is_empty() {
        return false;
    }
    let mut parts: Vec<&str> = addr.split(':').collect();
    if parts.len() < 3 {
        return false;
    }
    let mut tail_v4 = false;
    if parts.last().is_some_and(|p| p.contains('.')) {
        if !parts.pop().is_some_and(is_ipv4) {
            return false;
        }
        tail_v4 = true;
    }
    // With an IPv4 tail it stands for two hextets.
    let count = parts.len() + if tail_v4 { 2 } else { 0 };
    if count > 9 {
        return false;
    }
    let hextet =
        |p: &str| !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_hexdigit());
    // Indices 1..count-1 of the full list; the IPv4 tail is never empty.
    let get = |i: usize| -> &str { if i < parts.len() { parts[i] } else { "0" } };
    let mut skip = None;
    for i in 1..count.saturating_sub(1) {
        if get(i).is_empty() {
            if skip.is_some() {
                return false;
            }
            skip = Some(i);
        }
    }
    let (hi, lo) = match skip {
        Some(skip_index) => {
            let mut hi = skip_index;
            let mut lo = count - skip_index - 1;
            if get(0).is_empty() {
                hi -= 1;
                if hi > 0 {
                    return false;
                }
            }
            if get(count - 1).is_empty() {
                lo -= 1;
                if lo > 0 {
                    return false;
                }
            }
            if 8 < hi + lo + 1 {
                return false;
            }
            (hi, lo)
        }
        None => {
            if count != 8 || get(0).is_empty() || get(count - 1).is_empty() {
                return false;
            }
            (count, 0)
        }
    };
    (0..hi).all(|i| hextet(get(i))) && (count - lo..count).all(|i| hextet(get(i)))
}

/// Characters whose NFKC form contains one of `/?#@:` (`_checknetloc` refuses them).
const NFKC_SEPARATORS: [char; 19] = [
    '\u{2047}', '\u{2048}', '\u{2049}', '\u{2100}', '\u{2101}', '\u{2105}', '\u{2106}', '\u{2A74}',
    '\u{FE13}', '\u{FE16}', '\u{FE55}', '\u{FE56}', '\u{FE5F}', '\u{FE6B}', '\u{FF03}', '\u{FF0F}',
    '\u{FF1A}', '\u{FF1F}', '\u{FF20}',
];

/// `_checknetloc`: a non-ASCII netloc must not hide URL separators behind NFKC look-alikes.
pub(crate) fn check_nfkc(netloc: &str) -> Result<(), String> {
    if netloc.is_ascii() || !netloc.chars().any(|c| NFKC_SEPARATORS.contains(&c)) {
        return Ok(());
    }
    Err(format!(
        "netloc '{netloc}' contains invalid characters under NFKC normalization"
    ))
}

/// Python's `repr()` of a string (for `ipaddress`'s message). Printability of non-ASCII is
/// approximated by the common non-printable blocks (controls, spaces, format, private use).
fn repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_ascii() || is_printable(c) => out.push(c),
            c if (c as u32) <= 0xff => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) <= 0xffff => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push(quote);
    out
}

/// Approximation of `str.isprintable` for non-ASCII characters.
fn is_printable(c: char) -> bool {
    let u = c as u32;
    !matches!(u,
        0x80..=0xa0 | 0xad | 0x600..=0x605 | 0x61c | 0x6dd | 0x70f | 0x1680 | 0x180e
        | 0x2000..=0x200f | 0x2028..=0x202f | 0x205f..=0x2064 | 0x2066..=0x206f | 0x3000
        | 0xd800..=0xf8ff | 0xfeff | 0xfff9..=0xfffb | 0xe0001 | 0xe0020..=0xe007f
        | 0xf0000..=0x10ffff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdf_regex_semantics() {
        assert_eq!(sdf_range("a:SDF_FORMAT_ARGS:x=1"), Some((1, 21)));
        assert_eq!(sdf_range("a:SDF_FORMAT_ARGS:x=1\n"), Some((1, 21)));
        assert_eq!(sdf_range("a:SDF_FORMAT_ARGS:x\ny"), None);
        assert_eq!(
            sdf_range("a:SDF_FORMAT_ARGS:x\ny:SDF_FORMAT_ARGS"),
            Some((21, 37))
        );
        assert_eq!(sdf_range("a:SDF_FORMAT_ARG"), None);
    }

    #[test]
    fn name_regex_semantics() {
        for ok in ["a", "a1", "a.b-c_d", "_", "abc\n", "a\n", "0"] {
            assert!(is_name(ok), "{ok:?}");
        }
        for bad in [
            "", ".", "..", "-a", "a-", "a.", "a b", "é", "a\n\n", "\n", "*", "a%20b",
        ] {
            assert!(!is_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn ip_literals_like_python() {
        for ok in [
            "::1",
            "fe80::1%eth0",
            "::ffff:1.2.3.4",
            "1::",
            "::",
            "1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7::",
            "::1:2:3:4:5:6:7",
        ] {
            assert!(is_ipv6(ok), "{ok}");
        }
        for bad in [
            "1:2:3:4:5:6:7:8:9",
            "fe80::1%",
            "a%b%c",
            "",
            "1:2",
            "1::2::3",
            ":1:2:3:4:5:6:7",
            "1:2:3:4:5:6:7:",
            "12345::",
        ] {
            assert!(!is_ipv6(bad), "{bad}");
        }
        assert!(is_ipv4("1.2.3.4"));
        assert!(!is_ipv4("01.2.3.4"));
        assert!(!is_ipv4("1.2.3.256"));
        assert_eq!(
            check_brackets("[x]"),
            Err("'x' does not appear to be an IPv4 or IPv6 address".to_owned())
        );
        assert_eq!(
            check_brackets("[1.2.3.4]"),
            Err("An IPv4 address cannot be in brackets".to_owned())
        );
        assert_eq!(check_brackets("[v1.x]"), Ok(()));
        assert_eq!(
            check_brackets("[v1]"),
            Err("IPvFuture address is invalid".to_owned())
        );
        assert_eq!(check_brackets("a["), Err("Invalid IPv6 URL".to_owned()));
    }

    #[test]
    fn unquote_like_parse_qs() {
        assert_eq!(unquote_plus("usd%41sset"), "usdAsset");
        assert_eq!(unquote_plus("a+b%2B"), "a b+");
        assert_eq!(unquote_plus("%zz%4"), "%zz%4");
        assert_eq!(unquote_plus("%C3%A9"), "é");
        assert_eq!(unquote_plus("%C3"), "\u{FFFD}");
    }
}
