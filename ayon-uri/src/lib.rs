//! ayon-uri (work in progress).
