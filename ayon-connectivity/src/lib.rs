//! ayon-connectivity (work in progress).
