//! Batch planning: parse every input once, answer invalid ones locally, send each distinct URI
//! once, and put the answers back in input order.

use std::borrow::Cow;
use std::collections::HashMap;

use ayon_uri::{AyonUri, UriError};

use crate::error::{ClientError, ResolveError};
use crate::resolution::Resolution;

/// Per distinct URI of a [`Plan`]: its answer, or `None` while still to be found.
pub(crate) type Answers = Vec<Option<Result<Resolution, ResolveError>>>;

/// Anything the client can resolve: a string as a host would pass it, or an already parsed URI.
pub trait UriInput {
    /// The input as the caller wrote it (echoed back in answers and errors).
    fn as_input(&self) -> Cow<'_, str>;
    /// The parsed URI, or the parser's verdict.
    fn to_uri(&self) -> Result<AyonUri, UriError>;
}

impl UriInput for str {
    fn as_input(&self) -> Cow<'_, str> {
        Cow::Borrowed(self)
    }
    fn to_uri(&self) -> Result<AyonUri, UriError> {
        AyonUri::parse(self)
    }
}

impl UriInput for &str {
    fn as_input(&self) -> Cow<'_, str> {
        Cow::Borrowed(self)
    }
    fn to_uri(&self) -> Result<AyonUri, UriError> {
        AyonUri::parse(self)
    }
}

impl UriInput for String {
    fn as_input(&self) -> Cow<'_, str> {
        Cow::Borrowed(self)
    }
    fn to_uri(&self) -> Result<AyonUri, UriError> {
        AyonUri::parse(self)
    }
}

impl UriInput for AyonUri {
    fn as_input(&self) -> Cow<'_, str> {
        Cow::Owned(self.to_string())
    }
    fn to_uri(&self) -> Result<AyonUri, UriError> {
        Ok(self.clone())
    }
}

impl UriInput for &AyonUri {
    fn as_input(&self) -> Cow<'_, str> {
        Cow::Owned(self.to_string())
    }
    fn to_uri(&self) -> Result<AyonUri, UriError> {
        Ok((*self).clone())
    }
}

/// One distinct URI of a batch.
#[derive(Debug, Clone)]
pub(crate) struct Unique {
    /// Parsed.
    pub uri: AyonUri,
    /// What we send and what keys the cache: one string per meaning.
    pub canonical: String,
}

/// A batch after parsing and deduplication.
#[derive(Debug)]
pub(crate) struct Plan {
    /// Per input, in order: its input string and either the index of its distinct URI or the
    /// local verdict (invalid URIs never reach the server).
    pub slots: Vec<(String, Result<usize, ResolveError>)>,
    /// The distinct valid URIs, in first-seen order.
    pub unique: Vec<Unique>,
}

impl Plan {
    /// Parses and deduplicates `inputs` (by canonical form, so `ayon://p//a?version=4` and
    /// `ayon+entity://p/a?version=v004` are one request).
    pub fn new<T: UriInput>(inputs: &[T]) -> Plan {
        let mut index: HashMap<String, usize> = HashMap::with_capacity(inputs.len());
        let mut unique = Vec::new();
        let mut slots = Vec::with_capacity(inputs.len());
        for input in inputs {
            let text = input.as_input().into_owned();
            let slot = match input.to_uri() {
                Err(error) => Err(ResolveError::Invalid {
                    message: error.server_message(),
                    uri: text.clone(),
                    error,
                }),
                Ok(uri) => {
                    let canonical = uri.canonical();
                    let next = unique.len();
                    let i = *index.entry(canonical.clone()).or_insert(next);
                    if i == next {
                        unique.push(Unique { uri, canonical });
                    }
                    Ok(i)
                }
            };
            slots.push((text, slot));
        }
        Plan { slots, unique }
    }

    /// The same whole-request failure as every distinct URI's answer.
    pub fn fail(&self, error: &ClientError) -> Answers {
        self.unique
            .iter()
            .map(|u| {
                Some(Err(ResolveError::Request {
                    uri: u.canonical.clone(),
                    error: error.clone(),
                }))
            })
            .collect()
    }

    /// Puts per-distinct-URI answers back in input order, each naming its own input string.
    pub fn assemble<T, F>(
        self,
        mut answers: Vec<Option<Result<T, ResolveError>>>,
        rename: F,
    ) -> Vec<Result<T, ResolveError>>
    where
        T: Clone,
        F: Fn(T, &str) -> T,
    {
        let mut uses = vec![0usize; answers.len()];
        for (_, slot) in &self.slots {
            if let Ok(i) = slot {
                uses[*i] += 1;
            }
        }
        self.slots
            .into_iter()
            .map(|(text, slot)| match slot {
                Err(e) => Err(e),
                Ok(i) => {
                    uses[i] -= 1;
                    // The last user takes the answer, earlier duplicates clone it.
                    let answer = if uses[i] == 0 {
                        answers[i].take()
                    } else {
                        answers[i].clone()
                    };
                    match answer {
                        Some(Ok(v)) => Ok(rename(v, &text)),
                        Some(Err(e)) => Err(e.with_uri(&text)),
                        None => Err(ResolveError::Request {
                            uri: text,
                            error: ClientError::Runtime("no answer was produced".into()),
                        }),
                    }
                }
            })
            .collect()
    }
}

/// Splits `items` into consecutive chunks of at most `size` (≥ 1).
pub(crate) fn chunks<T>(items: &[T], size: usize) -> impl Iterator<Item = &[T]> {
    items.chunks(size.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "ayon+entity://demo/assets/a?product=p&version=v004&representation=usd";
    const A2: &str = "ayon://demo/assets/a/?product=p&version=4&representation=usd";
    const B: &str = "ayon+entity://demo/assets/b?product=p&version=latest&representation=usd";

    #[test]
    fn dedups_by_meaning_and_keeps_order() {
        let inputs = [A, "not a uri", B, A2, A];
        let plan = Plan::new(&inputs);
        assert_eq!(plan.unique.len(), 2, "{:?}", plan.unique);
        assert_eq!(plan.slots.len(), 5);
        match &plan.slots[1].1 {
            Err(ResolveError::Invalid { uri, message, .. }) => {
                assert_eq!(uri, "not a uri");
                assert_eq!(message, "Invalid scheme: ");
            }
            other => panic!("{other:?}"),
        }
        let answers = vec![
            Some(Ok("answer-a".to_owned())),
            Some(Err(ResolveError::NotFound { uri: B.into() })),
        ];
        let out = plan.assemble(answers, |v, input| format!("{v} for {input}"));
        assert_eq!(out[0].as_deref().unwrap(), format!("answer-a for {A}"));
        assert_eq!(out[3].as_deref().unwrap(), format!("answer-a for {A2}"));
        assert_eq!(out[4].as_deref().unwrap(), format!("answer-a for {A}"));
        assert!(matches!(&out[2], Err(ResolveError::NotFound { uri }) if uri == B));
        assert_eq!(out[1].as_ref().unwrap_err().kind(), "invalid");
    }

    #[test]
    fn chunks_are_at_most_the_batch_size() {
        let v: Vec<u32> = (0..450).collect();
        let sizes: Vec<usize> = chunks(&v, 200).map(<[u32]>::len).collect();
        assert_eq!(sizes, [200, 200, 50]);
        assert_eq!(chunks(&v, 0).count(), 450);
        assert_eq!(chunks::<u32>(&[], 200).count(), 0);
    }
}
