use serde_json::json;

use super::*;
use crate::Platform;

fn ctx() -> Map<String, Value> {
    json!({"root": {"work": "/mnt/projects"}, "project": {"name": "demo_offline", "code": "demo"},
           "hierarchy": "assets/characters", "folder": {"name": "hero"},
           "product": {"name": "usdAsset", "type": "usd"}, "version": 1, "ext": "usd"})
    .as_object()
    .cloned()
    .unwrap_or_default()
}

const PUBLISHED: &str = "{root[work]}/{project[name]}/{hierarchy}/{folder[name]}/publish/{product[type]}/{product[name]}/v{version:0>3}/{project[code]}_{folder[name]}_{product[name]}_v{version:0>3}<_{output}><.{frame:0>4}><_{udim}>.{ext}";

fn fill(t: &str, c: &Map<String, Value>) -> String {
    Template::new(t).format(c).unwrap().into_text()
}

#[test]
fn fills_the_published_template_like_the_server() {
    let t = PUBLISHED;
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
fn missing_keys_are_named_and_kept_as_written() {
    let t = Template::new("{root[work]}/{project[name]}/{folder[label]}<_{output}>.{ext}");
    let mut c = ctx();
    c.remove("root");
    let f = t.format(&c).unwrap();
    assert!(!f.is_solved());
    assert_eq!(f.text(), "{root[work]}/demo_offline/{folder[label]}.usd");
    // `output` is inside a dropped optional part: not reported, as the server does.
    assert_eq!(f.missing_keys(), ["root", "folder[label]"]);
    let err = t.format_strict(&c).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("root, folder[label]"), "{msg}");
    assert!(matches!(err, TemplateError::Unsolved { ref missing, .. } if missing.len() == 2));
    assert_eq!(
        Template::new("{a}").format_strict(&ctx()).unwrap_err(),
        TemplateError::Unsolved {
            template: "{a}".into(),
            missing: vec!["a".into()],
            invalid: vec![],
        }
    );
}

#[test]
fn values_of_the_wrong_type_are_invalid_not_missing() {
    let c = json!({"folder": {"name": "hero"}, "n": null, "l": [1], "s": "x"})
        .as_object()
        .cloned()
        .unwrap_or_default();
    let f = Template::new("{folder}/{n}/{l}/{s[x]}/{n[x]}/{}")
        .format(&c)
        .unwrap();
    assert_eq!(f.text(), "{folder}/{n}/{l}/{s[x]}/{n[x]}/{}");
    assert_eq!(f.invalid_keys(), ["folder", "n", "l", "s", ""]);
    // Below a null the server reports the key as missing.
    assert_eq!(f.missing_keys(), ["n[x]"]);
}

#[test]
fn only_padding_specs_with_an_arrow_are_formatted() {
    // The server looks `version:03d` up as a key of its own: missing, not padded.
    let f = Template::new("v{version:03d}").format(&ctx()).unwrap();
    assert_eq!(f.text(), "v{version:03d}");
    assert_eq!(f.missing_keys(), ["version:03d"]);
    assert_eq!(fill("v{version:0>3}|{version:<3}", &ctx()), "v001|1  ");
    // `^` alone is no arrow: the key `version:^5` is missing.
    assert_eq!(fill("{version:^5}", &ctx()), "{version:^5}");
    assert_eq!(fill("{folder[name]:*>6}", &ctx()), "**hero");
}

#[test]
fn optional_parts_as_the_server_reads_them() {
    let c = json!({"a": "A", "b": "B", "n": 1})
        .as_object()
        .cloned()
        .unwrap_or_default();
    assert_eq!(fill("x<_{a}>y", &c), "x_Ay");
    assert_eq!(fill("x<_{z}>y", &c), "xy");
    // Nested: the inner part drops alone; a missing key in the outer drops both.
    assert_eq!(fill("<{a}<-{z}>-{b}>", &c), "A-B");
    assert_eq!(fill("<{z}<-{a}>>|", &c), "|");
    // Text-only brackets stay; `<>` stays; `>` alone and unclosed `<` are text.
    assert_eq!(fill("<txt>", &c), "<txt>");
    assert_eq!(fill("<>", &c), "<>");
    assert_eq!(fill("a>b", &c), "a>b");
    assert_eq!(fill("a<{a}", &c), "a<A");
    assert_eq!(fill("a<{z}", &c), "a<{z}");
    assert_eq!(fill("<a<b>c>", &c), "a<b>c");
    // Specs with `<`/`>` are inside the field, not optional parts.
    assert_eq!(fill("<.{n:0>4}>", &c), ".0001");
}

#[test]
fn the_servers_key_pattern() {
    let c = json!({"a": "A"}).as_object().cloned().unwrap_or_default();
    // `[^{0]*` runs to the last `}` before the next `{` or `0`.
    assert_eq!(fill("{a}}", &c), "{a}}");
    assert_eq!(fill("{{a}", &c), "{{a}");
    assert_eq!(fill("{a", &c), "{a");
    assert_eq!(fill("}{a}{", &c), "}A{");
    assert_eq!(fill("{a}\n{a}", &c), "A\nA");
    let c = json!({"a}": "weird"})
        .as_object()
        .cloned()
        .unwrap_or_default();
    let f = Template::new("{a}}").format(&c);
    // The key `a}` exists, so Python's str.format runs and refuses the stray brace.
    assert!(
        matches!(f, Err(TemplateError::Field { position: 0, .. })),
        "{f:?}"
    );
}

#[test]
fn python_errors_are_typed_with_the_position() {
    let c = json!({"s": "text", "n": 3, "d": {"0": "zero", "k": "v"}})
        .as_object()
        .cloned()
        .unwrap_or_default();
    let err = Template::new("/x/{s:0>3d}").format(&c).unwrap_err();
    match &err {
        TemplateError::Field {
            field,
            position,
            reason,
            ..
        } => {
            assert_eq!((field.as_str(), *position), ("{s:0>3d}", 3));
            assert!(reason.contains("Unknown format code 'd'"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("byte 3"), "{err}");
    for t in ["{n:>.2}", "{d[0]}", "{d}x{n:>q}"] {
        assert!(
            matches!(
                Template::new(t).format(&c),
                Err(TemplateError::Field { .. })
            ),
            "{t}"
        );
    }
    assert_eq!(fill("{d[k]}", &c), "v");
}

#[test]
fn numbers_and_booleans_print_as_python_does() {
    let c = json!({"i": 42, "f": 2.5, "g": 25.0, "t": true, "big": 18446744073709551615u64})
        .as_object()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        fill("{i}|{f}|{g}|{t}|{big}", &c),
        "42|2.5|25.0|True|18446744073709551615"
    );
    assert_eq!(fill("{t:0>3}", &c), "001");
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
    assert_eq!(normpath("P:\\a\\..\\b"), "P:\\a\\..\\b");
}

fn context_of(template_ctx: Value) -> Map<String, Value> {
    template_ctx.as_object().cloned().unwrap_or_default()
}

#[test]
fn representation_paths_as_the_server_writes_them() {
    let t = Template::new(PUBLISHED);
    let mut c = ctx();
    c.remove("root");
    let linux = Roots::parse("work=/mnt/projects/")
        .unwrap()
        .with_platform(Platform::Linux);
    assert_eq!(
        representation_path(&t, &c, &linux).unwrap(),
        "/mnt/projects/demo_offline/assets/characters/hero/publish/usd/usdAsset/v001/demo_hero_usdAsset_v001.usd"
    );
    // Rootless for a Windows site: the token stays, separators are `\`.
    let win = Roots::for_platform(Platform::Windows);
    assert_eq!(
        representation_path(&t, &c, &win).unwrap(),
        "{root[work]}\\demo_offline\\assets\\characters\\hero\\publish\\usd\\usdAsset\\v001\\demo_hero_usdAsset_v001.usd"
    );
    // A context's own `root` is replaced by the site's (none here).
    let c2 = context_of(json!({"root": {"work": "/elsewhere"}, "ext": "usd"}));
    assert_eq!(
        representation_path(
            &Template::new("{root[work]}/a.{ext}"),
            &c2,
            &linux.clone().with_platform(Platform::Darwin)
        )
        .unwrap(),
        "/mnt/projects/a.usd"
    );
    // The server's `//` → `/` (a UNC root spelled with `/` loses a slash there).
    let unc = Roots::parse("work=//nas/p")
        .unwrap()
        .with_platform(Platform::Linux);
    assert_eq!(
        representation_path(&Template::new("{root[work]}/a"), &c2, &unc).unwrap(),
        "/nas/p/a"
    );
}
