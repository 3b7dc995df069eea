//! Roots from the environment, as the ayon-usd farm hook passes them to AYON's resolver.

use ayon_site::{Roots, RootsError};

/// The environment variable the ayon-usd farm hook sets (`name=value,name=value`).
pub const ROOTS_ENV: &str = "AYON_USD_RESOLVER_PINNING_ROOTS";

/// The deprecated variable older resolvers read; consulted only when [`ROOTS_ENV`] is unset or blank.
pub const LEGACY_ROOTS_ENV: &str = "PROJECT_ROOTS";

/// Roots (for the running OS) from the values of [`ROOTS_ENV`] and [`LEGACY_ROOTS_ENV`], passed
/// in so callers (and tests) need not touch the process environment.
///
/// The first value that is present and not blank is parsed ([`Roots::parse`], errors naming
/// the variable); neither gives no roots.
pub fn roots_from_env_values(
    pinning_roots: Option<&str>,
    project_roots: Option<&str>,
) -> Result<Roots, RootsError> {
    if let Some(v) = pinning_roots.filter(|v| !v.trim().is_empty()) {
        return Roots::parse_from(v, ROOTS_ENV);
    }
    if let Some(v) = project_roots.filter(|v| !v.trim().is_empty()) {
        return Roots::parse_from(v, LEGACY_ROOTS_ENV);
    }
    Ok(Roots::new())
}

/// Reads [`ROOTS_ENV`], then [`LEGACY_ROOTS_ENV`], as [`roots_from_env_values`] does.
pub fn roots_from_env() -> Result<Roots, RootsError> {
    let current = env_string(ROOTS_ENV)?;
    let legacy = env_string(LEGACY_ROOTS_ENV)?;
    roots_from_env_values(current.as_deref(), legacy.as_deref())
}

fn env_string(name: &str) -> Result<Option<String>, RootsError> {
    match std::env::var_os(name) {
        None => Ok(None),
        Some(v) => v
            .into_string()
            .map(Some)
            .map_err(|_| RootsError::NotUnicode {
                origin: name.to_owned(),
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_values_prefer_the_current_variable_then_legacy() {
        let r = roots_from_env_values(Some("work=/new"), Some("work:/old")).unwrap();
        assert_eq!(r.get("work"), Some("/new"));
        let r = roots_from_env_values(None, Some("work:/old")).unwrap();
        assert_eq!(r.get("work"), Some("/old"));
        let r = roots_from_env_values(Some("  "), Some("work:/old")).unwrap();
        assert_eq!(r.get("work"), Some("/old"));
        assert!(roots_from_env_values(None, None).unwrap().is_empty());
    }

    #[test]
    fn env_errors_name_the_variable() {
        let err = roots_from_env_values(Some("oops"), None).unwrap_err();
        assert!(err.to_string().starts_with(ROOTS_ENV), "{err}");
        let err = roots_from_env_values(None, Some("work:/a,oops")).unwrap_err();
        assert!(err.to_string().starts_with(LEGACY_ROOTS_ENV), "{err}");
    }
}
