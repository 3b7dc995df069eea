//! ayon-testkit (work in progress).
