//! ayon-pinning (work in progress).
