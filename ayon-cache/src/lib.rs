//! ayon-cache (work in progress).
