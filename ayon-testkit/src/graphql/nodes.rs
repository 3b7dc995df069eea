//! The GraphQL object types, named and shaped like the real server's strawberry types.
//!
//! A connection resolver scans the project under a short read lock, pages the matches and
//! copies out only the entities of that page (never the whole project: that cost more than the
//! query itself). Parent fields (`version.product.folder`) look their entity up again by id.
//! Only the fields ayon-python-api 1.2.25 asks for by default (plus a few cheap neighbours)
//! exist; any other field is a GraphQL validation error that names it.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_graphql::{Object, SimpleObject};
use parking_lot::RwLock;

use super::events::EventNode;
use super::filter::{Cell, Columns, QueryFilter};
use super::json::{attrib_text, data_text, json_text};
use super::page::{PageArgs, PageInfo, paginate};
use super::status_error;
use crate::library::{
    Folder, Library, Object as JsonObject, Product, Project, Representation, Task, Version,
};

/// The library handle every node carries to look up its parents.
pub(crate) type SharedLibrary = Arc<RwLock<Library>>;

macro_rules! connection {
    ($conn:ident, $edge:ident, $node:ident) => {
        /// A Relay connection: one page of nodes plus `pageInfo`.
        #[derive(SimpleObject)]
        pub(crate) struct $conn {
            edges: Vec<$edge>,
            page_info: PageInfo,
        }

        /// One node of a connection with its cursor.
        #[derive(SimpleObject)]
        pub(crate) struct $edge {
            node: $node,
            cursor: String,
        }

        impl $conn {
            /// Pages `items` (creation order, entity) and turns the page into nodes.
            pub(super) fn page<T>(
                items: Vec<(usize, T)>,
                args: &PageArgs,
                mut node: impl FnMut(T) -> $node,
            ) -> $conn {
                let (edges, page_info) = paginate(items, args);
                $conn {
                    edges: edges
                        .into_iter()
                        .map(|(cursor, item)| $edge {
                            node: node(item),
                            cursor,
                        })
                        .collect(),
                    page_info,
                }
            }

            pub(super) fn empty() -> $conn {
                $conn {
                    edges: Vec::new(),
                    page_info: PageInfo::default(),
                }
            }
        }
    };
}

connection!(FoldersConnection, FolderEdge, FolderNode);
connection!(ProductsConnection, ProductEdge, ProductNode);
connection!(TasksConnection, TaskEdge, TaskNode);
connection!(VersionsConnection, VersionEdge, VersionNode);
connection!(
    RepresentationsConnection,
    RepresentationEdge,
    RepresentationNode
);
connection!(EventsConnection, EventEdge, EventNode);

/// True when the filter is absent or `value` is one of its items.
fn allows(filter: &Option<Vec<String>>, value: &str) -> bool {
    filter.as_ref().is_none_or(|l| l.iter().any(|x| x == value))
}

/// True when the filter is absent or the entity carries every tag it lists.
fn has_tags(filter: &Option<Vec<String>>, tags: &[String]) -> bool {
    filter
        .as_ref()
        .is_none_or(|want| want.iter().all(|t| tags.contains(t)))
}

/// The server answers an empty list filter (`ids: []`) with an empty connection.
fn any_empty(filters: &[&Option<Vec<String>>]) -> bool {
    filters
        .iter()
        .any(|f| f.as_ref().is_some_and(Vec::is_empty))
}

/// The columns every entity has: id, name, status, active and its times (`Null` for others).
fn common_cell<'a>(
    column: &str,
    id: &'a str,
    name: &'a str,
    status: &'a str,
    active: bool,
    times: (&'a str, &'a str),
) -> Cell<'a> {
    match column {
        "id" => Cell::Text(id),
        "name" => Cell::Text(name),
        "status" => Cell::Text(status),
        "active" => Cell::Bool(active),
        "created_at" => Cell::Time(times.0),
        "updated_at" => Cell::Time(times.1),
        _ => Cell::Null,
    }
}

/// [`common_cell`] of an entity with `id`, `name`, `status`, `active` and its times.
macro_rules! entity_cell {
    ($column:expr, $e:expr) => {
        common_cell(
            $column,
            &$e.id,
            &$e.name,
            &$e.status,
            $e.active,
            (&$e.created_at, &$e.updated_at),
        )
    };
}

/// What every connection checks first: an empty list filter answers an empty connection
/// (`None`), else the parsed `filter` (which may be absent).
fn scan_filter(
    lists: &[&Option<Vec<String>>],
    filter: Option<&str>,
    columns: &Columns,
) -> async_graphql::Result<Option<Option<QueryFilter>>> {
    let parsed = QueryFilter::parse(filter, columns)?;
    Ok((!any_empty(lists)).then_some(parsed))
}

/// True when there is no filter or the entity passes it.
fn passes<'a>(filter: &Option<QueryFilter>, cell: impl Fn(&str) -> Cell<'a>) -> bool {
    filter.as_ref().is_none_or(|f| f.matches(&cell))
}

/// Attribute names set on the entity itself.
fn own_attrib(attrib: &JsonObject) -> Vec<String> {
    attrib.keys().cloned().collect()
}

/// Runs `f` on the named project under the read lock; `None` if it disappeared meanwhile.
fn with_project<R>(
    library: &SharedLibrary,
    name: &str,
    f: impl FnOnce(&Project) -> R,
) -> Option<R> {
    let lib = library.read();
    lib.project(name).map(f)
}

/// Folder ids that are some folder's parent.
fn folder_parent_ids(project: &Project) -> HashSet<&str> {
    project
        .folders
        .iter()
        .filter_map(|f| f.parent_id.as_deref())
        .collect()
}

/// Each product's highest version >= 0 (the server's "latest", active or not).
fn latest_versions(project: &Project) -> HashMap<&str, i32> {
    project
        .products()
        .filter_map(|(_, p)| {
            let best = p
                .versions
                .iter()
                .map(|v| v.version)
                .filter(|n| *n >= 0)
                .max()?;
            Some((p.id.as_str(), best))
        })
        .collect()
}

/// `project(name:)`: the entry point of every ayon_api entity query.
pub(crate) struct ProjectNode {
    library: SharedLibrary,
    name: String,
    code: String,
    active: bool,
    is_library: bool,
    created_at: String,
    updated_at: String,
}

impl ProjectNode {
    pub(crate) fn new(library: SharedLibrary, project: &Project) -> ProjectNode {
        ProjectNode {
            library,
            name: project.name.clone(),
            code: project.code.clone(),
            active: project.active,
            is_library: project
                .extra
                .get("library")
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(false),
            created_at: project.created_at.clone(),
            updated_at: project.updated_at.clone(),
        }
    }
}

/// `#[Object] impl ProjectNode`: the `plain` fields as written, then each connection field
/// with what every connection does first. Its list arguments (`lists:`, each an optional list
/// of strings) answer an empty connection when one is an empty list, as on the server;
/// `filter` (QueryFilter JSON) and Relay's `first`, `after`, `last`, `before` are appended,
/// and the body gets the parsed filter and the `PageArgs` under the names in brackets.
macro_rules! project_object {
    (
        plain { $($plain:tt)* }
        $(
            $(#[doc = $doc:literal])*
            fn $name:ident(&$s:ident; lists: $($list:ident),+; $($arg:ident: $ty:ty),* $(,)?)
                -> $conn:ident [$filter:ident, $page:ident] $body:block
        )*
    ) => {
        #[Object]
        impl ProjectNode {
            $($plain)*
            $(
                $(#[doc = $doc])*
                #[allow(clippy::too_many_arguments)]
                async fn $name(
                    &$s,
                    $($list: Option<Vec<String>>,)+
                    $($arg: $ty,)*
                    $filter: Option<String>,
                    first: Option<i32>,
                    after: Option<String>,
                    last: Option<i32>,
                    before: Option<String>,
                ) -> async_graphql::Result<$conn> {
                    let $page = PageArgs::new(first, after, last, before);
                    let lists = [$(&$list),+];
                    let columns = Columns::of(stringify!($name));
                    let Some($filter) = scan_filter(&lists, $filter.as_deref(), &columns)? else {
                        return Ok($conn::empty());
                    };
                    $body
                }
            )*
        }
    };
}

project_object! {
    plain {
        async fn name(&self) -> &str {
            &self.name
        }

        async fn project_name(&self) -> &str {
            &self.name
        }

        async fn code(&self) -> &str {
            &self.code
        }

        async fn active(&self) -> bool {
            self.active
        }

        async fn library(&self) -> bool {
            self.is_library
        }

        async fn created_at(&self) -> &str {
            &self.created_at
        }

        async fn updated_at(&self) -> &str {
            &self.updated_at
        }
    }

    /// Folders; `paths` match exactly after stripping `/` from both ends, `parentIds` takes
    /// `"root"` for top-level folders.
    fn folders(
        &self;
        lists: ids, parent_ids, paths, names, folder_types, statuses, tags;
        has_products: Option<bool>,
        has_tasks: Option<bool>,
        has_children: Option<bool>,
    ) -> FoldersConnection [filter, args] {
        let paths: Option<Vec<String>> =
            paths.map(|l| l.iter().map(|p| p.trim_matches('/').to_owned()).collect());
        Ok(with_project(&self.library, &self.name, |project| {
            let parents = folder_parent_ids(project);
            let items = project
                .folders
                .iter()
                .enumerate()
                .filter(|(_, f)| {
                    allows(&ids, &f.id)
                        && allows(&parent_ids, f.parent_id.as_deref().unwrap_or("root"))
                        && allows(&paths, &f.path)
                        && allows(&names, &f.name)
                        && allows(&folder_types, &f.folder_type)
                        && allows(&statuses, &f.status)
                        && has_tags(&tags, &f.tags)
                        && has_products.is_none_or(|want| want != f.products.is_empty())
                        && has_tasks.is_none_or(|want| want != f.tasks.is_empty())
                        && has_children.is_none_or(|b| b == parents.contains(f.id.as_str()))
                        && passes(&filter, |c| match c {
                            "folder_type" => Cell::Text(&f.folder_type),
                            "parent_id" => f.parent_id.as_deref().map_or(Cell::Null, Cell::Text),
                            _ => entity_cell!(c, f),
                        })
                })
                .map(|(i, f)| (i + 1, f))
                .collect();
            FoldersConnection::page(items, &args, |f| {
                FolderNode::new(f, &project.name, parents.contains(f.id.as_str()))
            })
        })
        .unwrap_or_else(FoldersConnection::empty))
    }

    /// Products of the project.
    fn products(
        &self;
        lists: ids, names, folder_ids, product_types, product_base_types, statuses, tags;
    ) -> ProductsConnection [filter, args] {
        Ok(with_project(&self.library, &self.name, |project| {
            let items = project
                .products()
                .enumerate()
                .filter(|(_, (f, p))| {
                    let base = p.product_base_type.as_deref().unwrap_or(&p.product_type);
                    allows(&ids, &p.id)
                        && allows(&names, &p.name)
                        && allows(&folder_ids, &f.id)
                        && allows(&product_types, &p.product_type)
                        && allows(&product_base_types, base)
                        && allows(&statuses, &p.status)
                        && has_tags(&tags, &p.tags)
                        && passes(&filter, |c| match c {
                            "folder_id" => Cell::Text(&f.id),
                            "product_type" => Cell::Text(&p.product_type),
                            _ => entity_cell!(c, p),
                        })
                })
                .map(|(i, fp)| (i + 1, fp))
                .collect();
            ProductsConnection::page(items, &args, |(f, p)| {
                ProductNode::new(&self.library, &project.name, f, p)
            })
        })
        .unwrap_or_else(ProductsConnection::empty))
    }

    /// Versions; `latestOnly` keeps each product's highest version >= 0 whether active or
    /// not, `heroOnly` keeps versions < 0, `heroOrLatestOnly` keeps both (server precedence).
    fn versions(
        &self;
        lists: ids, product_ids, task_ids, folder_ids, authors, statuses, tags;
        version: Option<i32>,
        versions: Option<Vec<i32>>,
        latest_only: Option<bool>,
        hero_only: Option<bool>,
        hero_or_latest_only: Option<bool>,
    ) -> VersionsConnection [filter, args] {
        if versions.as_ref().is_some_and(Vec::is_empty) {
            return Ok(VersionsConnection::empty());
        }
        let latest_only = latest_only.unwrap_or(false);
        let hero_only = hero_only.unwrap_or(false);
        let hero_or_latest_only = hero_or_latest_only.unwrap_or(false);
        Ok(with_project(&self.library, &self.name, |project| {
            let latest = if latest_only || hero_or_latest_only {
                latest_versions(project)
            } else {
                HashMap::new()
            };
            let is_latest =
                |p: &Product, v: &Version| latest.get(p.id.as_str()) == Some(&v.version);
            let items = project
                .versions()
                .enumerate()
                .filter(|(_, (f, p, v))| {
                    let featured = if latest_only {
                        is_latest(p, v)
                    } else if hero_only {
                        v.is_hero()
                    } else if hero_or_latest_only {
                        v.is_hero() || is_latest(p, v)
                    } else {
                        true
                    };
                    featured
                        && allows(&ids, &v.id)
                        && allows(&product_ids, &p.id)
                        && version.is_none_or(|n| n == 0 || n == v.version)
                        && versions.as_ref().is_none_or(|l| l.contains(&v.version))
                        && allows(&task_ids, v.task_id.as_deref().unwrap_or(""))
                        && allows(&folder_ids, &f.id)
                        && allows(&authors, &v.author)
                        && allows(&statuses, &v.status)
                        && has_tags(&tags, &v.tags)
                        && passes(&filter, |c| match c {
                            "version" => Cell::Int(i64::from(v.version)),
                            "product_id" => Cell::Text(&p.id),
                            "author" => Cell::Text(&v.author),
                            _ => common_cell(
                                c,
                                &v.id,
                                "",
                                &v.status,
                                v.active,
                                (&v.created_at, &v.updated_at),
                            ),
                        })
                })
                .map(|(i, (_, p, v))| (i + 1, (p, v)))
                .collect();
            VersionsConnection::page(items, &args, |(p, v)| {
                VersionNode::new(&self.library, &project.name, p, v)
            })
        })
        .unwrap_or_else(VersionsConnection::empty))
    }

    /// Representations of the project.
    fn representations(
        &self;
        lists: ids, names, version_ids, statuses, tags;
    ) -> RepresentationsConnection [filter, args] {
        Ok(with_project(&self.library, &self.name, |project| {
            let items = project
                .representations()
                .enumerate()
                .filter(|(_, (_, _, v, r))| {
                    allows(&ids, &r.id)
                        && allows(&names, &r.name)
                        && allows(&version_ids, &v.id)
                        && allows(&statuses, &r.status)
                        && has_tags(&tags, &r.tags)
                        && passes(&filter, |c| match c {
                            "version_id" => Cell::Text(&v.id),
                            _ => entity_cell!(c, r),
                        })
                })
                .map(|(i, (_, _, v, r))| (i + 1, (v, r)))
                .collect();
            RepresentationsConnection::page(items, &args, |(v, r)| {
                RepresentationNode::new(&self.library, &project.name, v, r)
            })
        })
        .unwrap_or_else(RepresentationsConnection::empty))
    }

    /// Tasks of the project, in creation order (prepare-for-offline reads them flat).
    fn tasks(
        &self;
        lists: ids, folder_ids, names, task_types;
    ) -> TasksConnection [filter, args] {
        Ok(with_project(&self.library, &self.name, |project| {
            let items = project
                .tasks()
                .enumerate()
                .filter(|(_, (f, t))| {
                    allows(&ids, &t.id)
                        && allows(&folder_ids, &f.id)
                        && allows(&names, &t.name)
                        && allows(&task_types, &t.task_type)
                        && passes(&filter, |c| match c {
                            "folder_id" => Cell::Text(&f.id),
                            "task_type" => Cell::Text(&t.task_type),
                            _ => entity_cell!(c, t),
                        })
                })
                .map(|(i, ft)| (i + 1, ft))
                .collect();
            TasksConnection::page(items, &args, |(f, t)| TaskNode {
                folder_id: f.id.clone(),
                project_name: project.name.clone(),
                task: t.clone(),
            })
        })
        .unwrap_or_else(TasksConnection::empty))
    }
}

/// `#[Object] impl $node { ... }` plus the fields every entity node answers the same way
/// from its record (`self` itself, or `self.$record`): id, projectName, active, status,
/// tags, allAttrib and ownAttrib, data, createdAt and updatedAt.
macro_rules! entity_object {
    ($node:ident, [$($record:ident)?]; $($rest:tt)*) => {
        #[Object]
        impl $node {
            async fn id(&self) -> &str {
                &self$(.$record)?.id
            }

            async fn project_name(&self) -> &str {
                &self.project_name
            }

            async fn active(&self) -> bool {
                self$(.$record)?.active
            }

            async fn status(&self) -> &str {
                &self$(.$record)?.status
            }

            async fn tags(&self) -> &[String] {
                &self$(.$record)?.tags
            }

            /// Attributes as a JSON string.
            async fn all_attrib(&self) -> String {
                attrib_text(&self$(.$record)?.attrib)
            }

            async fn own_attrib(&self) -> Vec<String> {
                own_attrib(&self$(.$record)?.attrib)
            }

            /// Data as a JSON string; null when empty.
            async fn data(&self) -> Option<String> {
                data_text(&self$(.$record)?.data)
            }

            async fn created_at(&self) -> &str {
                &self$(.$record)?.created_at
            }

            async fn updated_at(&self) -> &str {
                &self$(.$record)?.updated_at
            }

            $($rest)*
        }
    };
}

/// A folder (copied out of the library without its tasks and products).
pub(crate) struct FolderNode {
    id: String,
    name: String,
    label: Option<String>,
    folder_type: String,
    parent_id: Option<String>,
    path: String,
    active: bool,
    status: String,
    tags: Vec<String>,
    attrib: JsonObject,
    data: JsonObject,
    created_at: String,
    updated_at: String,
    has_children: bool,
    has_products: bool,
    has_tasks: bool,
    project_name: String,
}

impl FolderNode {
    fn new(f: &Folder, project_name: &str, has_children: bool) -> FolderNode {
        FolderNode {
            id: f.id.clone(),
            name: f.name.clone(),
            label: f.label.clone(),
            folder_type: f.folder_type.clone(),
            parent_id: f.parent_id.clone(),
            path: f.path.clone(),
            active: f.active,
            status: f.status.clone(),
            tags: f.tags.clone(),
            attrib: f.attrib.clone(),
            data: f.data.clone(),
            created_at: f.created_at.clone(),
            updated_at: f.updated_at.clone(),
            has_children,
            has_products: !f.products.is_empty(),
            has_tasks: !f.tasks.is_empty(),
            project_name: project_name.to_owned(),
        }
    }
}

entity_object! {
    FolderNode, [];

    async fn name(&self) -> &str {
        &self.name
    }

    async fn label(&self) -> Option<&str> {
        self.label.as_deref()
    }

    async fn folder_type(&self) -> &str {
        &self.folder_type
    }

    async fn parent_id(&self) -> Option<&str> {
        self.parent_id.as_deref()
    }

    /// The folder path with a leading `/`, as the server returns it.
    async fn path(&self) -> String {
        format!("/{}", self.path)
    }

    /// Names of the ancestors, top first.
    async fn parents(&self) -> Vec<String> {
        let mut names: Vec<String> = self.path.split('/').map(str::to_owned).collect();
        names.pop();
        names
    }

    async fn thumbnail_id(&self) -> Option<String> {
        None
    }

    async fn has_children(&self) -> bool {
        self.has_children
    }

    async fn has_products(&self) -> bool {
        self.has_products
    }

    async fn has_tasks(&self) -> bool {
        self.has_tasks
    }
}

/// A product (copied without its versions).
pub(crate) struct ProductNode {
    library: SharedLibrary,
    project_name: String,
    folder_id: String,
    id: String,
    name: String,
    product_type: String,
    product_base_type: Option<String>,
    active: bool,
    status: String,
    tags: Vec<String>,
    attrib: JsonObject,
    data: JsonObject,
    created_at: String,
    updated_at: String,
}

impl ProductNode {
    fn new(library: &SharedLibrary, project_name: &str, f: &Folder, p: &Product) -> ProductNode {
        ProductNode {
            library: Arc::clone(library),
            project_name: project_name.to_owned(),
            folder_id: f.id.clone(),
            id: p.id.clone(),
            name: p.name.clone(),
            product_type: p.product_type.clone(),
            product_base_type: p.product_base_type.clone(),
            active: p.active,
            status: p.status.clone(),
            tags: p.tags.clone(),
            attrib: p.attrib.clone(),
            data: p.data.clone(),
            created_at: p.created_at.clone(),
            updated_at: p.updated_at.clone(),
        }
    }
}

entity_object! {
    ProductNode, [];

    async fn name(&self) -> &str {
        &self.name
    }

    async fn folder_id(&self) -> &str {
        &self.folder_id
    }

    async fn product_type(&self) -> &str {
        &self.product_type
    }

    /// The base type; the product type when the library gives none.
    async fn product_base_type(&self) -> &str {
        self.product_base_type
            .as_deref()
            .unwrap_or(&self.product_type)
    }

    /// The parent folder.
    async fn folder(&self) -> async_graphql::Result<FolderNode> {
        with_project(&self.library, &self.project_name, |project| {
            let folder = project.folder(&self.folder_id)?;
            let has_children = project
                .folders
                .iter()
                .any(|f| f.parent_id.as_deref() == Some(folder.id.as_str()));
            Some(FolderNode::new(folder, &project.name, has_children))
        })
        .flatten()
        .ok_or_else(|| status_error("Folder not found", 404))
    }
}

/// A version (copied without its representations; hero versions are negative, named `HERO`).
pub(crate) struct VersionNode {
    library: SharedLibrary,
    project_name: String,
    product_id: String,
    version: Version,
}

impl VersionNode {
    fn new(library: &SharedLibrary, project_name: &str, p: &Product, v: &Version) -> VersionNode {
        VersionNode {
            library: Arc::clone(library),
            project_name: project_name.to_owned(),
            product_id: p.id.clone(),
            version: Version {
                id: v.id.clone(),
                version: v.version,
                author: v.author.clone(),
                status: v.status.clone(),
                tags: v.tags.clone(),
                attrib: v.attrib.clone(),
                data: v.data.clone(),
                active: v.active,
                task_id: v.task_id.clone(),
                thumbnail_id: v.thumbnail_id.clone(),
                created_at: v.created_at.clone(),
                updated_at: v.updated_at.clone(),
                representations: Vec::new(),
            },
        }
    }
}

entity_object! {
    VersionNode, [version];

    async fn version(&self) -> i32 {
        self.version.version
    }

    /// `v001` or `HERO`.
    async fn name(&self) -> String {
        self.version.name()
    }

    async fn product_id(&self) -> &str {
        &self.product_id
    }

    async fn task_id(&self) -> Option<&str> {
        self.version.task_id.as_deref()
    }

    async fn author(&self) -> &str {
        &self.version.author
    }

    async fn thumbnail_id(&self) -> Option<&str> {
        self.version.thumbnail_id.as_deref()
    }

    /// The parent product.
    async fn product(&self) -> async_graphql::Result<ProductNode> {
        with_project(&self.library, &self.project_name, |project| {
            let (f, p) = project.product(&self.product_id)?;
            Some(ProductNode::new(&self.library, &project.name, f, p))
        })
        .flatten()
        .ok_or_else(|| status_error("Product not found", 404))
    }
}

/// A representation.
pub(crate) struct RepresentationNode {
    library: SharedLibrary,
    project_name: String,
    version_id: String,
    representation: Representation,
}

impl RepresentationNode {
    fn new(
        library: &SharedLibrary,
        project_name: &str,
        v: &Version,
        r: &Representation,
    ) -> RepresentationNode {
        RepresentationNode {
            library: Arc::clone(library),
            project_name: project_name.to_owned(),
            version_id: v.id.clone(),
            representation: r.clone(),
        }
    }
}

entity_object! {
    RepresentationNode, [representation];

    async fn name(&self) -> &str {
        &self.representation.name
    }

    async fn version_id(&self) -> &str {
        &self.version_id
    }

    /// `data.context` as a JSON string; null without a context.
    async fn context(&self) -> Option<String> {
        self.representation.data.get("context").map(json_text)
    }

    /// Traits as a JSON string; null without traits.
    async fn traits(&self) -> Option<String> {
        self.representation
            .traits
            .as_ref()
            .filter(|t| !t.is_null())
            .map(json_text)
    }

    async fn files(&self) -> Vec<FileNode> {
        self.representation
            .files
            .iter()
            .map(|f| FileNode {
                id: f.id.clone(),
                name: f.name.clone(),
                path: f.path.clone(),
                size: f.size.to_string(),
                hash: f.hash.clone(),
                hash_type: f.hash_type.clone(),
            })
            .collect()
    }

    /// The parent version.
    async fn version(&self) -> async_graphql::Result<VersionNode> {
        with_project(&self.library, &self.project_name, |project| {
            let (_, p, v) = project.version(&self.version_id)?;
            Some(VersionNode::new(&self.library, &project.name, p, v))
        })
        .flatten()
        .ok_or_else(|| status_error("Version not found", 404))
    }
}

/// One file of a representation; `size` is a string as on the real server.
#[derive(SimpleObject)]
pub(crate) struct FileNode {
    id: String,
    name: String,
    path: String,
    size: String,
    hash: String,
    hash_type: String,
}

/// A task with its folder's id.
pub(crate) struct TaskNode {
    folder_id: String,
    project_name: String,
    task: Task,
}

entity_object! {
    TaskNode, [task];

    async fn name(&self) -> &str {
        &self.task.name
    }

    async fn task_type(&self) -> &str {
        &self.task.task_type
    }

    async fn label(&self) -> Option<&str> {
        self.task.label.as_deref()
    }

    async fn assignees(&self) -> &[String] {
        &self.task.assignees
    }

    async fn folder_id(&self) -> &str {
        &self.folder_id
    }

    /// ayon_api's default task fields ask for it (`get_tasks`); the library holds no task
    /// thumbnails, and the server answers null for a task without one.
    async fn thumbnail_id(&self) -> Option<String> {
        None
    }
}
