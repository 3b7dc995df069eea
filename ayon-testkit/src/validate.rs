//! The coercions pydantic 1.10 applies to request fields (the server's models are pydantic v1),
//! so a request the server accepts is accepted here with the same value, and one it refuses
//! gets the same validation error.

use serde_json::Value;

use crate::respond::Invalid;

/// `bool_validator`: `true`/`false`, the integers (and floats) 0 and 1, and the strings
/// `0 off f false n no` / `1 on t true y yes` in any case; anything else is an error.
pub(crate) fn bool_value(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_f64() {
            Some(1.0) => Some(true),
            Some(0.0) => Some(false),
            _ => None,
        },
        Value::String(s) => bool_text(s),
        _ => None,
    }
}

/// `bool_validator` on a string (query parameters arrive as strings).
pub(crate) fn bool_text(s: &str) -> Option<bool> {
    match s.to_lowercase().as_str() {
        "1" | "on" | "t" | "true" | "y" | "yes" => Some(true),
        "0" | "off" | "f" | "false" | "n" | "no" => Some(false),
        _ => None,
    }
}

/// `str_validator`: strings as they are, numbers and booleans as Python's `str()` writes them
/// (`True`, `5`, `1.5`, `1e+16`); `None` for what it refuses.
pub(crate) fn str_value(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(true) => Some("True".to_owned()),
        Value::Bool(false) => Some("False".to_owned()),
        Value::Number(n) => Some(match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (None, Some(u), _) => u.to_string(),
            (None, None, Some(f)) => python_float(f),
            (None, None, None) => n.to_string(),
        }),
        _ => None,
    }
}

/// Python's `repr(float)`: the shortest round-trip digits, positional from 1e-4 up to 1e16,
/// scientific (`1e+16`, `1.5e-05`) outside, and always a `.0` on whole positional numbers.
fn python_float(f: f64) -> String {
    if !f.is_finite() {
        return if f.is_nan() {
            "nan".to_owned()
        } else if f > 0.0 {
            "inf".to_owned()
        } else {
            "-inf".to_owned()
        };
    }
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..16).contains(&exp) {
        let fixed = format!("{f}");
        if fixed.contains('.') {
            fixed
        } else {
            format!("{fixed}.0")
        }
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.unsigned_abs())
    }
}

/// One validation error in pydantic v1's words.
pub(crate) fn invalid(loc: Vec<Value>, msg: &str, kind: &str) -> Invalid {
    Invalid {
        loc,
        msg: msg.to_owned(),
        kind: kind.to_owned(),
        ctx: None,
    }
}

/// The error for a required field that is absent.
pub(crate) fn missing(loc: Vec<Value>) -> Invalid {
    invalid(loc, "field required", "value_error.missing")
}

/// The error for an explicit `null` where the field does not allow it.
pub(crate) fn not_none(loc: Vec<Value>) -> Invalid {
    invalid(
        loc,
        "none is not an allowed value",
        "type_error.none.not_allowed",
    )
}

/// The error for a value `bool_validator` refuses.
pub(crate) fn not_bool(loc: Vec<Value>) -> Invalid {
    invalid(
        loc,
        "value could not be parsed to a boolean",
        "type_error.bool",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bools_as_pydantic_reads_them() {
        for t in [
            json!(true),
            json!(1),
            json!(1.0),
            json!("YES"),
            json!("on"),
            json!("t"),
        ] {
            assert_eq!(bool_value(&t), Some(true), "{t}");
        }
        for f in [json!(false), json!(0), json!("Off"), json!("n"), json!("0")] {
            assert_eq!(bool_value(&f), Some(false), "{f}");
        }
        for bad in [
            json!(2),
            json!(" true"),
            json!([]),
            json!({}),
            json!(null),
            json!(""),
        ] {
            assert_eq!(bool_value(&bad), None, "{bad}");
        }
    }

    #[test]
    fn strings_as_python_writes_them() {
        assert_eq!(str_value(&json!(true)).as_deref(), Some("True"));
        assert_eq!(str_value(&json!(5)).as_deref(), Some("5"));
        assert_eq!(str_value(&json!(1.5)).as_deref(), Some("1.5"));
        assert_eq!(str_value(&json!(100000.0)).as_deref(), Some("100000.0"));
        assert_eq!(str_value(&json!(1e16)).as_deref(), Some("1e+16"));
        assert_eq!(str_value(&json!(1.5e-5)).as_deref(), Some("1.5e-05"));
        assert_eq!(str_value(&json!(0.0001)).as_deref(), Some("0.0001"));
        assert_eq!(str_value(&json!(null)), None);
        assert_eq!(str_value(&json!([1])), None);
    }
}
