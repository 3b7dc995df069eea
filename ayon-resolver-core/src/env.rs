//! The environment a resolver reads, named once: AYON's own variables, the USD resolver's
//! pinning variables (with their legacy names) and ours. Read into plain data without
//! judging it, so construction never fails; the calls that need a value report its problems.

use std::path::PathBuf;

/// The AYON server's base URL.
pub const SERVER_URL_ENV: &str = "AYON_SERVER_URL";
/// An API key or a 64-hex session token.
pub const API_KEY_ENV: &str = "AYON_API_KEY";
/// This machine's site id (else the launcher's `site_id` file).
pub const SITE_ID_ENV: &str = "AYON_SITE_ID";
/// The project a host works in (optional: URIs name their project).
pub const PROJECT_ENV: &str = "AYON_PROJECT_NAME";
/// Pinning mode on/off (see [`PinningSwitch`]).
pub const PINNING_ENABLE_ENV: &str = "AYON_USD_RESOLVER_ENABLE_PINNING";
/// The legacy name of [`PINNING_ENABLE_ENV`], still set by ayon-usd's farm hook.
pub const LEGACY_PINNING_ENABLE_ENV: &str = "ENABLE_STATIC_GLOBAL_CACHE";
/// The pinning file for pinning mode.
pub const PINNING_FILE_ENV: &str = "AYON_USD_RESOLVER_PINNING_FILE";
/// The legacy name of [`PINNING_FILE_ENV`].
pub const LEGACY_PINNING_FILE_ENV: &str = "PINNING_FILE_PATH";
/// Log filter for the `tracing` targets of the stack, in `RUST_LOG` syntax.
pub const LOG_ENV: &str = "AYON_LOG";

/// How a pinning-enable value was understood.
///
/// AYON's C++ resolver turns pinning on for *any* value but the exact string `false`, so
/// `ENABLE_STATIC_GLOBAL_CACHE=0` switches it **on** there. We accept, case-insensitively,
/// `1`, `true`, `yes`, `on` as on and `0`, `false`, `no`, `off` and the empty string as off;
/// any other value is treated as on (as AYON does) and reported, so a typo is visible.
/// ayon-usd's own farm hook writes `1`, which means on in both.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PinningSwitch {
    /// Not set, or set to an off value.
    #[default]
    Off,
    /// Set to an on value.
    On,
    /// Set to a value we do not recognise: treated as on, reported in diagnostics.
    Unrecognised(String),
}

impl PinningSwitch {
    /// Reads one value.
    pub fn parse(value: Option<&str>) -> PinningSwitch {
        let Some(v) = value else {
            return PinningSwitch::Off;
        };
        match v.trim().to_ascii_lowercase().as_str() {
            "" | "0" | "false" | "no" | "off" => PinningSwitch::Off,
            "1" | "true" | "yes" | "on" => PinningSwitch::On,
            _ => PinningSwitch::Unrecognised(v.to_owned()),
        }
    }

    /// Whether pinning mode is on.
    pub fn is_on(&self) -> bool {
        !matches!(self, PinningSwitch::Off)
    }
}

/// The resolver's environment, read once.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct EnvConfig {
    /// `AYON_SERVER_URL`.
    pub server_url: Option<String>,
    /// `AYON_API_KEY` (never printed by `Debug`).
    pub api_key: Option<String>,
    /// `AYON_SITE_ID`, else the first line of the launcher's `site_id` file.
    pub site_id: Option<String>,
    /// `AYON_PROJECT_NAME`.
    pub project: Option<String>,
    /// `AYON_OFFLINE_CACHE_DIR`.
    pub cache_dir: Option<PathBuf>,
    /// `AYON_USD_RESOLVER_ENABLE_PINNING`, else `ENABLE_STATIC_GLOBAL_CACHE`.
    pub pinning: PinningSwitch,
    /// `AYON_USD_RESOLVER_PINNING_FILE`, else `PINNING_FILE_PATH`.
    pub pinning_file: Option<PathBuf>,
    /// `PXR_AR_DEFAULT_SEARCH_PATH`, as given.
    pub search_path: Option<String>,
    /// `AYON_OFFLINE_REDIS_URL`: the shared cache tier (may hold an ACL password: never
    /// printed by `Debug`).
    pub redis_url: Option<String>,
    /// `AYON_OFFLINE_REDIS_PREFIX`: the shared tier's key prefix.
    pub redis_prefix: Option<String>,
    /// `AYON_OFFLINE_REDIS_CA_FILE`: the CA of a `rediss://` shared tier.
    pub redis_ca_file: Option<PathBuf>,
    /// Variables that were set but could not be used (not Unicode), by name.
    pub unreadable: Vec<&'static str>,
}

impl std::fmt::Debug for EnvConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnvConfig")
            .field("server_url", &self.server_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .field("site_id", &self.site_id)
            .field("project", &self.project)
            .field("cache_dir", &self.cache_dir)
            .field("pinning", &self.pinning)
            .field("pinning_file", &self.pinning_file)
            .field("search_path", &self.search_path)
            .field("redis", &self.redis_config())
            .field("unreadable", &self.unreadable)
            .finish()
    }
}

impl EnvConfig {
    /// Reads the process environment (and the launcher's site-id file when needed).
    pub fn from_process_env() -> EnvConfig {
        let mut unreadable = Vec::new();
        let mut config = EnvConfig::from_lookup(|name| match std::env::var(name) {
            Ok(v) => Some(v),
            Err(std::env::VarError::NotPresent) => None,
            Err(std::env::VarError::NotUnicode(_)) => {
                unreadable.push(name);
                None
            }
        });
        if config.site_id.is_none() {
            config.site_id = launcher_site_id();
        }
        config.unreadable = unreadable;
        config
    }

    /// Reads the variables through `lookup` (tests and hosts with their own environment);
    /// blank values count as unset. Does not read the site-id file.
    pub fn from_lookup(mut lookup: impl FnMut(&'static str) -> Option<String>) -> EnvConfig {
        let mut get = |name: &'static str| lookup(name).filter(|v| !v.trim().is_empty());
        let pinning_raw = get(PINNING_ENABLE_ENV).or_else(|| get(LEGACY_PINNING_ENABLE_ENV));
        EnvConfig {
            server_url: get(SERVER_URL_ENV),
            api_key: get(API_KEY_ENV).map(|k| k.trim().to_owned()),
            site_id: get(SITE_ID_ENV).map(|s| s.trim().to_owned()),
            project: get(PROJECT_ENV),
            cache_dir: get(ayon_cache::CACHE_DIR_ENV).map(PathBuf::from),
            pinning: PinningSwitch::parse(pinning_raw.as_deref()),
            pinning_file: get(PINNING_FILE_ENV)
                .or_else(|| get(LEGACY_PINNING_FILE_ENV))
                .map(PathBuf::from),
            search_path: get(crate::fs::SEARCH_PATH_ENV),
            redis_url: get(ayon_cache::REDIS_URL_ENV),
            redis_prefix: get(ayon_cache::REDIS_PREFIX_ENV),
            redis_ca_file: get(ayon_cache::REDIS_CA_FILE_ENV).map(PathBuf::from),
            unreadable: Vec::new(),
        }
    }

    /// The shared cache tier these variables describe, if any (read by ayon-cache's one rule,
    /// [`ayon_cache::RedisConfig::from_lookup`]).
    pub fn redis_config(&self) -> Option<ayon_cache::RedisConfig> {
        ayon_cache::RedisConfig::from_lookup(|name| match name {
            ayon_cache::REDIS_URL_ENV => self.redis_url.clone(),
            ayon_cache::REDIS_PREFIX_ENV => self.redis_prefix.clone(),
            ayon_cache::REDIS_CA_FILE_ENV => {
                self.redis_ca_file.as_ref().map(|p| p.display().to_string())
            }
            _ => None,
        })
    }
}

/// The site id the AYON launcher generated for this machine: the first line of
/// `site_id` in its data directory (`appdirs.user_data_dir("ayon", "ynput")`).
pub fn launcher_site_id() -> Option<String> {
    let path = launcher_data_dir()?.join("site_id");
    let text = std::fs::read_to_string(path).ok()?;
    let first = text.lines().next()?.trim();
    (!first.is_empty()).then(|| first.to_owned())
}

/// `appdirs.user_data_dir("ayon", "ynput")` on this platform.
fn launcher_data_dir() -> Option<PathBuf> {
    let var = |n: &str| {
        std::env::var_os(n)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if cfg!(windows) {
        Some(var("LOCALAPPDATA")?.join("ynput").join("ayon"))
    } else if cfg!(target_os = "macos") {
        Some(var("HOME")?.join("Library/Application Support/ayon"))
    } else {
        var("XDG_DATA_HOME")
            .or_else(|| Some(var("HOME")?.join(".local/share")))
            .map(|d| d.join("ayon"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&'static str, &str)]) -> EnvConfig {
        let map: HashMap<&str, String> = pairs.iter().map(|(k, v)| (*k, v.to_string())).collect();
        EnvConfig::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn pinning_switch_values() {
        for on in ["1", "true", "TRUE", "yes", "On"] {
            assert_eq!(PinningSwitch::parse(Some(on)), PinningSwitch::On, "{on}");
        }
        for off in ["0", "false", "False", "no", "off", " "] {
            assert_eq!(PinningSwitch::parse(Some(off)), PinningSwitch::Off, "{off}");
        }
        assert_eq!(PinningSwitch::parse(None), PinningSwitch::Off);
        let odd = PinningSwitch::parse(Some("enabled"));
        assert!(odd.is_on());
        assert_eq!(odd, PinningSwitch::Unrecognised("enabled".into()));
    }

    #[test]
    fn current_names_win_over_legacy_ones() {
        let c = env(&[
            (PINNING_ENABLE_ENV, "0"),
            (LEGACY_PINNING_ENABLE_ENV, "1"),
            (PINNING_FILE_ENV, "/new.json"),
            (LEGACY_PINNING_FILE_ENV, "/old.json"),
        ]);
        assert_eq!(c.pinning, PinningSwitch::Off);
        assert_eq!(c.pinning_file, Some(PathBuf::from("/new.json")));
        let legacy = env(&[
            (LEGACY_PINNING_ENABLE_ENV, "1"),
            (LEGACY_PINNING_FILE_ENV, "/old.json"),
        ]);
        assert!(legacy.pinning.is_on());
        assert_eq!(legacy.pinning_file, Some(PathBuf::from("/old.json")));
    }

    #[test]
    fn blank_is_unset_and_the_key_is_never_printed() {
        let c = env(&[
            (SERVER_URL_ENV, "  "),
            (API_KEY_ENV, " sekrit-key "),
            (SITE_ID_ENV, "my-site"),
        ]);
        assert_eq!(c.server_url, None);
        assert_eq!(c.api_key.as_deref(), Some("sekrit-key"));
        assert_eq!(c.site_id.as_deref(), Some("my-site"));
        assert!(!format!("{c:?}").contains("sekrit"));
    }

    #[test]
    fn the_shared_tier_comes_from_the_environment_and_its_password_is_never_printed() {
        assert!(env(&[]).redis_config().is_none());
        let c = env(&[
            (
                ayon_cache::REDIS_URL_ENV,
                "redis://farm:hunter2@redis.farm:6379/2",
            ),
            (ayon_cache::REDIS_PREFIX_ENV, "show-x:"),
        ]);
        let redis = c.redis_config().expect("configured");
        assert_eq!(redis.key_prefix(), "show-x:");
        assert_eq!(redis.shown_url(), "redis://***@redis.farm:6379/2");
        assert!(!format!("{c:?}").contains("hunter2"), "{c:?}");
    }
}
