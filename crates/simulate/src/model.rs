//! What happened, before any log wrote it down: who (an actor), which HTTP request, and which
//! audit record the product would add.

/// Someone (or something) using Confluence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The Confluence username (`X-AUSERNAME`, the DC audit author name).
    pub user: String,
    /// How Cloud and Defender name the person.
    pub display_name: String,
    /// A stable account id (DC user key / Cloud account id).
    pub account_id: String,
    pub ip: String,
    pub user_agent: String,
    /// Authenticates each request with HTTP Basic (scripts with an API token): a proxy's
    /// `%u` then names the user; a browser session shows `-` there.
    pub basic_auth: bool,
}

/// One HTTP request as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: &'static str,
    pub path: String,
    /// The query string without `?`, as sent (percent-encoded).
    pub query: Option<String>,
    pub status: u16,
    pub bytes: u64,
    pub duration_ms: u32,
    pub referrer: Option<String>,
}

/// A record the Confluence audit logs would add for an activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audit {
    /// A search with its text (DC: FULL coverage).
    Search {
        text: String,
    },
    /// DC: FULL coverage.
    AttachmentDownloaded {
        page_id: u64,
        file: String,
    },
    /// DC: BASE coverage; Cloud: "Space exported".
    SpaceExported {
        key: String,
        name: String,
    },
    LoginSucceeded,
}

/// What the Defender / Guard view of Confluence calls an activity (the seed's ActionType
/// names; Microsoft does not publish Atlassian's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloudAction {
    PageViewed,
    ContentViewed,
    SpaceViewed,
    AttachmentDownloaded,
    SpaceExported,
}

impl CloudAction {
    pub fn action_type(self) -> &'static str {
        match self {
            CloudAction::PageViewed => "PageViewed",
            CloudAction::ContentViewed => "ContentViewed",
            CloudAction::SpaceViewed => "SpaceViewed",
            CloudAction::AttachmentDownloaded => "AttachmentDownloaded",
            CloudAction::SpaceExported => "SpaceExported",
        }
    }
}

/// One thing an actor did at one time: a request, and what the audit logs and the
/// organization-level (Guard / Defender) view would record of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    /// Milliseconds since the epoch (UTC).
    pub at_ms: i64,
    /// Index into [`Telemetry::actors`].
    pub actor: usize,
    pub request: Option<Request>,
    pub audit: Option<Audit>,
    /// The object an organization-level view would name: (action, object type, object name).
    pub cloud: Option<(CloudAction, &'static str, String)>,
}

/// Everything a scenario produced, in time order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Telemetry {
    pub actors: Vec<Actor>,
    pub activities: Vec<Activity>,
}

impl Telemetry {
    /// Adds an actor and returns its index.
    pub fn actor(&mut self, actor: Actor) -> usize {
        self.actors.push(actor);
        self.actors.len() - 1
    }

    /// Sorts activities by time (stable: simultaneous ones keep their order).
    pub fn finish(mut self) -> Telemetry {
        self.activities.sort_by_key(|a| a.at_ms);
        self
    }
}

/// The made-up wiki every scenario uses: spaces with pages and attachments.
pub struct Space {
    pub key: &'static str,
    pub name: &'static str,
    pub pages: &'static [&'static str],
}

pub const SPACES: &[Space] = &[
    Space {
        key: "ENG",
        name: "Engineering",
        pages: &[
            "Architecture Overview",
            "Service Catalogue",
            "On-call Runbook",
            "Deployment Pipeline",
            "Code Review Guidelines",
            "Incident Postmortems",
            "Kubernetes Clusters",
            "API Style Guide",
            "Release Notes 4.2",
            "Database Migrations",
            "Feature Flags",
            "Load Testing",
        ],
    },
    Space {
        key: "OPS",
        name: "Operations",
        pages: &[
            "VPN Setup",
            "Network Diagram",
            "Firewall Rules",
            "Backup Schedule",
            "Monitoring Dashboards",
            "Disaster Recovery Plan",
            "Bastion Hosts",
            "Certificate Renewal",
        ],
    },
    Space {
        key: "SEC",
        name: "Security",
        pages: &[
            "Access Review Process",
            "Secrets Management",
            "Security Policies",
            "Pentest Reports",
            "Threat Model",
            "SSO Configuration",
        ],
    },
    Space {
        key: "HR",
        name: "People",
        pages: &[
            "Onboarding Checklist",
            "Holiday Calendar",
            "Benefits Overview",
            "Expense Policy",
            "Travel Guidelines",
        ],
    },
    Space {
        key: "DOCS",
        name: "Product Documentation",
        pages: &[
            "Getting Started",
            "Installation Guide",
            "Configuration Reference",
            "Administration Guide",
            "User Guide",
            "Troubleshooting",
            "FAQ",
            "Glossary",
            "Upgrade Notes",
            "REST API Reference",
            "Integrations",
            "Security Hardening",
            "Performance Tuning",
            "Known Issues",
            "Changelog",
        ],
    },
    Space {
        key: "FIN",
        name: "Finance",
        pages: &[
            "Budget 2027",
            "Vendor Contracts",
            "Procurement Process",
            "Invoice Approvals",
        ],
    },
];

/// A page's id: stable, derived from its space and position.
pub fn page_id(space: usize, page: usize) -> u64 {
    98_304 + (space as u64) * 1_000 + page as u64
}

/// Every page of the wiki as (space index, page index).
pub fn all_pages() -> Vec<(usize, usize)> {
    SPACES
        .iter()
        .enumerate()
        .flat_map(|(s, sp)| (0..sp.pages.len()).map(move |p| (s, p)))
        .collect()
}
