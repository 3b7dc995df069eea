use super::*;

fn linux(pairs: &[(&str, &str)]) -> Roots {
    Roots::from_pairs(pairs.iter().copied())
        .unwrap()
        .with_platform(Platform::Linux)
}

fn roots(s: &str) -> Roots {
    Roots::parse(s).unwrap().with_platform(Platform::Linux)
}

fn expand(s: &str, roots: &Roots) -> Result<String, UnknownRoot> {
    let mut out = String::from("prefix:");
    roots.substitute_into(s, &mut out)?;
    Ok(out["prefix:".len()..].to_owned())
}

fn strip<'s>(s: &'s str, roots: &Roots) -> Cow<'s, str> {
    roots.make_rootless(s)
}

fn pairs(r: &Roots) -> Vec<(&str, &str)> {
    r.iter().collect()
}

// ---- substitution (from ayon-client's roots.rs and ayon-pinning's template.rs) ----

#[test]
fn each_token_gets_its_own_root() {
    let r = linux(&[("work", "/mnt/work"), ("publish", "/mnt/pub")]);
    let p = r.substitute("{root[publish]}/a/{root[work]}/b").unwrap();
    assert_eq!(p, "/mnt/pub/a//mnt/work/b");
    let r = roots("work=/mnt/work,pub=/mnt/pub");
    assert_eq!(
        expand("{root[work]}/a;{root[pub]}/b", &r).unwrap(),
        "/mnt/work/a;/mnt/pub/b"
    );
    let r = roots("a=A,b=B");
    assert_eq!(
        r.substitute("{root[a]}|{root[b]}|{root[a]}").unwrap(),
        "A|B|A"
    );
}

#[test]
fn windows_sites_get_backslashes_even_from_server_backslashes() {
    let r = linux(&[("work", "P:/projects")]).with_platform(Platform::Windows);
    let server = "{root[work]}\\demo_offline\\assets\\hero.usd";
    assert_eq!(
        r.substitute(server).unwrap(),
        "P:\\projects\\demo_offline\\assets\\hero.usd"
    );
    assert_eq!(
        r.substitute("{root[work]}/demo/x.usd").unwrap(),
        "P:\\projects\\demo\\x.usd"
    );
    // Strings without tokens (identifiers, absolute paths) are not touched.
    assert_eq!(
        r.substitute("ayon+entity://p/a?product=x").unwrap(),
        "ayon+entity://p/a?product=x"
    );
    assert_eq!(r.substitute("C:/abs/a").unwrap(), "C:/abs/a");
}

#[test]
fn unknown_root_is_named() {
    let r = linux(&[("work", "/mnt")]);
    assert_eq!(
        r.substitute("{root[render]}/x"),
        Err(UnknownRoot {
            name: "render".to_owned()
        })
    );
    let r = roots("work=/w");
    let err = expand("{root[work]}/{root[nope]}", &r).unwrap_err();
    assert_eq!(err.name, "nope");
    assert_eq!(err.to_string(), "unknown root `nope`");
    // No roots at all: any token is unknown.
    assert!(Roots::new().substitute("{root[work]}").is_err());
}

#[test]
fn a_failed_substitution_leaves_the_buffer_alone() {
    let r = roots("work=/w");
    let mut out = String::from("kept");
    assert!(
        r.substitute_into("{root[work]}/{root[x]}", &mut out)
            .is_err()
    );
    assert_eq!(out, "kept");
}

#[test]
fn trailing_separator_on_root_is_not_doubled() {
    let r = linux(&[("work", "/mnt/projects/")]);
    assert_eq!(r.substitute("{root[work]}/a").unwrap(), "/mnt/projects/a");
    let w = roots("work=P:\\projects\\").with_platform(Platform::Windows);
    assert_eq!(w.substitute("{root[work]}\\a").unwrap(), "P:\\projects\\a");
    // Only one separator is dropped, and only at the junction.
    assert_eq!(r.substitute("{root[work]}//a").unwrap(), "/mnt/projects//a");
}

#[test]
fn dollar_and_plain_paths_are_literal() {
    let r = linux(&[("work", "/mnt/$1")]).with_platform(Platform::Darwin);
    assert_eq!(r.substitute("{root[work]}/a").unwrap(), "/mnt/$1/a");
    let r = r.with_platform(Platform::Linux);
    assert_eq!(r.substitute("/abs/a").unwrap(), "/abs/a");
    assert_eq!(r.substitute("{root[work").unwrap(), "{root[work");
}

#[test]
fn reports_whether_anything_was_replaced() {
    let r = roots("work=/w");
    let mut out = String::new();
    assert_eq!(r.substitute_into("/plain/{x}/{root[", &mut out), Ok(false));
    assert_eq!(out, "/plain/{x}/{root[");
    out.clear();
    assert_eq!(r.substitute_into("{{root[work]}}", &mut out), Ok(true));
    assert_eq!(out, "{/w}");
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
fn names_are_listed() {
    let v: Vec<_> = root_names("{root[a]}/x/{root[b_2]}").collect();
    assert_eq!(v, ["a", "b_2"]);
    assert_eq!(root_names("/x/{root[").count(), 0);
}

// ---- making paths rootless (from ayon-pinning's template.rs) ----

#[test]
fn strip_prefers_longest_root_at_segment_boundaries() {
    let r = roots("a=/mnt/proj,b=/mnt/proj/sub,c=/mnt");
    assert_eq!(strip("/mnt/proj/sub/x", &r), "{root[b]}/x");
    assert_eq!(strip("/mnt/proj/subway/x", &r), "{root[a]}/subway/x");
    assert_eq!(strip("/mnt/project2/x", &r), "{root[c]}/project2/x");
    assert_eq!(strip("/mnt", &r), "{root[c]}");
    assert_eq!(strip("/mntx", &r), "/mntx");
    assert_eq!(strip("x/mnt/proj", &r), "x/mnt/proj");
    assert!(matches!(strip("/elsewhere", &r), Cow::Borrowed(_)));
}

#[test]
fn windows_roots_match_case_and_separator_insensitively() {
    let r = roots("work=P:\\Projects");
    assert_eq!(
        strip("p:/projects/demo/a.usd", &r),
        "{root[work]}/demo/a.usd"
    );
    assert_eq!(strip("P:\\PROJECTS\\demo", &r), "{root[work]}\\demo");
    assert_eq!(strip("P:/Projects2/demo", &r), "P:/Projects2/demo");
    // POSIX roots stay case-sensitive.
    let r2 = roots("work=/mnt/Work");
    assert_eq!(strip("/mnt/work/a", &r2), "/mnt/work/a");
}

#[test]
fn roots_with_regex_metacharacters_are_literal() {
    let r = roots("a-b.c=/mnt/a-b.c/x\\y,unc=\\\\nas-01.studio\\proj");
    assert_eq!(strip("/mnt/a-b.c/x\\y/z", &r), "{root[a-b.c]}/z");
    assert_eq!(strip("/mnt/aXb.c/x\\y/z", &r), "/mnt/aXb.c/x\\y/z");
    assert_eq!(
        strip("\\\\NAS-01.studio\\proj\\sh010", &r),
        "{root[unc]}\\sh010"
    );
}

#[test]
fn root_ending_in_separator_matches_inside_segment_start() {
    let r = roots("w=/mnt/w/");
    assert_eq!(strip("/mnt/w/a", &r), "{root[w]}a");
    // The separator the substitution will drop is written twice, so the path comes back.
    assert_eq!(strip("/mnt/w//a", &r), "{root[w]}//a");
    assert_eq!(r.substitute(&strip("/mnt/w//a", &r)).unwrap(), "/mnt/w//a");
}

#[test]
fn strip_never_splits_a_multibyte_char() {
    let r = roots("w=C:/é");
    assert_eq!(strip("C:/éx", &r), "C:/éx");
    assert_eq!(strip("C:/é/x", &r), "{root[w]}/x");
}

#[test]
fn empty_roots_never_match() {
    let r = roots("e=,w=/w");
    assert_eq!(strip("/x", &r), "/x");
    assert_eq!(strip("/w/x", &r), "{root[e]}/x".replace("e", "w"));
}

// ---- the `name=value,...` form (from ayon-pinning's roots.rs) ----

#[test]
fn parses_name_equals_value_and_trims() {
    let r = Roots::parse(" work = /mnt/work , publish=/mnt/pub ").unwrap();
    assert_eq!(pairs(&r), [("work", "/mnt/work"), ("publish", "/mnt/pub")]);
    assert_eq!(r.platform(), Platform::current());
}

#[test]
fn legacy_colon_form_keeps_drive_letters() {
    let r = Roots::parse("work:P:/projects,pub:Q:\\pub").unwrap();
    assert_eq!(pairs(&r), [("work", "P:/projects"), ("pub", "Q:\\pub")]);
}

#[test]
fn equals_form_value_may_hold_colons_and_equals() {
    let r = Roots::parse("work=P:/projects,x=/a=b,y:/c=d").unwrap();
    assert_eq!(
        pairs(&r),
        [("work", "P:/projects"), ("x", "/a=b"), ("y", "/c=d")]
    );
}

#[test]
fn blank_items_are_skipped_and_empty_value_allowed() {
    let r = Roots::parse(",, work=/w ,,empty=,").unwrap();
    assert_eq!(pairs(&r), [("work", "/w"), ("empty", "")]);
    assert!(Roots::parse("   ").unwrap().is_empty());
}

#[test]
fn comma_in_a_value_is_an_error_naming_the_fragment() {
    let err = Roots::parse("work=/mnt/a,b,pub=/p").unwrap_err();
    assert_eq!(
        err,
        RootsError::NotAPair {
            origin: "roots string".into(),
            index: 2,
            item: "b".into()
        }
    );
    assert!(err.to_string().contains("`b`"), "{err}");
    let err = Roots::parse_from("oops", "MY_VAR").unwrap_err();
    assert!(err.to_string().starts_with("MY_VAR"), "{err}");
}

#[test]
fn empty_or_bracketed_names_are_refused() {
    assert!(matches!(
        Roots::parse("=/x"),
        Err(RootsError::BadName { name, .. }) if name.is_empty()
    ));
    assert!(matches!(
        Roots::parse("a]b=/x"),
        Err(RootsError::BadName { .. })
    ));
    assert!(Roots::new().insert("a{", "/x").is_err());
}

#[test]
fn later_duplicate_wins() {
    let r = Roots::parse("work=/a,work=/b").unwrap();
    assert_eq!(pairs(&r), [("work", "/b")]);
}

#[test]
fn display_round_trips() {
    let r = Roots::parse("work=P:/projects,pub=//nas/pub").unwrap();
    assert_eq!(Roots::parse(&r.to_string()).unwrap(), r);
    assert_eq!(r.to_string().parse::<Roots>().unwrap(), r);
}

#[test]
fn merge_adds_and_replaces_but_keeps_the_platform() {
    let mut a = roots("work=/a,x=/x");
    let b = Roots::parse("work=/b,pub=/p")
        .unwrap()
        .with_platform(Platform::Windows);
    a.merge(&b);
    assert_eq!(pairs(&a), [("work", "/b"), ("x", "/x"), ("pub", "/p")]);
    assert_eq!(a.platform(), Platform::Linux);
    assert_eq!(a.len(), 3);
}

#[test]
fn windows_path_detection() {
    for p in ["C:/a", "c:\\a", "C:", "\\\\nas\\share", "//nas/share"] {
        assert!(is_windows_path(p), "{p}");
    }
    for p in [
        "/mnt/a",
        "C",
        "ab:/x",
        "Cx/a",
        "ayon://p/a",
        "",
        "\\a",
        "1:/a",
    ] {
        assert!(!is_windows_path(p), "{p}");
    }
}
