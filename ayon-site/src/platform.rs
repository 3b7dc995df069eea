//! The operating system family of a site: it picks the anatomy roots and the path separator.

use std::fmt;
use std::str::FromStr;

/// The operating system family of a site, by AYON's names (`windows`, `linux`, `darwin`).
///
/// The server keeps one root path per platform in a project's anatomy and writes `\` in the
/// paths it resolves for Windows sites; everything that turns a rootless path into a real one
/// follows the platform of the site it is for, not necessarily the running OS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Platform {
    /// Windows: paths use `\`.
    Windows,
    /// Linux.
    Linux,
    /// macOS (AYON calls it `darwin`).
    Darwin,
}

impl Platform {
    /// Every platform AYON knows, in the order its anatomy lists them.
    pub const ALL: [Platform; 3] = [Platform::Windows, Platform::Linux, Platform::Darwin];

    /// The platform this process runs on (anything not Windows or macOS counts as Linux).
    pub fn current() -> Platform {
        if cfg!(windows) {
            Platform::Windows
        } else if cfg!(target_os = "macos") {
            Platform::Darwin
        } else {
            Platform::Linux
        }
    }

    /// The name the server uses (`x-ayon-platform`, `siteRoots?platform=`, anatomy root keys).
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Windows => "windows",
            Platform::Linux => "linux",
            Platform::Darwin => "darwin",
        }
    }

    /// Parses the server's name for a platform, ignoring ASCII case.
    pub fn parse(s: &str) -> Option<Platform> {
        Platform::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// The path separator the server writes for a site of this platform.
    pub fn separator(self) -> char {
        match self {
            Platform::Windows => '\\',
            Platform::Linux | Platform::Darwin => '/',
        }
    }

    /// True for Windows, whose paths the server writes with `\`.
    pub fn is_windows(self) -> bool {
        self == Platform::Windows
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A platform name that is not `windows`, `linux` or `darwin`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown platform `{0}` (expected windows, linux or darwin)")]
pub struct UnknownPlatform(pub String);

impl FromStr for Platform {
    type Err = UnknownPlatform;

    fn from_str(s: &str) -> Result<Platform, UnknownPlatform> {
        Platform::parse(s).ok_or_else(|| UnknownPlatform(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_names_round_trip() {
        for p in [Platform::Windows, Platform::Linux, Platform::Darwin] {
            assert_eq!(Platform::parse(p.as_str()), Some(p));
            assert_eq!(p.to_string().parse::<Platform>(), Ok(p));
        }
        assert_eq!(Platform::parse("amiga"), None);
        assert_eq!(Platform::parse(" Windows "), Some(Platform::Windows));
        assert_eq!(Platform::Windows.separator(), '\\');
        assert_eq!(Platform::Darwin.separator(), '/');
        let err = "amiga".parse::<Platform>().unwrap_err();
        assert!(err.to_string().contains("amiga"), "{err}");
    }

    #[test]
    fn current_is_one_of_them() {
        let c = Platform::current();
        assert!(Platform::ALL.contains(&c));
        assert_eq!(c.is_windows(), cfg!(windows));
    }
}
