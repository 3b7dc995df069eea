//! Relay-style pagination exactly as the real server pages (`ayon_server/graphql/resolvers`).
//!
//! Results are ordered by creation order; a cursor is base64 of the JSON list of the sort key
//! (`[3]` -> `WzNd`); an unreadable cursor is ignored (the server logs it and starts over);
//! `first` defaults to 100; `hasNextPage` is `edges >= first` (true on an exactly full last page,
//! a quirk of the server kept on purpose); `last` returns the newest items in descending order.

use async_graphql::SimpleObject;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Page size when neither `first` nor `last` is given (the server's `DEFAULT_PAGE_SIZE`).
const DEFAULT_PAGE_SIZE: usize = 100;

/// The `pageInfo` object of every connection.
#[derive(Debug, Clone, Default, SimpleObject)]
#[graphql(name = "PageInfo")]
pub(crate) struct PageInfo {
    pub(crate) has_next_page: bool,
    pub(crate) has_previous_page: bool,
    pub(crate) start_cursor: Option<String>,
    pub(crate) end_cursor: Option<String>,
}

/// The pagination arguments of a connection field.
#[derive(Debug, Clone, Default)]
pub(crate) struct PageArgs {
    pub(crate) first: Option<i32>,
    pub(crate) after: Option<String>,
    pub(crate) last: Option<i32>,
    pub(crate) before: Option<String>,
}

impl PageArgs {
    /// The Relay arguments in the order every connection field declares them.
    pub(crate) fn new(
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> PageArgs {
        PageArgs {
            first,
            after,
            last,
            before,
        }
    }
}

/// The cursor of the item with this creation order.
pub(crate) fn encode_cursor(order: usize) -> String {
    STANDARD.encode(format!("[{order}]"))
}

/// The creation order a cursor points at; `None` for a cursor the server would ignore.
fn decode_cursor(cursor: &str) -> Option<u64> {
    let bytes = STANDARD.decode(cursor.trim()).ok()?;
    let list: Vec<serde_json::Value> = serde_json::from_slice(&bytes).ok()?;
    let first = list.first()?;
    first.as_u64().or_else(|| first.as_f64().map(|f| f as u64))
}

/// One page of `items`, each given with its creation order (1-based, ascending).
pub(crate) fn paginate<T>(items: Vec<(usize, T)>, args: &PageArgs) -> (Vec<(String, T)>, PageInfo) {
    let cursor = args.before.as_deref().or(args.after.as_deref());
    let bound = cursor.filter(|c| !c.is_empty()).and_then(decode_cursor);
    let backwards = args.before.is_some();
    let mut items: Vec<(usize, T)> = items
        .into_iter()
        .filter(|(order, _)| match bound {
            None => true,
            Some(b) if backwards => (*order as u64) < b,
            Some(b) => (*order as u64) > b,
        })
        .collect();
    let first = args.first.filter(|n| *n > 0).map(|n| n as usize);
    let last = args.last.filter(|n| *n > 0).map(|n| n as usize);
    let mut info = PageInfo::default();
    let count = match (first, last) {
        (Some(n), _) => n,
        (None, Some(n)) => {
            items.reverse();
            n
        }
        (None, None) => DEFAULT_PAGE_SIZE,
    };
    items.truncate(count);
    let edges: Vec<(String, T)> = items
        .into_iter()
        .map(|(order, item)| (encode_cursor(order), item))
        .collect();
    if first.is_some() || last.is_none() {
        info.has_next_page = edges.len() >= count;
    } else {
        info.has_previous_page = edges.len() >= count;
    }
    info.start_cursor = edges.first().map(|(c, _)| c.clone());
    info.end_cursor = edges.last().map(|(c, _)| c.clone());
    (edges, info)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(n: usize, args: PageArgs) -> (Vec<usize>, PageInfo) {
        let items = (1..=n).map(|i| (i, i)).collect();
        let (edges, info) = paginate(items, &args);
        (edges.into_iter().map(|(_, i)| i).collect(), info)
    }

    #[test]
    fn cursors_are_base64_json_lists_like_the_recording() {
        assert_eq!(encode_cursor(3), "WzNd");
        assert_eq!(encode_cursor(1), "WzFd");
        assert_eq!(encode_cursor(6), "WzZd");
        assert_eq!(decode_cursor("WzRd"), Some(4));
        assert_eq!(decode_cursor("not base64!"), None);
    }

    #[test]
    fn first_after_walks_every_item_once() {
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let args = PageArgs::new(Some(3), after.clone(), None, None);
            let (ids, info) = page(7, args);
            seen.extend(ids);
            if !info.has_next_page {
                break;
            }
            after = info.end_cursor;
        }
        assert_eq!(seen, (1..=7).collect::<Vec<_>>());
    }

    #[test]
    fn exactly_full_page_reports_a_next_page_like_the_server() {
        let (ids, info) = page(3, PageArgs::new(Some(3), None, None, None));
        assert_eq!(ids, [1, 2, 3]);
        assert!(info.has_next_page);
        let after = info.end_cursor.clone();
        let (ids, info) = page(3, PageArgs::new(Some(3), after, None, None));
        assert!(ids.is_empty());
        assert!(!info.has_next_page);
        assert_eq!(info.end_cursor, None);
    }

    #[test]
    fn last_and_before_go_backwards_newest_first() {
        let (ids, info) = page(5, PageArgs::new(None, None, Some(2), None));
        assert_eq!(ids, [5, 4]);
        assert!(info.has_previous_page);
        let before = Some(encode_cursor(4));
        let (ids, _) = page(5, PageArgs::new(None, None, Some(10), before));
        assert_eq!(ids, [3, 2, 1]);
    }

    #[test]
    fn bad_cursor_starts_from_the_beginning() {
        let after = Some("garbage".to_owned());
        let (ids, _) = page(2, PageArgs::new(Some(5), after, None, None));
        assert_eq!(ids, [1, 2]);
    }
}
