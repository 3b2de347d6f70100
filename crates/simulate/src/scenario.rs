//! The named scenarios: the four Atomic-style tests (the same requests `quarry atomic` sends),
//! the seed's four false-positive situations, and a benign organization.

use crate::model::{
    Activity, Actor, Audit, CloudAction, Request, SPACES, Telemetry, all_pages, page_id,
};
use crate::rng::Rng;

/// What a scenario is asked for.
#[derive(Debug, Clone, Copy)]
pub struct Params {
    pub seed: u64,
    /// When the scenario starts (epoch milliseconds, UTC).
    pub start_ms: i64,
    /// How many people (baseline: the organization; false positives: the writers, engineers...).
    pub users: usize,
    /// How long the scenario runs, for the ones with a duration.
    pub hours: u32,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            seed: 1,
            // Monday 2026-11-23 08:00 UTC.
            start_ms: 1_795_420_800_000,
            users: 0,
            hours: 0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    AtomicSpaceEnum,
    AtomicCqlHunt,
    AtomicBodyStorage,
    AtomicSpaceExport,
    FpDocSprint,
    FpCiBot,
    FpOnboarding,
    FpCloudSearch,
    Baseline,
}

impl Scenario {
    pub const ALL: [Scenario; 9] = [
        Scenario::AtomicSpaceEnum,
        Scenario::AtomicCqlHunt,
        Scenario::AtomicBodyStorage,
        Scenario::AtomicSpaceExport,
        Scenario::FpDocSprint,
        Scenario::FpCiBot,
        Scenario::FpOnboarding,
        Scenario::FpCloudSearch,
        Scenario::Baseline,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::AtomicSpaceEnum => "atomic-space-enum",
            Scenario::AtomicCqlHunt => "atomic-cql-hunt",
            Scenario::AtomicBodyStorage => "atomic-body-storage",
            Scenario::AtomicSpaceExport => "atomic-space-export",
            Scenario::FpDocSprint => "fp-doc-sprint",
            Scenario::FpCiBot => "fp-ci-bot",
            Scenario::FpOnboarding => "fp-onboarding",
            Scenario::FpCloudSearch => "fp-cloud-search",
            Scenario::Baseline => "baseline",
        }
    }

    pub fn from_name(name: &str) -> Option<Scenario> {
        Scenario::ALL.into_iter().find(|s| s.name() == name)
    }

    pub fn description(self) -> &'static str {
        match self {
            Scenario::AtomicSpaceEnum => {
                "atomic test 1: paginated GET /rest/api/space, then two reads per space, with curl and an API token"
            }
            Scenario::AtomicCqlHunt => {
                "atomic test 2: one CQL search per credential term through /rest/api/content/search"
            }
            Scenario::AtomicBodyStorage => {
                "atomic test 3: 12 pages of /rest/api/content?spaceKey=ENG&expand=body.storage, large responses"
            }
            Scenario::AtomicSpaceExport => {
                "atomic test 4: form login, the space XML export form and POST, task polling, the archive download"
            }
            Scenario::FpDocSprint => {
                "technical writers reviewing ~70 pages an hour each in a browser (documentation sprint)"
            }
            Scenario::FpCiBot => {
                "a nightly backup account exporting every space, and a documentation generator pulling page bodies"
            }
            Scenario::FpOnboarding => "a new hire browsing the whole wiki on their first days",
            Scenario::FpCloudSearch => {
                "engineers searching cloud topics (aws architecture, azure landing zone) during the day"
            }
            Scenario::Baseline => {
                "a benign organization: working hours, Zipf page popularity, think times, browser noise, ordinary searches"
            }
        }
    }

    /// The default number of people and hours when the caller gives none.
    pub fn defaults(self) -> (usize, u32) {
        match self {
            Scenario::Baseline => (100, 10),
            Scenario::FpDocSprint => (3, 2),
            Scenario::FpOnboarding => (1, 8),
            Scenario::FpCloudSearch => (5, 8),
            _ => (1, 1),
        }
    }

    /// Generates the scenario's telemetry.
    pub fn generate(self, params: &Params) -> Telemetry {
        let (users, hours) = self.defaults();
        let p = Params {
            users: if params.users == 0 {
                users
            } else {
                params.users
            },
            hours: if params.hours == 0 {
                hours
            } else {
                params.hours
            },
            ..*params
        };
        let mut g = Gen {
            t: Telemetry::default(),
            rng: Rng::new(p.seed),
        };
        match self {
            Scenario::AtomicSpaceEnum => g.atomic_space_enum(&p),
            Scenario::AtomicCqlHunt => g.atomic_cql_hunt(&p),
            Scenario::AtomicBodyStorage => g.atomic_body_storage(&p),
            Scenario::AtomicSpaceExport => g.atomic_space_export(&p),
            Scenario::FpDocSprint => g.doc_sprint(&p),
            Scenario::FpCiBot => g.ci_bot(&p),
            Scenario::FpOnboarding => g.onboarding(&p),
            Scenario::FpCloudSearch => g.cloud_search(&p),
            Scenario::Baseline => g.baseline(&p),
        }
        g.t.finish()
    }
}

pub const BROWSERS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Safari/605.1.15",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
];

/// The user agent of curl as the atomic tests run it.
pub const CURL: &str = "curl/8.5.0";

/// The attacker's address in every atomic scenario (a documentation range).
pub const ATTACKER_IP: &str = "203.0.113.50";

/// The account the atomic tests run as.
pub const ATOMIC_USER: &str = "atomic-tester";

/// The CQL terms of atomic test 2.
pub const CQL_TERMS: &[&str] = &[
    "password",
    "credential",
    "secret",
    "api key",
    "token",
    "ssh key",
    "aws access key",
    "vpn",
];

const HOST: &str = "https://wiki.example.com";

/// Ordinary searches of a working day.
const ORDINARY_SEARCHES: &[&str] = &[
    "release notes",
    "onboarding",
    "meeting notes",
    "roadmap 2027",
    "holiday calendar",
    "expense policy",
    "architecture decision record",
    "deployment pipeline",
    "on-call rota",
    "kubernetes upgrade",
    "incident postmortem",
    "style guide",
    "team offsite",
    "okr q1",
    "api reference",
];

/// Cloud-topic searches (the seed's fourth false positive).
const CLOUD_SEARCHES: &[&str] = &[
    "aws architecture",
    "azure landing zone",
    "gcp networking",
    "aws cost report",
    "ssh bastion how-to",
    "vpn split tunnel",
    "kubernetes on aws",
    "azure devops pipelines",
];

struct Gen {
    t: Telemetry,
    rng: Rng,
}

fn plus(title: &str) -> String {
    title.replace(' ', "+")
}

/// Percent-encoding of everything but RFC 3986's unreserved characters, as curl's
/// `--data-urlencode` and browsers write query values.
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, QUERY_VALUE).to_string()
}

impl Gen {
    fn person(
        &mut self,
        user: &str,
        display: &str,
        ip: String,
        ua: &str,
        basic_auth: bool,
    ) -> usize {
        let id = format!(
            "8a7f808a7c1e2b3d017c{:012x}",
            self.t.actors.len() as u64 + 0x1e2f4a110000
        );
        self.t.actor(Actor {
            user: user.to_string(),
            display_name: display.to_string(),
            account_id: id,
            ip,
            user_agent: ua.to_string(),
            basic_auth,
        })
    }

    fn push(&mut self, at_ms: i64, actor: usize, request: Request) -> &mut Activity {
        self.t.activities.push(Activity {
            at_ms,
            actor,
            request: Some(request),
            audit: None,
            cloud: None,
        });
        self.t.activities.last_mut().expect("just pushed")
    }

    fn req(
        &mut self,
        method: &'static str,
        path: String,
        query: Option<String>,
        bytes: (u64, u64),
        ms: (u64, u64),
    ) -> Request {
        Request {
            method,
            path,
            query,
            status: 200,
            bytes: self.rng.range(bytes.0, bytes.1),
            duration_ms: self.rng.range(ms.0, ms.1) as u32,
            referrer: None,
        }
    }

    /// A page view in a browser with the requests a browser fires around it.
    fn page_view(&mut self, at: i64, actor: usize, space: usize, page: usize) {
        let sp = &SPACES[space];
        let title = sp.pages[page];
        let id = page_id(space, page);
        let (path, query) = if self.rng.chance(0.5) {
            (format!("/display/{}/{}", sp.key, plus(title)), None)
        } else {
            (
                "/pages/viewpage.action".to_string(),
                Some(format!("pageId={id}")),
            )
        };
        let mut r = self.req("GET", path, query, (38_000, 140_000), (60, 700));
        r.referrer = Some(format!("{HOST}/display/{}", sp.key));
        let a = self.push(at, actor, r);
        a.cloud = Some((CloudAction::PageViewed, "Page", title.to_string()));
        self.noise(at, actor, id);
    }

    /// Static resources, polling and analytics a browser sends with each page.
    fn noise(&mut self, at: i64, actor: usize, page: u64) {
        let n = self.rng.range(2, 5);
        for i in 0..n {
            let at = at + 150 + i as i64 * self.rng.range(40, 400) as i64;
            let (method, path, query) = match self.rng.range(0, 4) {
                0 => ("GET", "/s/d41d8cd98f00b204e9800998ecf8427e-CDN/-1ko1xz/8703/h/_/download/batch/com.atlassian.confluence.plugins.confluence-frontend:editor-v4/batch.js".to_string(), None),
                1 => ("GET", "/s/en_GB/8703/h/_/download/superbatch/css/batch.css".to_string(), None),
                2 => ("GET", format!("/rest/quickreload/latest/{page}"), Some(format!("since={}", at - 1_000))),
                3 => ("POST", "/rest/analytics/1.0/publish/bulk".to_string(), None),
                _ => ("GET", "/images/icons/profilepics/default.svg".to_string(), None),
            };
            let mut r = self.req(method, path, query, (150, 60_000), (2, 60));
            r.status = if method == "POST" { 204 } else { 200 };
            self.push(at, actor, r);
        }
    }

    fn browser_search(&mut self, at: i64, actor: usize, text: &str) {
        let q = format!(
            "queryString={}",
            text.split(' ').map(enc).collect::<Vec<_>>().join("+")
        );
        let r = self.req(
            "GET",
            "/dosearchsite.action".to_string(),
            Some(q),
            (30_000, 90_000),
            (120, 900),
        );
        let a = self.push(at, actor, r);
        a.audit = Some(Audit::Search {
            text: text.to_string(),
        });
    }

    fn attachment(&mut self, at: i64, actor: usize, space: usize, page: usize) {
        let id = page_id(space, page);
        let file = *self
            .rng
            .pick(&["diagram.png", "notes.pdf", "export.xlsx", "slides.pptx"]);
        let r = self.req(
            "GET",
            format!("/download/attachments/{id}/{file}"),
            Some("version=1&api=v2".to_string()),
            (80_000, 4_000_000),
            (50, 900),
        );
        let a = self.push(at, actor, r);
        a.audit = Some(Audit::AttachmentDownloaded {
            page_id: id,
            file: file.to_string(),
        });
        a.cloud = Some((CloudAction::AttachmentDownloaded, "File", file.to_string()));
    }

    fn login(&mut self, at: i64, actor: usize) {
        let mut r = self.req(
            "POST",
            "/dologin.action".to_string(),
            None,
            (0, 0),
            (80, 300),
        );
        r.status = 302;
        let a = self.push(at, actor, r);
        a.audit = Some(Audit::LoginSucceeded);
    }

    /// A REST request of an atomic test, `gap` seconds (range) after the previous one.
    fn rest(
        &mut self,
        at: &mut i64,
        actor: usize,
        path: String,
        query: Option<String>,
        bytes: (u64, u64),
        cloud: Option<(CloudAction, &'static str, String)>,
    ) {
        *at += self.rng.range(800, 3_000) as i64;
        let r = self.req("GET", path, query, bytes, (40, 900));
        let a = self.push(*at, actor, r);
        a.cloud = cloud;
    }

    fn attacker(&mut self) -> usize {
        self.person(
            ATOMIC_USER,
            "Atomic Tester",
            ATTACKER_IP.to_string(),
            CURL,
            true,
        )
    }

    fn atomic_space_enum(&mut self, p: &Params) {
        let a = self.attacker();
        let mut at = p.start_ms;
        for k in 0..3 {
            self.rest(
                &mut at,
                a,
                "/rest/api/space".into(),
                Some(format!("limit=25&start={}", k * 25)),
                (18_000, 42_000),
                Some((CloudAction::SpaceViewed, "Space", "spaces".into())),
            );
        }
        for key in ["ENG", "OPS", "SEC"] {
            let name = SPACES.iter().find(|s| s.key == key).map_or(key, |s| s.name);
            self.rest(
                &mut at,
                a,
                format!("/rest/api/space/{key}"),
                Some("expand=description.plain,homepage".into()),
                (2_000, 6_000),
                Some((CloudAction::SpaceViewed, "Space", name.to_string())),
            );
            self.rest(
                &mut at,
                a,
                format!("/rest/api/space/{key}/content"),
                Some("limit=25".into()),
                (30_000, 80_000),
                Some((CloudAction::SpaceViewed, "Space", name.to_string())),
            );
        }
    }

    fn atomic_cql_hunt(&mut self, p: &Params) {
        let a = self.attacker();
        let mut at = p.start_ms;
        for term in CQL_TERMS {
            let cql = format!("text~\"{term}\"");
            self.rest(
                &mut at,
                a,
                "/rest/api/content/search".into(),
                Some(format!("cql={}&limit=25", enc(&cql))),
                (4_000, 60_000),
                None,
            );
            // The DC audit log keeps the query as the user wrote it.
            self.t.activities.last_mut().expect("pushed").audit = Some(Audit::Search { text: cql });
        }
    }

    fn atomic_body_storage(&mut self, p: &Params) {
        let a = self.attacker();
        let mut at = p.start_ms;
        for k in 0..12 {
            self.rest(
                &mut at,
                a,
                "/rest/api/content".into(),
                Some(format!(
                    "spaceKey=ENG&type=page&expand=body.storage,version,space&limit=50&start={}",
                    k * 50
                )),
                (300_000, 1_200_000),
                Some((
                    CloudAction::ContentViewed,
                    "Page",
                    "Engineering pages".into(),
                )),
            );
            let last = self.t.activities.last_mut().expect("pushed");
            if let Some(r) = &mut last.request {
                r.duration_ms = 800 + (r.bytes / 1_000) as u32;
            }
        }
    }

    /// The web UI's space export, as a script or a backup job drives it.
    fn space_export(&mut self, start: i64, actor: usize, key: &str, task: u64) -> i64 {
        let name = SPACES
            .iter()
            .find(|s| s.key == key)
            .map_or(key, |s| s.name)
            .to_string();
        let mut at = start;
        let r = self.req(
            "GET",
            "/spaces/exportspacexml.action".into(),
            Some(format!("key={key}")),
            (9_000, 14_000),
            (80, 300),
        );
        self.push(at, actor, r);
        at += self.rng.range(1_000, 3_000) as i64;
        let mut r = self.req(
            "POST",
            "/spaces/doexportspace.action".into(),
            Some(format!("key={key}")),
            (0, 0),
            (200, 900),
        );
        r.status = 302;
        let a = self.push(at, actor, r);
        a.audit = Some(Audit::SpaceExported {
            key: key.to_string(),
            name: name.clone(),
        });
        a.cloud = Some((CloudAction::SpaceExported, "Space", name));
        for _ in 0..3 {
            at += self.rng.range(2_000, 5_000) as i64;
            let r = self.req(
                "GET",
                "/pages/longrunningtaskxml.action".into(),
                Some(format!("taskId={task}")),
                (1_500, 3_000),
                (20, 80),
            );
            self.push(at, actor, r);
        }
        at += self.rng.range(500, 2_000) as i64;
        let r = self.req(
            "GET",
            format!(
                "/download/temp/xmlexport-20261123-{:06}-{task}.zip",
                (at / 1000) % 1_000_000
            ),
            None,
            (40_000_000, 220_000_000),
            (4_000, 30_000),
        );
        self.push(at, actor, r);
        at
    }

    fn atomic_space_export(&mut self, p: &Params) {
        // The export goes through the web UI with a session cookie: no Basic auth.
        let a = self.person(
            ATOMIC_USER,
            "Atomic Tester",
            ATTACKER_IP.to_string(),
            CURL,
            false,
        );
        self.login(p.start_ms, a);
        self.space_export(p.start_ms + 1_500, a, "ENG", 4_718_593);
    }

    fn doc_sprint(&mut self, p: &Params) {
        let docs = SPACES
            .iter()
            .position(|s| s.key == "DOCS")
            .expect("DOCS space");
        let names = [
            "tw-anna",
            "tw-ben",
            "tw-chloe",
            "tw-dmitri",
            "tw-emma",
            "tw-farid",
        ];
        for w in 0..p.users {
            let name = names
                .get(w)
                .map_or_else(|| format!("tw-{w}"), |n| n.to_string());
            let ua = *self.rng.pick(BROWSERS);
            let a = self.person(&name, &name, format!("10.20.30.{}", 100 + w), ua, false);
            let mut rng = self.rng.fork(w as u64);
            let mut at = p.start_ms + rng.range(0, 300_000) as i64;
            self.login(at, a);
            let end = p.start_ms + i64::from(p.hours) * 3_600_000;
            while at < end {
                at += 15_000 + rng.exp(36_000.0) as i64;
                // Mostly the documentation space, in page order (a review), some elsewhere.
                let (space, page) = if rng.chance(0.85) {
                    (
                        docs,
                        rng.range(0, SPACES[docs].pages.len() as u64 - 1) as usize,
                    )
                } else {
                    let all = all_pages();
                    *rng.pick(&all)
                };
                self.page_view(at, a, space, page);
            }
        }
    }

    fn ci_bot(&mut self, p: &Params) {
        let backup = self.person(
            "svc-backup",
            "Backup Service",
            "10.0.5.10".into(),
            "confluence-backup/2.4",
            false,
        );
        let mut at = p.start_ms;
        self.login(at, backup);
        for (i, space) in SPACES.iter().enumerate() {
            at = self.space_export(at + 2_000, backup, space.key, 5_000_000 + i as u64);
        }
        // A documentation generator pulling page bodies of the product docs.
        let docgen = self.person(
            "svc-docgen",
            "Docs Generator",
            "10.0.5.11".into(),
            "Apache-HttpClient/4.5.14 (Java/17.0.9)",
            true,
        );
        let mut at = p.start_ms + 1_800_000;
        for k in 0..15 {
            self.rest(
                &mut at,
                docgen,
                "/rest/api/content".into(),
                Some(format!(
                    "spaceKey=DOCS&type=page&expand=body.storage&limit=25&start={}",
                    k * 25
                )),
                (200_000, 600_000),
                Some((
                    CloudAction::ContentViewed,
                    "Page",
                    "Product Documentation pages".into(),
                )),
            );
        }
    }

    fn onboarding(&mut self, p: &Params) {
        let a = self.person(
            "new-hire-priya",
            "Priya Raman",
            "10.20.30.61".into(),
            BROWSERS[2],
            false,
        );
        let pages = all_pages();
        let mut rng = self.rng.fork(11);
        let end = p.start_ms + i64::from(p.hours) * 3_600_000;
        let mut at = p.start_ms + 600_000;
        self.login(at, a);
        // The first hours: everything, fast (a tour of the wiki); then slower reading.
        while at < end {
            let elapsed = at - p.start_ms;
            let mean = if elapsed < 3 * 3_600_000 {
                40_000.0
            } else {
                150_000.0
            };
            at += 10_000 + rng.exp(mean) as i64;
            let (space, page) = *rng.pick(&pages);
            if rng.chance(0.12) {
                let mut r = self.req(
                    "GET",
                    "/spaces/viewspace.action".into(),
                    Some(format!("key={}", SPACES[space].key)),
                    (30_000, 70_000),
                    (80, 400),
                );
                r.referrer = Some(format!("{HOST}/spacedirectory/view.action"));
                let act = self.push(at, a, r);
                act.cloud = Some((
                    CloudAction::SpaceViewed,
                    "Space",
                    SPACES[space].name.to_string(),
                ));
            } else {
                self.page_view(at, a, space, page);
            }
        }
    }

    fn cloud_search(&mut self, p: &Params) {
        let names = [
            "eng-omar",
            "eng-lena",
            "eng-raj",
            "eng-sofia",
            "eng-tom",
            "eng-yuki",
        ];
        let pages = all_pages();
        for e in 0..p.users {
            let name = names
                .get(e)
                .map_or_else(|| format!("eng-{e}"), |n| n.to_string());
            let ua = *self.rng.pick(BROWSERS);
            let a = self.person(&name, &name, format!("10.20.31.{}", 10 + e), ua, false);
            let mut rng = self.rng.fork(100 + e as u64);
            let day = i64::from(p.hours) * 3_600_000;
            // Two or three cloud searches, at least 25 minutes apart, each followed by reading.
            let n = rng.range(2, 3);
            let mut at = p.start_ms + rng.range(0, 3_600_000) as i64;
            for _ in 0..n {
                if at >= p.start_ms + day {
                    break;
                }
                let text = *rng.pick(CLOUD_SEARCHES);
                self.browser_search(at, a, text);
                let mut t = at;
                for _ in 0..rng.range(1, 4) {
                    t += 20_000 + rng.exp(60_000.0) as i64;
                    let (space, page) = *rng.pick(&pages);
                    self.page_view(t, a, space, page);
                }
                at += 1_500_000 + rng.range(0, 5_400_000) as i64;
            }
        }
    }

    fn baseline(&mut self, p: &Params) {
        let pages = all_pages();
        for u in 0..p.users {
            let name = format!("user{:04}", u + 1);
            let mut rng = self.rng.fork(1_000 + u as u64);
            let ua = *rng.pick(BROWSERS);
            let ip = format!("10.{}.{}.{}", 40 + u / 62_500, (u / 250) % 250, u % 250 + 1);
            let a = self.person(&name, &name, ip, ua, false);
            // Activity varies a lot between people: a few read much more than most.
            let appetite = 0.4 + rng.exp(0.8);
            let span = i64::from(p.hours) * 3_600_000;
            let sessions = rng.range(2, 5);
            let mut logged_in = false;
            for s in 0..sessions {
                let mut at = p.start_ms
                    + (span * s as i64) / sessions as i64
                    + rng.range(0, (span / sessions as i64 / 2) as u64) as i64;
                if !logged_in {
                    self.login(at, a);
                    logged_in = true;
                }
                let views = ((rng.range(3, 9) as f64) * appetite).round() as u64;
                for _ in 0..views {
                    at += 8_000 + rng.exp(75_000.0) as i64;
                    let (space, page) = pages[rng.zipf(pages.len())];
                    self.page_view(at, a, space, page);
                    if rng.chance(0.05) {
                        self.attachment(at + 20_000, a, space, page);
                    }
                }
                if rng.chance(0.35) {
                    at += 30_000 + rng.exp(60_000.0) as i64;
                    let text = if rng.chance(0.08) {
                        *rng.pick(CLOUD_SEARCHES)
                    } else {
                        *rng.pick(ORDINARY_SEARCHES)
                    };
                    self.browser_search(at, a, text);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in Scenario::ALL {
            assert_eq!(Scenario::from_name(s.name()), Some(s));
        }
    }

    #[test]
    fn generation_is_deterministic_and_ordered() {
        for s in Scenario::ALL {
            let p = Params {
                users: 5,
                ..Params::default()
            };
            let a = s.generate(&p);
            assert_eq!(a, s.generate(&p), "{}", s.name());
            assert!(a.activities.windows(2).all(|w| w[0].at_ms <= w[1].at_ms));
            assert!(!a.activities.is_empty(), "{}", s.name());
        }
    }

    #[test]
    fn the_atomic_scenarios_send_the_atomic_requests() {
        let t = Scenario::AtomicCqlHunt.generate(&Params::default());
        let queries: Vec<&str> = t
            .activities
            .iter()
            .filter_map(|a| a.request.as_ref()?.query.as_deref())
            .collect();
        assert_eq!(queries.len(), CQL_TERMS.len());
        assert_eq!(queries[0], "cql=text~%22password%22&limit=25");
        assert_eq!(queries[3], "cql=text~%22api%20key%22&limit=25");
        let t = Scenario::AtomicBodyStorage.generate(&Params::default());
        assert_eq!(t.activities.len(), 12);
        assert!(
            t.activities
                .iter()
                .all(|a| a.request.as_ref().unwrap().bytes >= 300_000)
        );
    }
}
