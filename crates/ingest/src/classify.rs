//! Which Confluence action a request is: the URL -> action classifier.
//!
//! A browser viewing one page fires dozens of requests (inline comments, page tree, web
//! resources, analytics, notifications, quick-nav); counting them would flood the 40-events rule
//! with false alarms. So classification is by allow-list: a request is a content event only if
//! a rule below names it, static resources and polling are [`Action::Noise`] (counted, never
//! emitted as content), and anything else is [`Action::Other`].
//!
//! The rules are one table, [`RULES`], first match wins, each with the documentation it comes
//! from (`../shared/reference/CONFLUENCE-TELEMETRY.md` section 4 gathers the sources). Paths are
//! matched after removing a deployment's context path (`/confluence`) and Cloud's `/wiki`.

use std::borrow::Cow;

/// The action vocabulary of Quarry's ECS events (`event.action`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    PageViewed,
    ContentViewed,
    SpaceViewed,
    AttachmentDownloaded,
    ContentExported,
    SpaceExported,
    SearchPerformed,
    PagePrinted,
    UserLogin,
    /// Static resources, heartbeats, polling: counted, not emitted as content.
    Noise,
    /// A request no rule names: context, never a content event.
    Other,
}

impl Action {
    /// The `event.action` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::PageViewed => "page_viewed",
            Action::ContentViewed => "content_viewed",
            Action::SpaceViewed => "space_viewed",
            Action::AttachmentDownloaded => "attachment_downloaded",
            Action::ContentExported => "content_exported",
            Action::SpaceExported => "space_exported",
            Action::SearchPerformed => "search_performed",
            Action::PagePrinted => "page_printed",
            Action::UserLogin => "user_login",
            Action::Noise => "noise",
            Action::Other => "other",
        }
    }

    /// Whether the action reads content (the actions the bulk-mining rule counts).
    pub fn is_content(self) -> bool {
        !matches!(self, Action::UserLogin | Action::Noise | Action::Other)
    }
}

/// Which HTTP methods a rule accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Methods {
    Any,
    Get,
    Post,
}

/// One classification rule.
///
/// `path` is a pattern of `/`-separated segments: a literal segment matches itself (ASCII case
/// does not matter), `{space}` captures the space key, `{id}` captures a numeric content id,
/// `{title}` captures a page title, `{*}` matches any one segment, and a final `**` matches
/// whatever follows, including nothing.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub action: Action,
    pub methods: Methods,
    pub path: &'static str,
    /// The rule applies only when the query string has this parameter.
    pub requires_param: Option<&'static str>,
    /// Where the rule comes from, for whoever maintains the table.
    pub note: &'static str,
}

const fn rule(action: Action, path: &'static str, note: &'static str) -> Rule {
    Rule {
        action,
        methods: Methods::Any,
        path,
        requires_param: None,
        note,
    }
}

const fn with_param(
    action: Action,
    path: &'static str,
    param: &'static str,
    note: &'static str,
) -> Rule {
    Rule {
        action,
        methods: Methods::Any,
        path,
        requires_param: Some(param),
        note,
    }
}

const fn post(action: Action, path: &'static str, note: &'static str) -> Rule {
    Rule {
        action,
        methods: Methods::Post,
        path,
        requires_param: None,
        note,
    }
}

use Action::*;

/// The classification table, in the order it is tried.
pub const RULES: &[Rule] = &[
    // Printable views come first: they are page URLs with a marker.
    with_param(
        PagePrinted,
        "/pages/viewpage.action",
        "decorator",
        "legacy print view `?decorator=printable`",
    ),
    with_param(
        PagePrinted,
        "/display/{space}/{title}",
        "decorator",
        "legacy print view `?decorator=printable`",
    ),
    // Searches.
    rule(
        SearchPerformed,
        "/rest/api/content/search",
        "REST v1 CQL search `?cql=`",
    ),
    rule(
        SearchPerformed,
        "/rest/api/search",
        "REST v1 search `?cql=` (siteSearch ~ ...)",
    ),
    rule(
        SearchPerformed,
        "/dosearchsite.action",
        "site search UI `?queryString=` or `?cql=`",
    ),
    rule(
        SearchPerformed,
        "/rest/searchv3/1.0/search",
        "quick/live search `?queryString=`",
    ),
    rule(
        SearchPerformed,
        "/rest/quicknav/1/search",
        "quick navigation search `?query=`",
    ),
    with_param(
        SearchPerformed,
        "/search",
        "text",
        "Cloud search UI `/wiki/search?text=`",
    ),
    // Attachments.
    rule(
        AttachmentDownloaded,
        "/download/attachments/{id}/**",
        "attachment download",
    ),
    rule(
        AttachmentDownloaded,
        "/rest/api/content/{id}/child/attachment/{*}/download",
        "REST attachment download",
    ),
    // Exports of a whole space.
    rule(
        SpaceExported,
        "/spaces/exportspacexml.action",
        "space XML export (form)",
    ),
    rule(
        SpaceExported,
        "/spaces/exportspacehtml.action",
        "space HTML export (form)",
    ),
    rule(
        SpaceExported,
        "/spaces/exportspacezipxml.action",
        "space XML export as named in the seed",
    ),
    rule(
        SpaceExported,
        "/spaces/flyingpdf/flyingpdf.action",
        "space PDF export",
    ),
    post(
        SpaceExported,
        "/spaces/doexportspace.action",
        "the export itself (`exportType=TYPE_XML|TYPE_HTML`)",
    ),
    rule(
        SpaceExported,
        "/download/temp/**",
        "export archive download",
    ),
    // Exports of one page.
    rule(
        ContentExported,
        "/spaces/flyingpdf/pdfpageexport.action",
        "page PDF export `?pageId=`",
    ),
    rule(
        ContentExported,
        "/exportword",
        "page Word export `?pageId=`",
    ),
    rule(
        ContentExported,
        "/pages/doexportpage.action",
        "page export (old versions)",
    ),
    // Content over the REST APIs (bulk extraction shows as `expand=body.storage`).
    rule(
        ContentViewed,
        "/rest/api/content/{id}/**",
        "REST v1 content by id, children, descendants",
    ),
    rule(
        ContentViewed,
        "/rest/api/content",
        "REST v1 content listing `?spaceKey=&expand=body.storage`",
    ),
    rule(
        ContentViewed,
        "/rest/prototype/1/content/{id}/**",
        "old prototype REST API",
    ),
    rule(
        ContentViewed,
        "/plugins/viewsource/viewpagesrc.action",
        "page source view",
    ),
    rule(ContentViewed, "/api/v2/pages/**", "Cloud REST v2 pages"),
    rule(
        ContentViewed,
        "/api/v2/blogposts/**",
        "Cloud REST v2 blog posts",
    ),
    rule(
        ContentViewed,
        "/api/v2/spaces/{*}/pages/**",
        "Cloud REST v2 pages of a space",
    ),
    rule(
        ContentViewed,
        "/api/v2/spaces/{*}/blogposts/**",
        "Cloud REST v2 blog posts of a space",
    ),
    // Spaces.
    rule(
        SpaceViewed,
        "/rest/api/space/**",
        "REST v1 space listing and space by key (enumeration)",
    ),
    rule(
        SpaceViewed,
        "/api/v2/spaces/**",
        "Cloud REST v2 spaces (enumeration)",
    ),
    rule(
        SpaceViewed,
        "/spaces/viewspace.action",
        "space home `?key=`",
    ),
    rule(
        SpaceViewed,
        "/spacedirectory/view.action",
        "space directory",
    ),
    rule(SpaceViewed, "/pages/listpages.action", "space page list"),
    rule(
        SpaceViewed,
        "/pages/listpages-dirview.action",
        "space page tree",
    ),
    rule(
        SpaceViewed,
        "/pages/listpages-alphaview.action",
        "space pages A-Z",
    ),
    rule(
        SpaceViewed,
        "/spaces/listattachmentsforspace.action",
        "space attachment list",
    ),
    rule(
        SpaceViewed,
        "/spaces/{space}/overview",
        "Cloud space overview",
    ),
    rule(SpaceViewed, "/spaces", "Cloud space directory"),
    rule(SpaceViewed, "/display/{space}", "space home"),
    // Pages in the browser.
    rule(
        PageViewed,
        "/display/{space}/{title}",
        "page by space and title",
    ),
    rule(
        PageViewed,
        "/pages/viewpage.action",
        "page by id `?pageId=` or `?spaceKey=&title=`",
    ),
    rule(
        PageViewed,
        "/spaces/{space}/pages/{id}/**",
        "page URL of newer Data Center and Cloud",
    ),
    rule(PageViewed, "/spaces/{space}/blog/**", "blog post"),
    rule(PageViewed, "/x/{*}", "short link"),
    rule(PageViewed, "/pages/viewinfo.action", "page information"),
    rule(
        PageViewed,
        "/pages/viewpreviousversions.action",
        "page history",
    ),
    rule(
        PageViewed,
        "/pages/diffpages.action",
        "page version comparison",
    ),
    // Logins.
    rule(UserLogin, "/dologin.action", "form login"),
];

/// Path prefixes of static resources, heartbeats and polling.
pub const NOISE_PREFIXES: &[&str] = &[
    "/s/",
    "/images/",
    "/download/resources/",
    "/download/thumbnails/",
    "/rest/quickreload/",
    "/rest/analytics/",
    "/rest/mywork/",
    "/rest/webResources/",
    "/rest/webresources/",
    "/synchrony/",
    "/plugins/servlet/",
    "/rest/highlighting/",
    "/rest/inlinecomments/",
    "/rest/likes/",
    "/rest/nativemobile/",
    "/rest/shortcuts/",
    "/favicon.ico",
];

/// File extensions of static resources.
pub const NOISE_EXTENSIONS: &[&str] = &[
    ".js", ".css", ".png", ".gif", ".svg", ".jpg", ".jpeg", ".ico", ".woff", ".woff2", ".ttf",
    ".map",
];

/// What a request is, and what it names.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Classified {
    pub action: Option<Action>,
    pub space_key: Option<String>,
    pub content_id: Option<String>,
    pub content_title: Option<String>,
    /// The searched text: quoted terms of the CQL, or the query string, decoded.
    pub search_text: Option<String>,
}

impl Classified {
    pub fn action(&self) -> Action {
        self.action.unwrap_or(Action::Other)
    }
}

/// Classifies requests to one Confluence deployment.
#[derive(Debug, Clone, Default)]
pub struct Classifier {
    /// The deployment's context path (`/confluence`), removed before matching.
    context_path: Option<String>,
}

impl Classifier {
    pub fn new(context_path: Option<&str>) -> Self {
        let context_path = context_path
            .map(|p| format!("/{}", p.trim_matches('/')))
            .filter(|p| p.len() > 1);
        Classifier { context_path }
    }

    /// Classifies a request by method, path (without query) and raw query string.
    pub fn classify(&self, method: &str, path: &str, query: Option<&str>) -> Classified {
        let path = self.strip_prefixes(path);
        if is_noise_path(path) {
            return Classified {
                action: Some(Action::Noise),
                ..Classified::default()
            };
        }
        // Split once; every rule compares segments.
        let mut segments: Vec<&str> = Vec::with_capacity(16);
        segments.extend(path.split('/').filter(|s| !s.is_empty()));
        let compiled = compiled_rules();
        let params: Vec<(Cow<'_, str>, Cow<'_, str>)> = query
            .map(|q| form_urlencoded::parse(q.as_bytes()).collect())
            .unwrap_or_default();
        let param = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.to_string())
        };
        for (r, pattern) in RULES.iter().zip(compiled) {
            let method_ok = match r.methods {
                Methods::Any => true,
                Methods::Get => method.eq_ignore_ascii_case("GET"),
                Methods::Post => method.eq_ignore_ascii_case("POST"),
            };
            if !method_ok {
                continue;
            }
            if let Some(p) = r.requires_param
                && param(p).is_none()
            {
                continue;
            }
            let Some(captures) = match_segments(pattern, &segments) else {
                continue;
            };
            let mut out = Classified {
                action: Some(r.action),
                space_key: captures.space.map(|s| decode_segment(s).into_owned()),
                content_id: captures.id.map(str::to_string),
                content_title: captures.title.map(|t| decode_segment(t).into_owned()),
                search_text: None,
            };
            if out.space_key.is_none() {
                out.space_key = param("spaceKey").or_else(|| param("key"));
            }
            if out.content_id.is_none() {
                out.content_id = param("pageId").filter(|v| v.bytes().all(|b| b.is_ascii_digit()));
            }
            if out.content_title.is_none() && r.action == PageViewed {
                out.content_title = param("title");
            }
            if r.action == SearchPerformed {
                out.search_text = param("cql")
                    .map(|cql| cql_text(&cql))
                    .or_else(|| param("queryString"))
                    .or_else(|| param("query"))
                    .or_else(|| param("text"))
                    .filter(|t| !t.is_empty());
            }
            return out;
        }
        // A static file's extension marks noise only when no rule names the request: an
        // attachment called `diagram.png` is a download, not a web resource.
        let action = if has_noise_extension(path) {
            Action::Noise
        } else {
            Action::Other
        };
        Classified {
            action: Some(action),
            ..Classified::default()
        }
    }

    fn strip_prefixes<'p>(&self, mut path: &'p str) -> &'p str {
        if let Some(ctx) = &self.context_path
            && let Some(rest) = strip_segment_prefix(path, ctx)
        {
            path = rest;
        }
        if let Some(rest) = strip_segment_prefix(path, "/wiki") {
            path = rest;
        }
        path
    }
}

/// `path` without the leading `prefix`, if the prefix ends at a segment boundary.
fn strip_segment_prefix<'p>(path: &'p str, prefix: &str) -> Option<&'p str> {
    let rest = path.strip_prefix(prefix)?;
    if rest.is_empty() {
        Some("/")
    } else if rest.starts_with('/') {
        Some(rest)
    } else {
        None
    }
}

fn is_noise_path(path: &str) -> bool {
    NOISE_PREFIXES.iter().any(|p| path.starts_with(p))
}

fn has_noise_extension(path: &str) -> bool {
    let last = path.rsplit('/').next().unwrap_or(path).to_ascii_lowercase();
    NOISE_EXTENSIONS.iter().any(|ext| last.ends_with(ext))
}

#[derive(Default)]
struct Captures<'p> {
    space: Option<&'p str>,
    id: Option<&'p str>,
    title: Option<&'p str>,
}

/// One segment of a parsed rule pattern.
#[derive(Debug, Clone)]
enum Part {
    Literal(&'static str),
    Space,
    Id,
    Title,
    AnyOne,
    Rest,
}

/// Every rule's pattern, parsed once.
fn compiled_rules() -> &'static [Vec<Part>] {
    static COMPILED: std::sync::OnceLock<Vec<Vec<Part>>> = std::sync::OnceLock::new();
    COMPILED.get_or_init(|| {
        RULES
            .iter()
            .map(|r| {
                r.path
                    .trim_start_matches('/')
                    .split('/')
                    .map(|part| match part {
                        "**" => Part::Rest,
                        "{space}" => Part::Space,
                        "{id}" => Part::Id,
                        "{title}" => Part::Title,
                        "{*}" => Part::AnyOne,
                        literal => Part::Literal(literal),
                    })
                    .collect()
            })
            .collect()
    })
}

/// Matches path `segments` against a parsed pattern (see [`Rule`]).
fn match_segments<'p>(pattern: &[Part], segments: &[&'p str]) -> Option<Captures<'p>> {
    let mut captures = Captures::default();
    let mut i = 0;
    for part in pattern {
        if let Part::Rest = part {
            return Some(captures);
        }
        let segment = *segments.get(i)?;
        i += 1;
        match part {
            Part::Space => captures.space = Some(segment),
            Part::Title => captures.title = Some(segment),
            Part::AnyOne | Part::Rest => {}
            Part::Id => {
                if !segment.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                captures.id = Some(segment);
            }
            Part::Literal(literal) => {
                if !literal.eq_ignore_ascii_case(segment) {
                    return None;
                }
            }
        }
    }
    (i == segments.len()).then_some(captures)
}

/// A path segment decoded: `%XX` escapes and `+` as a space (Confluence writes titles so).
fn decode_segment(segment: &str) -> Cow<'_, str> {
    if !segment.contains(['%', '+']) {
        return Cow::Borrowed(segment);
    }
    let spaced = segment.replace('+', " ");
    Cow::Owned(
        percent_encoding::percent_decode_str(&spaced)
            .decode_utf8_lossy()
            .into_owned(),
    )
}

/// The words a CQL query searches for: the quoted values of `text ~`, `siteSearch ~` and
/// `title ~` clauses, joined by spaces; the whole CQL when it has none.
pub fn cql_text(cql: &str) -> String {
    let mut terms = Vec::new();
    let lower = cql.to_ascii_lowercase();
    for field in ["text", "sitesearch", "title"] {
        let mut from = 0;
        while let Some(i) = lower[from..].find(field) {
            let start = from + i;
            from = start + field.len();
            // A field name, not the tail of another word.
            let before = lower[..start].chars().next_back();
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '.') {
                continue;
            }
            let rest = cql[from..].trim_start();
            let Some(rest) = rest.strip_prefix('~') else {
                continue;
            };
            let rest = rest.trim_start();
            let Some(rest) = rest.strip_prefix(['"', '\'']) else {
                continue;
            };
            let quote = cql[cql.len() - rest.len() - 1..]
                .chars()
                .next()
                .unwrap_or('"');
            if let Some(end) = rest.find(quote) {
                terms.push(rest[..end].to_string());
            }
        }
    }
    if terms.is_empty() {
        cql.trim().to_string()
    } else {
        terms.join(" ")
    }
}
