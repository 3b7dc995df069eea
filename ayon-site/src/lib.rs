//! The vocabulary every AYON offline crate shares, defined once: the ground floor of the
//! workspace (it depends on none of our crates).
//!
//! - [`Platform`]: a site's operating system family by AYON's names.
//! - [`Roots`]: one site's `{root[NAME]}` values, the one substitution (rootless → real path,
//!   as the server roots a path) and its inverse ([`Roots::make_rootless`]).
//! - [`Credential`] and [`Secret`]: how a client authenticates, with the one rule that tells a
//!   session token from an API key ([`is_session_token`]); secrets never print.
//! - [`ServerUrl`]: a server's base URL in one normalised spelling (one cache namespace per
//!   server), with its REST and `/ws` URLs.
//! - [`template`]: the anatomy template formatter the server's `/api/resolve` uses
//!   (`{root[work]}/{project[name]}/.../v{version:0>3}<_{output}>.{ext}` + context → path).
//! - [`server_time`]: the server's `createdAt` / `updatedAt` timestamps, read and written.
//!
//! ```
//! use ayon_site::{Platform, Roots};
//!
//! let roots = Roots::parse("work=P:/projects")?.with_platform(Platform::Windows);
//! // The server writes `\` for Windows sites, also in rootless paths.
//! assert_eq!(
//!     roots.substitute("{root[work]}\\demo\\hero.usd")?,
//!     "P:\\projects\\demo\\hero.usd"
//! );
//! assert_eq!(roots.make_rootless("p:\\Projects\\demo\\a.usd"), "{root[work]}\\demo\\a.usd");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod credential;
mod platform;
pub mod roots;
pub mod server_time;
mod server_url;
pub mod template;

pub use credential::{Credential, Secret, is_session_token};
pub use platform::{Platform, UnknownPlatform};
pub use roots::{Rootless, Roots, RootsError, UnknownRoot, is_windows_path, root_names};
pub use server_time::{format_server_time, parse_server_time, parse_server_time_micros};
pub use server_url::{ServerUrl, ServerUrlError};
pub use template::{Formatted, Template, TemplateError, representation_path};
