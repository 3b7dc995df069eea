//! The index's tables. Every entity row carries its project's key and a `seq`: the position
//! the writer gave it (the server's creation order), which orders answers as the server's
//! unordered query returns them.

/// `PRAGMA application_id` of index files ("AYOI"): another program's file is moved aside.
pub(crate) const APPLICATION_ID: i32 = 0x4159_4f49;

/// Layout version in `PRAGMA user_version`; a larger one was written by a newer release.
pub(crate) const FORMAT_VERSION: u32 = 1;

/// File name of the index inside the cache directory.
pub const INDEX_FILE_NAME: &str = "index.sqlite";

pub(crate) const SCHEMA: &str = "
CREATE TABLE projects (
    pk INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    name_lower TEXT NOT NULL UNIQUE,
    code TEXT NOT NULL,
    anatomy_roots TEXT NOT NULL,
    site_id TEXT,
    site_platform TEXT,
    site_roots TEXT,
    subtrees TEXT NOT NULL,
    prepared_at_ms INTEGER NOT NULL,
    changed_at_ms INTEGER NOT NULL,
    generation INTEGER NOT NULL
);
CREATE TABLE statuses (
    project INTEGER NOT NULL,
    name TEXT NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (project, name)
) WITHOUT ROWID;
CREATE TABLE folders (
    project INTEGER NOT NULL,
    id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    path TEXT NOT NULL,
    folder_type TEXT NOT NULL,
    active INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (project, id)
) WITHOUT ROWID;
CREATE INDEX folders_by_path ON folders (project, path, seq);
CREATE INDEX folders_by_seq ON folders (project, seq);
CREATE TABLE tasks (
    project INTEGER NOT NULL,
    id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    folder_id TEXT NOT NULL,
    name TEXT NOT NULL,
    task_type TEXT NOT NULL,
    active INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (project, id)
) WITHOUT ROWID;
CREATE INDEX tasks_by_folder ON tasks (project, folder_id, seq);
CREATE TABLE products (
    project INTEGER NOT NULL,
    id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    folder_id TEXT NOT NULL,
    name TEXT NOT NULL,
    product_type TEXT NOT NULL,
    active INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (project, id)
) WITHOUT ROWID;
CREATE INDEX products_by_folder ON products (project, folder_id, seq);
CREATE INDEX products_by_name ON products (project, name);
CREATE TABLE versions (
    project INTEGER NOT NULL,
    id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    product_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    status TEXT NOT NULL,
    active INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (project, id)
) WITHOUT ROWID;
CREATE INDEX versions_by_product ON versions (project, product_id, seq);
CREATE TABLE representations (
    project INTEGER NOT NULL,
    id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    version_id TEXT NOT NULL,
    name TEXT NOT NULL,
    template TEXT,
    context TEXT NOT NULL,
    active INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (project, id)
) WITHOUT ROWID;
CREATE INDEX representations_by_version ON representations (project, version_id, seq);
CREATE TABLE workfiles (
    project INTEGER NOT NULL,
    id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    task_id TEXT NOT NULL,
    path TEXT NOT NULL,
    active INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (project, id)
) WITHOUT ROWID;
CREATE INDEX workfiles_by_task ON workfiles (project, task_id, seq);
CREATE TABLE server_projects (
    name TEXT NOT NULL PRIMARY KEY,
    name_lower TEXT NOT NULL,
    code TEXT NOT NULL,
    recorded_at_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX server_projects_by_lower ON server_projects (name_lower);
";

/// Added after format 1 shipped, so created on every open when missing (older releases ignore
/// it): what the last prepare of a project needs to fetch only changes next time.
pub(crate) const ADDED_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS prepare_marks (
    project INTEGER PRIMARY KEY,
    mark TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS version_limits (
    project INTEGER PRIMARY KEY,
    newest INTEGER NOT NULL
);
";

/// The entity tables, parents first (deletes run in reverse).
pub(crate) const ENTITY_TABLES: [&str; 6] = [
    "folders",
    "tasks",
    "products",
    "versions",
    "representations",
    "workfiles",
];
