//! Python's `format(value, spec)` for the values a template context holds (str, int, float,
//! bool), with CPython's error messages: what the server's `str.format` does to one field.

use std::borrow::Cow;

/// A JSON value as Python sees it after `json.loads`.
#[derive(Debug, Clone)]
pub(crate) enum PyValue<'a> {
    Str(Cow<'a, str>),
    Int(i128),
    Float(f64),
    Bool(bool),
}

impl PyValue<'_> {
    fn type_name(&self) -> &'static str {
        match self {
            PyValue::Str(_) => "str",
            PyValue::Int(_) => "int",
            PyValue::Float(_) => "float",
            PyValue::Bool(_) => "bool",
        }
    }

    /// `str(value)`.
    pub(crate) fn to_str(&self) -> String {
        match self {
            PyValue::Str(s) => s.to_string(),
            PyValue::Int(i) => i.to_string(),
            PyValue::Float(f) => float_repr(*f),
            PyValue::Bool(b) => if *b { "True" } else { "False" }.to_owned(),
        }
    }
}

/// The parsed format spec: `[[fill]align][sign][z][#][0][width][grouping][.precision][type]`.
#[derive(Debug, Clone, PartialEq)]
struct Spec {
    fill: char,
    align: Option<char>,
    sign: Option<char>,
    no_neg_zero: bool,
    alternate: bool,
    width: usize,
    grouping: Option<char>,
    precision: Option<usize>,
    ty: Option<char>,
}

/// `format(value, spec)`; the error is CPython's message.
pub(crate) fn format_value(value: &PyValue<'_>, spec: &str) -> Result<String, String> {
    if spec.is_empty() {
        return Ok(value.to_str());
    }
    match value {
        PyValue::Str(s) => format_str(s, &parse_spec(spec, value, 's', '<')?),
        // bool has no __format__ of its own: a non-empty spec formats it as the int it is.
        PyValue::Bool(b) => format_int(i128::from(*b), &parse_spec(spec, value, 'd', '>')?),
        PyValue::Int(i) => format_int(*i, &parse_spec(spec, value, 'd', '>')?),
        PyValue::Float(f) => format_float(*f, &parse_spec(spec, value, '\0', '>')?),
    }
}

fn is_align(c: char) -> bool {
    matches!(c, '<' | '>' | '=' | '^')
}

fn parse_spec(
    spec: &str,
    value: &PyValue<'_>,
    default_type: char,
    default_align: char,
) -> Result<Spec, String> {
    let c: Vec<char> = spec.chars().collect();
    let mut pos = 0;
    let mut out = Spec {
        fill: ' ',
        align: None,
        sign: None,
        no_neg_zero: false,
        alternate: false,
        width: 0,
        grouping: None,
        precision: None,
        ty: None,
    };
    let mut fill_given = false;
    if c.len() >= 2 && is_align(c[1]) {
        out.fill = c[0];
        out.align = Some(c[1]);
        fill_given = true;
        pos = 2;
    } else if !c.is_empty() && is_align(c[0]) {
        out.align = Some(c[0]);
        pos = 1;
    }
    if let Some(&s) = c.get(pos).filter(|s| matches!(s, '+' | '-' | ' ')) {
        out.sign = Some(s);
        pos += 1;
    }
    if c.get(pos) == Some(&'z') {
        out.no_neg_zero = true;
        pos += 1;
    }
    if c.get(pos) == Some(&'#') {
        out.alternate = true;
        pos += 1;
    }
    if !fill_given && c.get(pos) == Some(&'0') {
        out.fill = '0';
        if out.align.is_none() && default_align == '>' {
            out.align = Some('=');
        }
        pos += 1;
    }
    let (width, next) = digits(&c, pos)?;
    out.width = width.unwrap_or(0);
    pos = next;
    if c.get(pos) == Some(&',') {
        out.grouping = Some(',');
        pos += 1;
    }
    if c.get(pos) == Some(&'_') {
        if out.grouping.is_some() {
            return Err("Cannot specify both ',' and '_'.".to_owned());
        }
        out.grouping = Some('_');
        pos += 1;
    }
    if c.get(pos) == Some(&',') {
        return Err("Cannot specify both ',' and '_'.".to_owned());
    }
    if c.get(pos) == Some(&'.') {
        let (precision, next) = digits(&c, pos + 1)?;
        let Some(precision) = precision else {
            return Err("Format specifier missing precision".to_owned());
        };
        out.precision = Some(precision);
        pos = next;
    }
    if c.len() - pos > 1 {
        return Err(format!(
            "Invalid format specifier '{spec}' for object of type '{}'",
            value.type_name()
        ));
    }
    out.ty = c.get(pos).copied();
    if let Some(g) = out.grouping {
        let ty = out.ty.unwrap_or(default_type);
        let ok = match g {
            ',' => matches!(ty, '\0' | 'd' | 'e' | 'f' | 'g' | 'E' | 'G' | '%' | 'F'),
            _ => matches!(
                ty,
                '\0' | 'd' | 'e' | 'f' | 'g' | 'E' | 'G' | '%' | 'F' | 'b' | 'o' | 'x' | 'X'
            ),
        };
        if !ok {
            return Err(if ty.is_ascii_graphic() {
                format!("Cannot specify '{g}' with '{ty}'.")
            } else {
                format!("Cannot specify '{g}' with '\\x{:x}'.", u32::from(ty))
            });
        }
    }
    Ok(out)
}

/// Decimal digits from `pos`: the number (none when there are no digits) and the next position.
fn digits(c: &[char], pos: usize) -> Result<(Option<usize>, usize), String> {
    let mut end = pos;
    while end < c.len() && c[end].is_ascii_digit() {
        end += 1;
    }
    if end == pos {
        return Ok((None, pos));
    }
    let text: String = c[pos..end].iter().collect();
    // CPython refuses widths beyond a Py_ssize_t; far smaller ones are absurd for a path.
    match text.parse::<usize>() {
        Ok(n) if n <= 1 << 20 => Ok((Some(n), end)),
        _ => Err("Too many decimal digits in format string".to_owned()),
    }
}

fn format_str(s: &str, spec: &Spec) -> Result<String, String> {
    if spec.sign.is_some() {
        return Err("Sign not allowed in string format specifier".to_owned());
    }
    if spec.no_neg_zero {
        return Err("Negative zero coercion (z) not allowed in format specifier".to_owned());
    }
    if spec.alternate {
        return Err("Alternate form (#) not allowed in string format specifier".to_owned());
    }
    if spec.align == Some('=') {
        return Err("'=' alignment not allowed in string format specifier".to_owned());
    }
    match spec.ty {
        None | Some('s') => {}
        Some(t) => {
            return Err(format!(
                "Unknown format code '{t}' for object of type 'str'"
            ));
        }
    }
    let text: Cow<'_, str> = match spec.precision {
        Some(p) => s.chars().take(p).collect::<String>().into(),
        None => s.into(),
    };
    Ok(pad("", &text, spec, '<'))
}

/// Pads `prefix + body` to the width: `=` puts the fill between them.
fn pad(prefix: &str, body: &str, spec: &Spec, default_align: char) -> String {
    let len = prefix.chars().count() + body.chars().count();
    let fill = spec.width.saturating_sub(len);
    let rep = |n: usize| std::iter::repeat_n(spec.fill, n).collect::<String>();
    match spec.align.unwrap_or(default_align) {
        '<' => format!("{prefix}{body}{}", rep(fill)),
        '^' => format!("{}{prefix}{body}{}", rep(fill / 2), rep(fill - fill / 2)),
        '=' => format!("{prefix}{}{body}", rep(fill)),
        _ => format!("{}{prefix}{body}", rep(fill)),
    }
}

fn sign_of(negative: bool, spec: &Spec) -> &'static str {
    match (negative, spec.sign) {
        (true, _) => "-",
        (false, Some('+')) => "+",
        (false, Some(' ')) => " ",
        _ => "",
    }
}

/// Inserts `sep` every `every` digits from the right.
fn group(digits: &str, sep: char, every: usize) -> String {
    let n = digits.chars().count();
    let mut out = String::with_capacity(n + n / every);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (n - i).is_multiple_of(every) {
            out.push(sep);
        }
        out.push(ch);
    }
    out
}

/// Lays out `sign + prefix + digits(+rest)` with grouping and padding, as CPython's
/// `fill_number`: with `0` fill and `=` alignment the zeros are grouped too.
fn layout(
    sign: &str,
    prefix: &str,
    int_digits: &str,
    rest: &str,
    spec: &Spec,
    every: usize,
) -> String {
    let head = format!("{sign}{prefix}");
    let Some(sep) = spec.grouping else {
        return pad(&head, &format!("{int_digits}{rest}"), spec, '>');
    };
    let mut digits = int_digits.to_owned();
    if spec.fill == '0' && spec.align == Some('=') {
        let min = spec
            .width
            .saturating_sub(head.chars().count() + rest.chars().count());
        while group(&digits, sep, every).chars().count() < min {
            digits.insert(0, '0');
        }
    }
    pad(
        &head,
        &format!("{}{rest}", group(&digits, sep, every)),
        spec,
        '>',
    )
}

fn format_int(i: i128, spec: &Spec) -> Result<String, String> {
    let ty = spec.ty.unwrap_or('d');
    if matches!(ty, 'e' | 'E' | 'f' | 'F' | 'g' | 'G' | '%') {
        return format_float(i as f64, spec);
    }
    if spec.precision.is_some() {
        return Err("Precision not allowed in integer format specifier".to_owned());
    }
    if spec.no_neg_zero {
        return Err(
            "Negative zero coercion (z) not allowed in integer format specifier".to_owned(),
        );
    }
    let negative = i < 0;
    let mag = i.unsigned_abs();
    let (prefix, digits, every) = match ty {
        'd' | 'n' => ("", mag.to_string(), 3),
        'b' => ("0b", format!("{mag:b}"), 4),
        'o' => ("0o", format!("{mag:o}"), 4),
        'x' => ("0x", format!("{mag:x}"), 4),
        'X' => ("0X", format!("{mag:X}"), 4),
        'c' => {
            if spec.sign.is_some() {
                return Err("Sign not allowed with integer format specifier 'c'".to_owned());
            }
            if spec.alternate {
                return Err(
                    "Alternate form (#) not allowed with integer format specifier 'c'".to_owned(),
                );
            }
            let ch = u32::try_from(i)
                .ok()
                .and_then(char::from_u32)
                .ok_or_else(|| "%c arg not in range(0x110000)".to_owned())?;
            return Ok(pad("", &ch.to_string(), spec, '>'));
        }
        t => {
            return Err(format!(
                "Unknown format code '{t}' for object of type 'int'"
            ));
        }
    };
    let prefix = if spec.alternate { prefix } else { "" };
    Ok(layout(
        sign_of(negative, spec),
        prefix,
        &digits,
        "",
        spec,
        every,
    ))
}

fn format_float(f: f64, spec: &Spec) -> Result<String, String> {
    let ty = spec.ty.unwrap_or('\0');
    if !matches!(ty, '\0' | 'e' | 'E' | 'f' | 'F' | 'g' | 'G' | 'n' | '%') {
        return Err(format!(
            "Unknown format code '{ty}' for object of type 'float'"
        ));
    }
    let upper = matches!(ty, 'E' | 'F' | 'G');
    let mut negative = f.is_sign_negative() && !f.is_nan();
    let a = f.abs();
    let body = if !f.is_finite() {
        let s = if f.is_nan() { "nan" } else { "inf" };
        let s = if upper {
            s.to_ascii_uppercase()
        } else {
            s.to_owned()
        };
        s + if ty == '%' { "%" } else { "" }
    } else {
        let p = spec.precision;
        let mut s = match ty {
            'f' | 'F' => fixed(a, p.unwrap_or(6), spec.alternate),
            'e' | 'E' => sci(a, p.unwrap_or(6), spec.alternate),
            'g' | 'G' | 'n' => general(a, p.unwrap_or(6), spec.alternate, false),
            '%' => fixed(a * 100.0, p.unwrap_or(6), spec.alternate) + "%",
            _ => match p {
                Some(p) => general(a, p, spec.alternate, true),
                None => float_repr(a),
            },
        };
        if upper {
            s = s.to_ascii_uppercase();
        }
        s
    };
    if negative && spec.no_neg_zero && body.chars().all(|c| !c.is_ascii_digit() || c == '0') {
        negative = false;
    }
    // Digits before the decimal point (or exponent) take the grouping.
    let split = body
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(body.len());
    let (int_digits, rest) = body.split_at(split);
    if !f.is_finite() {
        return Ok(pad(sign_of(negative, spec), &body, spec, '>'));
    }
    Ok(layout(
        sign_of(negative, spec),
        "",
        int_digits,
        rest,
        spec,
        3,
    ))
}

fn fixed(a: f64, p: usize, alternate: bool) -> String {
    let mut s = format!("{a:.p$}");
    if alternate && p == 0 {
        s.push('.');
    }
    s
}

/// `d.ddde+XX`, Python's exponent (sign, at least two digits).
fn sci(a: f64, p: usize, alternate: bool) -> String {
    let s = format!("{a:.p$e}");
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let mut m = mantissa.to_owned();
    if alternate && p == 0 {
        m.push('.');
    }
    format!("{m}{}", python_exponent(exp))
}

fn python_exponent(exp: &str) -> String {
    let (sign, digits) = match exp.strip_prefix('-') {
        Some(d) => ('-', d),
        None => ('+', exp),
    };
    format!("e{sign}{digits:0>2}")
}

/// The exponent of `a` written with `p` significant digits.
fn exponent(a: f64, p: usize) -> i32 {
    let s = format!("{a:.prec$e}", prec = p.saturating_sub(1));
    s.split_once('e')
        .and_then(|(_, e)| e.parse().ok())
        .unwrap_or(0)
}

/// `g` (and, with `add_dot_0`, the no-type form with a precision).
fn general(a: f64, p: usize, alternate: bool, add_dot_0: bool) -> String {
    let p = p.max(1);
    let x = if a == 0.0 { 0 } else { exponent(a, p) };
    let p_i = i32::try_from(p).unwrap_or(i32::MAX);
    // The no-type form goes scientific one digit earlier, where `g` would print no decimals.
    let fixed_limit = if add_dot_0 { p_i - 1 } else { p_i };
    let mut s = if (-4..fixed_limit).contains(&x) {
        let decimals = usize::try_from(p_i - 1 - x).unwrap_or(0);
        format!("{a:.decimals$}")
    } else {
        let s = format!("{a:.prec$e}", prec = p - 1);
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        format!("{m}{}", python_exponent(e))
    };
    if !alternate {
        s = strip_zeros(&s);
    }
    if add_dot_0 && !s.contains(['.', 'e', 'n', 'i']) {
        s.push_str(".0");
    }
    s
}

/// Drops trailing zeros of the fraction (and a bare `.`), keeping any exponent.
fn strip_zeros(s: &str) -> String {
    let (m, e) = match s.find('e') {
        Some(i) => s.split_at(i),
        None => (s, ""),
    };
    let m = if m.contains('.') {
        m.trim_end_matches('0').trim_end_matches('.')
    } else {
        m
    };
    format!("{m}{e}")
}

/// Python's `repr(float)`: shortest round-trip digits, scientific below 1e-4 and from 1e16.
pub(crate) fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    // Rust's Debug uses the same shortest digits and the same thresholds; only the exponent is
    // spelled differently (`1e16` vs `1e+16`).
    let s = format!("{f:?}");
    match s.split_once('e') {
        Some((m, e)) => format!("{m}{}", python_exponent(e)),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(i: i128, spec: &str) -> String {
        format_value(&PyValue::Int(i), spec).unwrap()
    }

    fn float(f: f64, spec: &str) -> String {
        format_value(&PyValue::Float(f), spec).unwrap()
    }

    fn string(s: &str, spec: &str) -> Result<String, String> {
        format_value(&PyValue::Str(s.into()), spec)
    }

    // Expected values are what CPython 3.11 prints.
    #[test]
    fn integers() {
        assert_eq!(int(7, "0>3"), "007");
        assert_eq!(int(7, "03d"), "007");
        assert_eq!(int(12345, "0>3"), "12345");
        assert_eq!(int(-7, "04"), "-007");
        assert_eq!(int(-7, "0>4"), "00-7");
        assert_eq!(int(7, "+"), "+7");
        assert_eq!(int(7, " 3"), "  7");
        assert_eq!(int(7, "*^5"), "**7**");
        assert_eq!(int(7, "<3"), "7  ");
        assert_eq!(int(1234567, ","), "1,234,567");
        assert_eq!(int(1234, "09,"), "0,001,234");
        assert_eq!(int(1234, "08,"), "0,001,234");
        assert_eq!(int(255, "#x"), "0xff");
        assert_eq!(int(255, "#010b"), "0b11111111");
        assert_eq!(int(255, "_b"), "1111_1111");
        assert_eq!(int(255, "X"), "FF");
        assert_eq!(int(65, "c"), "A");
        assert_eq!(int(3, ".2f"), "3.00");
        assert_eq!(int(1, ""), "1");
    }

    #[test]
    fn integer_errors_are_cpythons() {
        let e = |s: &str| format_value(&PyValue::Int(1), s).unwrap_err();
        assert_eq!(e(".2"), "Precision not allowed in integer format specifier");
        assert_eq!(e("q"), "Unknown format code 'q' for object of type 'int'");
        assert_eq!(
            e("dd"),
            "Invalid format specifier 'dd' for object of type 'int'"
        );
        assert_eq!(e(",b"), "Cannot specify ',' with 'b'.");
        assert_eq!(e(",_"), "Cannot specify both ',' and '_'.");
        assert_eq!(e("."), "Format specifier missing precision");
    }

    #[test]
    fn booleans_print_as_words_without_a_spec_and_as_ints_with_one() {
        assert_eq!(format_value(&PyValue::Bool(true), "").unwrap(), "True");
        assert_eq!(format_value(&PyValue::Bool(true), "0>3").unwrap(), "001");
        assert_eq!(format_value(&PyValue::Bool(false), "d").unwrap(), "0");
    }

    #[test]
    fn strings() {
        assert_eq!(string("ab", "*^6").unwrap(), "**ab**");
        assert_eq!(string("ab", "4").unwrap(), "ab  ");
        assert_eq!(string("ab", ">4").unwrap(), "  ab");
        assert_eq!(string("7", "0>3").unwrap(), "007");
        // Python 3.10+: `0` without an alignment fills strings on the right.
        assert_eq!(string("7", "03").unwrap(), "700");
        assert_eq!(string("abcdef", ".3").unwrap(), "abc");
        assert_eq!(string("é", "-^3").unwrap(), "-é-");
        assert_eq!(
            string("7", "03d").unwrap_err(),
            "Unknown format code 'd' for object of type 'str'"
        );
        assert_eq!(
            string("7", "+").unwrap_err(),
            "Sign not allowed in string format specifier"
        );
        assert_eq!(
            string("7", "=5").unwrap_err(),
            "'=' alignment not allowed in string format specifier"
        );
        assert_eq!(
            string("7", ",").unwrap_err(),
            "Cannot specify ',' with 's'."
        );
    }

    #[test]
    fn floats() {
        assert_eq!(float(1.5, ""), "1.5");
        assert_eq!(float(25.0, ""), "25.0");
        assert_eq!(float(1e16, ""), "1e+16");
        assert_eq!(float(1.5e-7, ""), "1.5e-07");
        assert_eq!(float(0.0001, ""), "0.0001");
        assert_eq!(float(2.5, ".2f"), "2.50");
        assert_eq!(float(2.5, "08.3f"), "0002.500");
        assert_eq!(float(1234.5, ",.1f"), "1,234.5");
        assert_eq!(float(1234.5, "e"), "1.234500e+03");
        assert_eq!(float(0.5, "%"), "50.000000%");
        assert_eq!(float(1234.5, "g"), "1234.5");
        assert_eq!(float(1234567.0, "g"), "1.23457e+06");
        assert_eq!(float(0.00001, "g"), "1e-05");
        assert_eq!(float(12.0, ".3"), "12.0");
        assert_eq!(float(123.0, ".3"), "1.23e+02");
        assert_eq!(float(-0.0, "z.1f"), "0.0");
        assert_eq!(float(-1.5, "+.1f"), "-1.5");
        assert_eq!(float(f64::INFINITY, "F"), "INF");
        assert_eq!(float(2.0, "10"), "       2.0");
        assert_eq!(float(25.0, "0>6"), "0025.0");
    }
}
