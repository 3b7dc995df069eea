//! Credentials, the one rule that tells a session token from an API key, and the wrapper that
//! keeps secrets out of logs.
//!
//! # The token rule
//!
//! A bare secret (what `AYON_API_KEY` or `--api-key` holds) is a **session token** when it is
//! exactly 64 characters of `0-9a-f`, and an **API key** otherwise. Why, from the server's code
//! (ayon-backend 1.16): the server never inspects a secret to decide; it goes by the header.
//! `Authorization: Bearer <t>` is taken as a session only when `t` is exactly 64 characters
//! long (`parse_access_token`), and the sessions it issues are `secrets.token_hex(32)`: 64
//! lower-case hex characters, looked up by exact string. An upper-case spelling therefore can
//! never name a session, so it is an API key (sent as `x-api-key`), and so is anything of
//! another length. ayon-python-api, given a bare secret, tries `Bearer` first and falls back to
//! `x-api-key` on 401; this rule picks the header that would succeed without the extra request.

use std::fmt;

/// A token or API key. `Debug` and `Display` print `***`; only [`Secret::expose`] reveals it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a credential so it cannot be printed by accident.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The credential itself, for the one place that must send it over the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Secret {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Secret {
        Secret(value.to_owned())
    }
}

/// True for a string the server could have issued as a session token: exactly 64 characters of
/// `0-9a-f` (see [the token rule](self#the-token-rule)).
pub fn is_session_token(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// How a client proves who it is to the server; the secret never appears in `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// A session token (from a login), sent as `Authorization: Bearer`.
    Token(Secret),
    /// A service or personal API key, sent as `x-api-key`. The server's `/ws` accepts it only
    /// after one REST call with it.
    ApiKey(Secret),
}

impl Credential {
    /// Picks the kind of a bare secret by [the token rule](self#the-token-rule): a session token
    /// for 64 lower-case hex characters, an API key for anything else.
    pub fn from_secret(secret: impl Into<String>) -> Credential {
        let secret = secret.into();
        if is_session_token(&secret) {
            Credential::Token(Secret(secret))
        } else {
            Credential::ApiKey(Secret(secret))
        }
    }

    /// A session token, whatever its form (the server refuses what is not one).
    pub fn token(token: impl Into<String>) -> Credential {
        Credential::Token(Secret::new(token))
    }

    /// An API key.
    pub fn api_key(key: impl Into<String>) -> Credential {
        Credential::ApiKey(Secret::new(key))
    }

    /// The secret, whichever kind.
    pub fn secret(&self) -> &Secret {
        match self {
            Credential::Token(s) | Credential::ApiKey(s) => s,
        }
    }

    /// True for a session token (sent as `Authorization: Bearer`).
    pub fn is_token(&self) -> bool {
        matches!(self, Credential::Token(_))
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::Token(_) => f.write_str("Token(***)"),
            Credential::ApiKey(_) => f.write_str("ApiKey(***)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_the_value() {
        let s = Secret::new("deadbeefsecret");
        assert!(!format!("{s:?}").contains("deadbeef"));
        assert!(!format!("{s}").contains("deadbeef"));
        assert!(!format!("{:#?}", Some(&s)).contains("deadbeef"));
        assert_eq!(s.expose(), "deadbeefsecret");
        for c in [
            Credential::token("deadbeef"),
            Credential::api_key("deadbeef"),
        ] {
            assert!(!format!("{c:?}").contains("deadbeef"));
            assert!(!format!("{:#?}", Some(&c)).contains("deadbeef"));
        }
    }

    #[test]
    fn the_token_rule() {
        let issued = "0123456789abcdef".repeat(4);
        assert!(is_session_token(&issued));
        assert!(is_session_token(&"a".repeat(64)));
        // Upper case can never name an issued session (token_hex is lower case, looked up exactly).
        assert!(!is_session_token(&issued.to_ascii_uppercase()));
        assert!(!is_session_token(&"A".repeat(64)));
        for bad in [
            "",
            "abcdef",
            &"a".repeat(63),
            &"a".repeat(65),
            &"g".repeat(64),
            &format!("{} ", "a".repeat(63)),
            // 32 alphanumerics: what the server's API keys look like.
            "abcdefghijabcdefghijabcdefghij12",
        ] {
            assert!(!is_session_token(bad), "{bad:?}");
        }
        // Multi-byte characters: 64 bytes but not 64 hex characters.
        assert!(!is_session_token(&"é".repeat(32)));
    }

    #[test]
    fn from_secret_follows_the_rule() {
        let t = Credential::from_secret("a".repeat(64));
        assert!(matches!(t, Credential::Token(_)) && t.is_token());
        assert_eq!(t.secret().expose(), "a".repeat(64));
        let k = Credential::from_secret("abcdefghijabcdefghijabcdefghij12");
        assert!(matches!(k, Credential::ApiKey(_)) && !k.is_token());
        assert!(matches!(
            Credential::from_secret("A".repeat(64)),
            Credential::ApiKey(_)
        ));
        assert!(matches!(
            Credential::from_secret("abcdef"),
            Credential::ApiKey(_)
        ));
    }
}
