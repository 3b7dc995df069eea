//! Properties of the one root rule and the template formatter: rootless and back gives the
//! path; rooting the server's rootless answer gives the server's rooted answer; no input panics.

use ayon_site::{Platform, Roots, Template, representation_path};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// Root values built from a head (POSIX `/`, a drive letter, a UNC host in either separator),
/// one to three segments joined by either separator, and sometimes a trailing separator.
fn root_value() -> impl Strategy<Value = String> {
    let sep = prop_oneof![Just("/"), Just("\\")];
    let head = prop_oneof![
        Just("/".to_owned()),
        ("[A-Za-z]", sep.clone()).prop_map(|(d, s)| format!("{d}:{s}")),
        ("[a-z0-9.-]{1,8}", sep.clone()).prop_map(|(h, s)| format!("{s}{s}{h}{s}")),
    ];
    let segments = prop::collection::vec(("[A-Za-z0-9 ._-]{1,6}", sep.clone()), 1..4);
    (head, segments, proptest::option::of(sep)).prop_map(|(head, segments, trailing)| {
        let mut v = head;
        for (i, (seg, s)) in segments.iter().enumerate() {
            if i > 0 {
                v.push_str(s);
            }
            v.push_str(seg);
        }
        v.extend(trailing);
        v
    })
}

fn roots_strategy() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(("[a-z][a-z0-9_.-]{0,6}", root_value()), 1..5)
}

/// A path under one of `roots` (spelled as configured), or text without any root.
fn path_under(roots: Vec<(String, String)>) -> impl Strategy<Value = String> {
    let n = roots.len();
    let tail = prop_oneof![
        "([/\\\\][A-Za-z0-9 ._-]{1,6}){0,3}",
        "[A-Za-z0-9 ._/\\\\:-]{0,12}",
    ];
    let under = (0..n, tail).prop_map(move |(i, tail)| format!("{}{tail}", roots[i].1));
    prop_oneof![3 => under, 1 => "[^{]{0,20}"]
}

fn build(pairs: &[(String, String)], platform: Platform) -> Roots {
    Roots::from_pairs(pairs.iter().cloned())
        .unwrap()
        .with_platform(platform)
}

/// Roots a real site of `platform` has: no `.`/`..` segments, no `//` inside, and no Windows
/// root ending in `\` (the two spots where the server mangles a path, see the rule's docs).
fn site_root(platform: Platform) -> BoxedStrategy<String> {
    match platform {
        Platform::Windows => prop_oneof![
            "[A-Z]:[/\\\\][a-z0-9 _-]{1,6}([/\\\\][a-z0-9_-]{1,6}){0,2}/?",
            "\\\\\\\\[a-z]{1,6}\\\\[a-z0-9_-]{1,6}",
        ]
        .boxed(),
        _ => "/[a-z]{1,6}(/[a-z0-9 _-]{1,6}){0,3}/?".boxed(),
    }
}

fn platform() -> impl Strategy<Value = Platform> {
    prop_oneof![
        Just(Platform::Windows),
        Just(Platform::Linux),
        Just(Platform::Darwin)
    ]
}

const PUBLISHED: &str = "{root[work]}/{project[name]}/{hierarchy}/{folder[name]}/publish/{product[type]}/{product[name]}/v{version:0>3}/{project[code]}_{folder[name]}_{product[name]}_v{version:0>3}<_{output}><.{frame:0>4}><_{udim}>.{ext}";

fn context() -> impl Strategy<Value = Map<String, Value>> {
    let name = "[a-z][a-z0-9_]{0,8}";
    (
        name,
        name,
        prop::collection::vec(name, 0..3),
        name,
        0u32..2000,
        proptest::option::of(0u32..20000),
        proptest::option::of(name),
    )
        .prop_map(|(project, folder, hierarchy, product, version, frame, output)| {
            let mut c = json!({
                "project": {"name": project, "code": project.chars().take(3).collect::<String>()},
                "hierarchy": hierarchy.join("/"),
                "folder": {"name": folder},
                "product": {"name": product, "type": "usd"},
                "version": version,
                "ext": "usd",
            });
            if let Some(f) = frame {
                c["frame"] = json!(f);
            }
            if let Some(o) = output {
                c["output"] = json!(o);
            }
            c.as_object().cloned().unwrap_or_default()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Making a path rootless and rooting it again gives the path back (on a site whose
    /// separators are the path's; a Windows site writes `\`).
    #[test]
    fn rootless_and_back(
        (pairs, path) in roots_strategy().prop_flat_map(|r| (Just(r.clone()), path_under(r))),
    ) {
        let linux = build(&pairs, Platform::Linux);
        let rootless = linux.make_rootless(&path);
        prop_assert_eq!(linux.substitute(&rootless).unwrap(), path.clone());
        let windows = linux.clone().with_platform(Platform::Windows);
        let back = windows.substitute(&rootless).unwrap();
        if rootless == path.as_str() && !rootless.contains("{root[") {
            prop_assert_eq!(back, path);
        } else {
            prop_assert_eq!(back, path.replace('/', "\\"));
        }
    }

    /// The client's path for a URI (the server's rootless answer, rooted here) is the server's
    /// rooted answer for the same representation, on every platform.
    #[test]
    fn rooting_the_rootless_answer_gives_the_servers_rooted_answer(
        (platform, root) in platform().prop_flat_map(|p| (Just(p), site_root(p))),
        ctx in context(),
    ) {
        let template = Template::new(PUBLISHED);
        let roots = build(&[("work".to_owned(), root)], platform);
        let rootless = representation_path(&template, &ctx, &Roots::for_platform(platform)).unwrap();
        let server = representation_path(&template, &ctx, &roots).unwrap();
        prop_assert!(rootless.starts_with("{root[work]}"), "{}", rootless);
        prop_assert_eq!(roots.substitute(&rootless).unwrap(), server);
    }

    /// No template and no spec makes the formatter panic; errors are typed.
    #[test]
    fn templates_never_panic(
        t in "[{}<>\\[\\]:0-9a-z!.,#_+=^% \n-]{0,40}",
    ) {
        let ctx = json!({"a": "A", "n": 7, "f": 1.5, "t": true, "d": {"k": "v", "n": null}, "l": [1]});
        let ctx = ctx.as_object().cloned().unwrap_or_default();
        let _ = Template::new(t.as_str()).format(&ctx);
        let _ = representation_path(&Template::new(t.as_str()), &ctx, &Roots::new());
        for key in ["a", "n", "f", "t"] {
            let field = format!("{{{key}:{t}}}");
            let _ = Template::new(field).format(&ctx);
        }
    }

    /// Roots strings never panic the parser; what parses prints back to itself.
    #[test]
    fn roots_strings_round_trip(s in "\\PC{0,40}") {
        if let Ok(r) = Roots::parse(&s) {
            prop_assert_eq!(Roots::parse(&r.to_string()).unwrap(), r);
        }
    }
}
