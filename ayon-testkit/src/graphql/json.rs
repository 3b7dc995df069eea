//! The JSON-in-a-string values of the real server's GraphQL answers.

use serde_json::Value;

use crate::library::Object;

/// A JSON value with every object's keys sorted, as the real server's JSON strings have them.
fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let mut out = serde_json::Map::new();
            for key in keys {
                out.insert(key.clone(), sorted(&map[key]));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// Compact JSON text with sorted keys: what `allAttrib`, `data` and `context` carry.
pub(crate) fn json_text(value: &Value) -> String {
    sorted(value).to_string()
}

/// `allAttrib`: always a JSON object string, `"{}"` when empty.
pub(crate) fn attrib_text(attrib: &Object) -> String {
    let mut keys: Vec<&String> = attrib.keys().collect();
    keys.sort();
    let mut out = serde_json::Map::new();
    for key in keys {
        out.insert(key.clone(), sorted(&attrib[key]));
    }
    Value::Object(out).to_string()
}

/// `data`: a JSON object string, or null when the entity has no data (as recorded).
pub(crate) fn data_text(data: &Object) -> Option<String> {
    if data.is_empty() {
        None
    } else {
        Some(attrib_text(data))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_sorted_at_every_depth_and_floats_keep_their_point() {
        let v = json!({"b": {"z": 1, "a": [{"y": 2.0, "x": null}]}, "a": 25.0});
        assert_eq!(
            json_text(&v),
            r#"{"a":25.0,"b":{"a":[{"x":null,"y":2.0}],"z":1}}"#
        );
        assert_eq!(data_text(&Object::new()), None);
        assert_eq!(attrib_text(&Object::new()), "{}");
    }
}
