//! One test per server rule (ayon-backend `parse_uri` + Python's `urlparse`/`parse_qs`).

use std::collections::HashSet;

use ayon_uri::{AyonUri, Scheme, Target, UriErrorKind, VersionSelector, is_ayon_uri};

fn ok(s: &str) -> AyonUri {
    AyonUri::parse(s).unwrap_or_else(|e| panic!("{s:?} should parse: {e}"))
}

fn bad(s: &str) -> (UriErrorKind, String, usize, String) {
    let e = AyonUri::parse(s).expect_err(s);
    (
        e.kind(),
        e.server_message(),
        e.offset(),
        e.text().to_owned(),
    )
}

const REP: &str = "ayon+entity://demo/assets/hero?product=usdMain&version=v004&representation=usd";

#[test]
fn fields_of_a_representation_uri() {
    let u = ok(REP);
    assert_eq!(u.scheme(), Scheme::AyonEntity);
    assert_eq!(u.project(), "demo");
    assert_eq!(u.folder_path(), "assets/hero");
    assert_eq!(u.folder_segments().collect::<Vec<_>>(), ["assets", "hero"]);
    assert_eq!(u.product(), Some("usdMain"));
    assert_eq!(u.version(), Some(VersionSelector::Exact(4)));
    assert_eq!(u.representation(), Some("usd"));
    assert_eq!(
        (u.task(), u.workfile(), u.sdf_format_args()),
        (None, None, None)
    );
    assert_eq!(u.target(), Some(Target::Representation));
    assert!(u.is_immutable());
    assert_eq!(u.canonical(), REP);
}

#[test]
fn scheme_is_case_insensitive_and_both_spellings_mean_the_same() {
    assert_eq!(ok("AYON://demo/a").scheme(), Scheme::Ayon);
    assert_eq!(ok("Ayon+Entity://demo/a").scheme(), Scheme::AyonEntity);
    assert_eq!(ok("ayon://demo/a"), ok("ayon+entity://demo/a"));
    assert_eq!(bad("http://demo/a").1, "Invalid scheme: http");
    assert_eq!(
        bad("HTTP://demo/a").1,
        "Invalid scheme: http",
        "urlparse lower-cases"
    );
    assert_eq!(bad("not a uri at all").1, "Invalid scheme: ");
    assert_eq!(bad("").1, "Invalid scheme: ");
    assert_eq!(bad("ayon-entity://demo").1, "Invalid scheme: ayon-entity");
    assert_eq!(
        bad("1ayon://demo").1,
        "Invalid scheme: ",
        "a scheme starts with a letter"
    );
    assert_eq!(bad("http://demo").0, UriErrorKind::BadScheme);
}

#[test]
fn leading_controls_and_spaces_are_stripped_and_tabs_newlines_removed_anywhere() {
    let u = ok(" \u{1}\tayon://demo/a?product=x");
    assert_eq!(
        (u.project(), u.folder_path(), u.product()),
        ("demo", "a", Some("x"))
    );
    let u = ok("ay\ton://de\nmo/a\r/b?prod\nuct=x");
    assert_eq!(
        (u.project(), u.folder_path(), u.product()),
        ("demo", "a/b", Some("x"))
    );
    // Trailing spaces are kept (and are not part of a name); a no-break space is not stripped.
    assert_eq!(bad("ayon://demo/a ").1, "Invalid path element: a ");
    assert_eq!(bad("\u{a0}ayon://demo/a").1, "Invalid scheme: ");
    // Offsets stay in the caller's string.
    let (_, _, offset, text) = bad("  ayon://demo/a\t/b c");
    assert_eq!((offset, text.as_str()), (17, "b c"));
}

#[test]
fn project_is_the_netloc_and_a_name() {
    assert_eq!(
        bad("ayon:demo/a").1,
        "Invalid project name: ",
        "no // means no netloc"
    );
    assert_eq!(bad("ayon:///a").1, "Invalid project name: ");
    assert_eq!(
        bad("ayon+entity://demo offline/assets?product=x").1,
        "Invalid project name: demo offline"
    );
    assert_eq!(
        bad("ayon://demo:5000/a").1,
        "Invalid project name: demo:5000",
        "no port"
    );
    assert_eq!(
        bad("ayon://user@demo/a").1,
        "Invalid project name: user@demo",
        "no user info"
    );
    assert_eq!(bad("ayon://démo/a").0, UriErrorKind::BadProject);
    // Parses (the server then says "Project my-proj not found": not a parse matter).
    assert_eq!(ok("ayon://my-proj.v2/a").project(), "my-proj.v2");
    assert_eq!(ok("ayon://DEMO/a").project(), "DEMO", "kept as written");
    let (kind, msg, offset, text) = bad("ayon://-x/a");
    assert_eq!(
        (kind, msg.as_str(), offset, text.as_str()),
        (
            UriErrorKind::BadProject,
            "Invalid project name: -x",
            7,
            "-x"
        )
    );
}

#[test]
fn urlparse_netloc_errors_come_first_in_python_words() {
    assert_eq!(bad("http://[demo/a").1, "Invalid IPv6 URL");
    assert_eq!(bad("ayon://demo]/a").1, "Invalid IPv6 URL");
    assert_eq!(
        bad("ayon://[x]/a").1,
        "'x' does not appear to be an IPv4 or IPv6 address"
    );
    assert_eq!(
        bad("ayon://[1.2.3.4]/a").1,
        "An IPv4 address cannot be in brackets"
    );
    assert_eq!(bad("ayon://[v1]/a").1, "IPvFuture address is invalid");
    assert_eq!(bad("ayon://[::1]/a").1, "Invalid project name: [::1]");
    assert_eq!(
        bad("ayon://a\u{2100}b/x").1,
        "netloc 'a\u{2100}b' contains invalid characters under NFKC normalization"
    );
    assert_eq!(bad("ayon://[x]/a").0, UriErrorKind::BadNetloc);
}

#[test]
fn path_slashes_are_stripped_and_double_slash_after_project_accepted() {
    assert_eq!(ok("ayon://demo//assets/hero/").folder_path(), "assets/hero");
    assert_eq!(ok("ayon://demo///a///").folder_path(), "a");
    assert_eq!(ok("ayon://demo/").folder_path(), "");
    assert_eq!(ok("ayon://demo//a"), ok("ayon://demo/a"));
}

#[test]
fn bad_path_elements_are_rejected_undecoded() {
    for (uri, element) in [
        ("ayon://demo/a//b", ""),
        ("ayon://demo/a/./b", "."),
        ("ayon://demo/a/../b", ".."),
        ("ayon://demo/a%20b", "a%20b"),
        ("ayon://demo/h%C3%A9ro", "h%C3%A9ro"),
        ("ayon://demo/héro", "héro"),
        ("ayon://demo/*?product=usdShot", "*"),
        ("ayon://demo/a;b/c", "a;b"),
        ("ayon://demo/a+b", "a+b"),
    ] {
        let (kind, msg, _, text) = bad(uri);
        assert_eq!(kind, UriErrorKind::BadPathElement, "{uri}");
        assert_eq!(msg, format!("Invalid path element: {element}"), "{uri}");
        assert_eq!(text, element, "{uri}");
    }
    assert_eq!(bad("ayon://demo/ok/a b").2, 15);
}

#[test]
fn query_values_are_percent_and_plus_decoded() {
    let u = ok("ayon://demo/a?product=usd%41sset&representation=us%64");
    assert_eq!(
        (u.product(), u.representation()),
        (Some("usdAsset"), Some("usd"))
    );
    assert_eq!(bad("ayon://demo/a?product=a+b").1, "Invalid name: a b");
    assert_eq!(bad("ayon://demo/a?product=a%2Bb").1, "Invalid name: a+b");
    assert_eq!(bad("ayon://demo/a?product=%C3%A9").1, "Invalid name: é");
    assert_eq!(bad("ayon://demo/a?product=%C3").1, "Invalid name: \u{FFFD}");
    // Keys are decoded too, and compared case-sensitively.
    assert_eq!(ok("ayon://demo/a?prod%75ct=x").product(), Some("x"));
    assert_eq!(ok("ayon://demo/a?PRODUCT=x").product(), None);
    assert_eq!(ok("ayon://demo/a?PRODUCT=x").target(), Some(Target::Folder));
}

#[test]
fn first_non_blank_value_wins_and_blank_values_are_absent() {
    let u = ok("ayon://demo/a?product=x&version=v001&version=v002&representation=usd");
    assert_eq!(u.version(), Some(VersionSelector::Exact(1)));
    let u = ok("ayon://demo/a?version=&version=3&product=&product=p");
    assert_eq!(
        (u.version(), u.product()),
        (Some(VersionSelector::Exact(3)), Some("p"))
    );
    let u = ok("ayon://demo/a?product=x&version=");
    assert_eq!((u.version(), u.target()), (None, Some(Target::Product)));
    // A bad later duplicate is never looked at; a bare key without `=` is skipped.
    assert_eq!(
        ok("ayon://demo/a?product=x&product=-bad&version").product(),
        Some("x")
    );
}

#[test]
fn unknown_keys_fragments_and_semicolons() {
    let u = ok("ayon://demo/a?product=x&foo=bar&Task=t#version=banana");
    assert_eq!(
        (u.product(), u.task(), u.version()),
        (Some("x"), None, None)
    );
    assert_eq!(
        bad("ayon://demo/a?product=x;version=3").1,
        "Invalid name: x;version=3"
    );
    assert_eq!(
        bad("ayon://demo/a?product=setdress?version=*").1,
        "Invalid name: setdress?version=*"
    );
    assert_eq!(ok("ayon://demo/a#?product=x").product(), None);
    assert_eq!(bad("ayon://demo/a?product=a=b").1, "Invalid name: a=b");
}

#[test]
fn names_follow_the_server_regex() {
    for good in ["a", "A_1", "a.b-c", "_x_", "usd", "x.ma", "*"] {
        assert_eq!(
            ok(&format!("ayon://demo/a?product={good}")).product(),
            Some(good)
        );
    }
    for wrong in ["-a", "a-", "a.", ".a", "a%20b", "a%2Fb", "**", "a*"] {
        let (kind, _, _, text) = bad(&format!("ayon://demo/a?representation={wrong}"));
        assert_eq!((kind, text.as_str()), (UriErrorKind::BadName, wrong));
    }
    // Python's `$` matches before a final newline: `%0A` at the end passes the check.
    let u = ok("ayon://demo/a?product=usdAsset%0A");
    assert_eq!(u.product(), Some("usdAsset\n"));
    assert_eq!(AyonUri::parse(&u.canonical()).unwrap(), u);
    assert_eq!(
        bad("ayon://demo/a?product=usd%0AAsset").1,
        "Invalid name: usd\nAsset"
    );
    // The server validates in the order product, task, version, representation, workfile.
    assert_eq!(
        bad("ayon://demo/a?representation=-r&product=-p").1,
        "Invalid name: -p"
    );
}

#[test]
fn version_selectors() {
    use VersionSelector::*;
    for (text, want) in [
        ("latest", Latest),
        ("LATEST", Latest),
        ("latestdone", LatestDone),
        ("latestDone", LatestDone),
        ("hero", Hero),
        ("HeRo", Hero),
        ("*", Any),
        ("v001", Exact(1)),
        ("V001", Exact(1)),
        ("1", Exact(1)),
        ("001", Exact(1)),
        ("v00000021", Exact(21)),
        ("0", Exact(0)),
        ("v0", Exact(0)),
        ("v1234", Exact(1234)),
        ("v4294967295", Exact(u32::MAX)),
        ("99999999999999999999", Exact(u32::MAX)),
        ("v003%0A", Exact(3)),
    ] {
        let u = ok(&format!("ayon://demo/a?product=p&version={text}"));
        assert_eq!(u.version(), Some(want), "{text}");
    }
    for (text, message) in [
        ("banana", "Invalid version name: banana"),
        ("v-03", "Invalid version name: v-03"),
        ("3.0", "Invalid version name: 3.0"),
        ("v", "Invalid version name: v"),
        ("vv1", "Invalid version name: vv1"),
        ("latest_done", "Invalid version name: latest_done"),
        ("-3", "Invalid name: -3"),
        ("v%201", "Invalid name: v 1"),
    ] {
        let (kind, msg, offset, _) = bad(&format!("ayon://demo/a?product=p&version={text}"));
        assert_eq!(
            (kind, msg.as_str()),
            (UriErrorKind::BadVersion, message),
            "{text}"
        );
        assert_eq!(offset, 32, "{text}");
    }
}

#[test]
fn tasks_and_workfiles_never_mix_with_products() {
    let u = ok("ayon://demo/a?task=modeling&workfile=x.ma");
    assert_eq!(
        (u.task(), u.workfile(), u.target()),
        (Some("modeling"), Some("x.ma"), Some(Target::Workfile))
    );
    assert_eq!(
        ok("ayon://demo/a?task=modeling").target(),
        Some(Target::Task)
    );
    assert_eq!(
        ok("ayon://demo/a?workfile=x.ma").target(),
        Some(Target::Workfile)
    );
    for (query, what) in [
        ("task=t&product=p", "products"),
        ("workfile=w&version=3", "versions"),
        ("task=t&representation=r", "representations"),
        ("representation=r&version=3&task=t", "versions"),
    ] {
        let (kind, msg, _, _) = bad(&format!("ayon://demo/a?{query}"));
        assert_eq!(kind, UriErrorKind::MixedTaskAndProduct);
        assert_eq!(
            msg,
            format!("Tasks and workfiles cannot be queried with {what}")
        );
    }
    // Names are checked before mixing; mixing before the version keyword.
    assert_eq!(bad("ayon://demo/a?task=t&product=-p").1, "Invalid name: -p");
    assert_eq!(
        bad("ayon://demo/a?task=t&version=banana").1,
        "Tasks and workfiles cannot be queried with versions"
    );
}

#[test]
fn targets_as_the_server_derives_them() {
    assert_eq!(ok("ayon://demo").target(), None);
    assert_eq!(ok("ayon://demo/?foo=bar").target(), None);
    assert_eq!(ok("ayon://demo/a").target(), Some(Target::Folder));
    assert_eq!(ok("ayon://demo/?product=x").target(), Some(Target::Product));
    assert_eq!(
        ok("ayon://demo/a?product=x&version=*").target(),
        Some(Target::Version)
    );
    assert_eq!(
        ok("ayon://demo/a?version=3").target(),
        Some(Target::Version)
    );
    assert_eq!(
        ok("ayon://demo/a?product=x&representation=usd").target(),
        Some(Target::Representation)
    );
}

#[test]
fn sdf_format_args_are_split_off_and_kept() {
    let u = ok(&format!("{REP}:SDF_FORMAT_ARGS:foo=bar&x=y"));
    assert_eq!(u.sdf_format_args(), Some(":SDF_FORMAT_ARGS:foo=bar&x=y"));
    assert_eq!(u.representation(), Some("usd"));
    assert_eq!(u.canonical(), REP, "canonical drops SDF args");
    assert_eq!(
        u.to_string(),
        format!("{REP}:SDF_FORMAT_ARGS:foo=bar&x=y"),
        "Display keeps them"
    );
    assert_eq!(u, ok(REP), "equality ignores them");
    // Stripped before urlparse, wherever it is.
    assert_eq!(ok("ayon://demo:SDF_FORMAT_ARGS/bad path").folder_path(), "");
}

#[test]
fn canonical_is_one_string_per_meaning() {
    let spellings = [
        "ayon://demo//assets/hero?version=4&representation=usd&product=usdMain&foo=1",
        "AYON+ENTITY://demo/assets/hero/?product=usdMain&version=V0004&representation=usd",
        "ayon+entity://demo/assets/hero?product=usd%4Dain&version=v004&representation=usd#x",
        " ayon://demo/assets/hero?product=usdMain&version=004&version=5&representation=usd:SDF_FORMAT_ARGS:a",
    ];
    let mut set = HashSet::new();
    for s in spellings {
        let u = ok(s);
        assert_eq!(u.canonical(), REP, "{s}");
        assert_eq!(ok(&u.canonical()), u);
        set.insert(u);
    }
    assert_eq!(set.len(), 1, "Eq + Hash follow the meaning");
    assert_eq!(
        ok("ayon://demo/a?product=p&version=1234").canonical(),
        "ayon+entity://demo/a?product=p&version=v1234"
    );
    assert_eq!(
        ok("ayon://demo/?product=p&version=latestDone").canonical(),
        "ayon+entity://demo?product=p&version=latestdone"
    );
    assert_eq!(
        ok("ayon://demo/a?task=t&workfile=w.ma").canonical(),
        "ayon+entity://demo/a?task=t&workfile=w.ma"
    );
    assert_ne!(
        ok("ayon://demo/a?product=p"),
        ok("ayon://demo/a?product=p&version=*")
    );
    assert_ne!(
        ok("ayon://demo/a"),
        ok("ayon://DEMO/a"),
        "project compared as written"
    );
}

#[test]
fn immutability_needs_an_exact_named_representation() {
    assert!(ok(REP).is_immutable());
    for moving in [
        "ayon://demo/a?product=p&version=latest&representation=usd",
        "ayon://demo/a?product=p&version=hero&representation=usd",
        "ayon://demo/a?product=p&representation=usd",
        "ayon://demo/a?product=p&version=3&representation=*",
        "ayon://demo/a?product=*&version=3&representation=usd",
        "ayon://demo/?product=p&version=3&representation=usd",
        "ayon://demo/a?product=p&version=3",
    ] {
        assert!(!ok(moving).is_immutable(), "{moving}");
    }
}

#[test]
fn display_and_from_str_round_trip() {
    let u: AyonUri = "ayon://demo//a?product=p&version=7:SDF_FORMAT_ARGS:x"
        .parse()
        .unwrap();
    let again: AyonUri = u.to_string().parse().unwrap();
    assert_eq!(again, u);
    assert_eq!(again.sdf_format_args(), u.sdf_format_args());
    let e = "ayon://demo/a?product=p&version=banana"
        .parse::<AyonUri>()
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "Invalid version name: banana at byte 32: `banana`"
    );
}

#[test]
fn is_ayon_uri_is_a_prefix_check() {
    assert!(is_ayon_uri("ayon://x"));
    assert!(is_ayon_uri("AYON+Entity://x?bad=%%"));
    assert!(is_ayon_uri("  ayon://x"));
    for no in [
        "",
        "ayon:",
        "ayon:/x",
        "/mnt/share/x.usd",
        "ayon+entity:/",
        "http://ayon://",
        "ayon+entit://x",
    ] {
        assert!(!is_ayon_uri(no), "{no}");
    }
}

#[test]
fn errors_are_send_sync_and_std_errors() {
    fn check<T: Send + Sync + std::error::Error + 'static>() {}
    check::<ayon_uri::UriError>();
    fn check_uri<T: Send + Sync + Clone + std::hash::Hash + Eq + std::fmt::Debug>() {}
    check_uri::<AyonUri>();
}

#[cfg(feature = "serde")]
#[test]
fn serde_as_a_string() {
    let u = ok("ayon://demo/a?product=p:SDF_FORMAT_ARGS:x");
    let json = serde_json::to_string(&u).unwrap();
    assert_eq!(json, "\"ayon+entity://demo/a?product=p:SDF_FORMAT_ARGS:x\"");
    let back: AyonUri = serde_json::from_str(&json).unwrap();
    assert_eq!(back, u);
    assert!(serde_json::from_str::<AyonUri>("\"http://x\"").is_err());
}
