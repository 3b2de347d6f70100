//! The URL classifier, one row per rule and per kind of noise, from the URL shapes Confluence
//! Server/Data Center and Cloud really serve (CONFLUENCE-TELEMETRY.md section 4).

use quarry_ingest::classify::{Action, Classifier, RULES};

/// (method, URL as logged, action, space key, content id, searched text)
type Row = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
);

const ROWS: &[Row] = &[
    // Pages in the browser.
    (
        "GET",
        "/display/OPS/VPN+Setup",
        "page_viewed",
        Some("OPS"),
        None,
        None,
    ),
    (
        "GET",
        "/display/OPS",
        "space_viewed",
        Some("OPS"),
        None,
        None,
    ),
    (
        "GET",
        "/pages/viewpage.action?pageId=2129924",
        "page_viewed",
        None,
        Some("2129924"),
        None,
    ),
    (
        "GET",
        "/pages/viewpage.action?spaceKey=OPS&title=VPN+Setup",
        "page_viewed",
        Some("OPS"),
        None,
        None,
    ),
    (
        "GET",
        "/spaces/OPS/pages/98305/VPN+Setup",
        "page_viewed",
        Some("OPS"),
        Some("98305"),
        None,
    ),
    (
        "GET",
        "/wiki/spaces/ENG/pages/123456/Runbook",
        "page_viewed",
        Some("ENG"),
        Some("123456"),
        None,
    ),
    (
        "GET",
        "/wiki/spaces/ENG/blog/2024/05/01/42/Post",
        "page_viewed",
        Some("ENG"),
        None,
        None,
    ),
    ("GET", "/x/AbCd", "page_viewed", None, None, None),
    (
        "GET",
        "/pages/viewpreviousversions.action?pageId=7",
        "page_viewed",
        None,
        Some("7"),
        None,
    ),
    (
        "GET",
        "/confluence/display/OPS/Home",
        "page_viewed",
        Some("OPS"),
        None,
        None,
    ),
    (
        "GET",
        "/pages/viewpage.action?pageId=5&decorator=printable",
        "page_printed",
        None,
        Some("5"),
        None,
    ),
    // REST content (bulk extraction).
    (
        "GET",
        "/rest/api/content/98305?expand=body.storage,version,space",
        "content_viewed",
        None,
        Some("98305"),
        None,
    ),
    (
        "GET",
        "/rest/api/content?spaceKey=OPS&type=page&expand=body.storage&limit=100&start=200",
        "content_viewed",
        Some("OPS"),
        None,
        None,
    ),
    (
        "GET",
        "/rest/api/content/98305/child/page",
        "content_viewed",
        None,
        Some("98305"),
        None,
    ),
    (
        "GET",
        "/plugins/viewsource/viewpagesrc.action?pageId=9",
        "content_viewed",
        None,
        Some("9"),
        None,
    ),
    (
        "GET",
        "/wiki/api/v2/pages/123?body-format=storage",
        "content_viewed",
        None,
        None,
        None,
    ),
    (
        "GET",
        "/wiki/api/v2/spaces/65536/pages?limit=250",
        "content_viewed",
        None,
        None,
        None,
    ),
    (
        "GET",
        "/wiki/rest/api/content/77?expand=body.storage",
        "content_viewed",
        None,
        Some("77"),
        None,
    ),
    // Spaces (enumeration).
    (
        "GET",
        "/rest/api/space?limit=100&start=0",
        "space_viewed",
        None,
        None,
        None,
    ),
    (
        "GET",
        "/rest/api/space/OPS",
        "space_viewed",
        None,
        None,
        None,
    ),
    (
        "GET",
        "/wiki/api/v2/spaces?limit=250",
        "space_viewed",
        None,
        None,
        None,
    ),
    (
        "GET",
        "/spaces/viewspace.action?key=OPS",
        "space_viewed",
        Some("OPS"),
        None,
        None,
    ),
    (
        "GET",
        "/spacedirectory/view.action",
        "space_viewed",
        None,
        None,
        None,
    ),
    (
        "GET",
        "/pages/listpages-dirview.action?key=OPS",
        "space_viewed",
        Some("OPS"),
        None,
        None,
    ),
    (
        "GET",
        "/wiki/spaces/ENG/overview",
        "space_viewed",
        Some("ENG"),
        None,
        None,
    ),
    // Searches: the words land in `message`.
    (
        "GET",
        "/rest/api/content/search?cql=text%20~%20%22password%22",
        "search_performed",
        None,
        None,
        Some("password"),
    ),
    (
        "GET",
        "/rest/api/search?cql=siteSearch+~+%22api+key%22+and+type+%3D+page",
        "search_performed",
        None,
        None,
        Some("api key"),
    ),
    (
        "GET",
        "/dosearchsite.action?queryString=aws+secret",
        "search_performed",
        None,
        None,
        Some("aws secret"),
    ),
    (
        "GET",
        "/rest/searchv3/1.0/search?queryString=vpn&where=conf_all&type=page",
        "search_performed",
        None,
        None,
        Some("vpn"),
    ),
    (
        "GET",
        "/wiki/search?text=ldap",
        "search_performed",
        None,
        None,
        Some("ldap"),
    ),
    (
        "GET",
        "/rest/api/search?cql=type%3Dpage",
        "search_performed",
        None,
        None,
        Some("type=page"),
    ),
    // Attachments.
    (
        "GET",
        "/download/attachments/98305/network-diagram.png?version=1&api=v2",
        "attachment_downloaded",
        None,
        Some("98305"),
        None,
    ),
    (
        "GET",
        "/rest/api/content/98305/child/attachment/att77/download",
        "attachment_downloaded",
        None,
        Some("98305"),
        None,
    ),
    // Exports.
    (
        "GET",
        "/spaces/exportspacexml.action?key=OPS",
        "space_exported",
        Some("OPS"),
        None,
        None,
    ),
    (
        "GET",
        "/spaces/exportspacezipxml.action?key=OPS",
        "space_exported",
        Some("OPS"),
        None,
        None,
    ),
    (
        "POST",
        "/spaces/doexportspace.action?key=OPS",
        "space_exported",
        Some("OPS"),
        None,
        None,
    ),
    (
        "GET",
        "/spaces/doexportspace.action?key=OPS",
        "other",
        None,
        None,
        None,
    ),
    (
        "GET",
        "/download/temp/xmlexport-20240501-120000-1.zip",
        "space_exported",
        None,
        None,
        None,
    ),
    (
        "GET",
        "/spaces/flyingpdf/flyingpdf.action?key=OPS",
        "space_exported",
        Some("OPS"),
        None,
        None,
    ),
    (
        "GET",
        "/spaces/flyingpdf/pdfpageexport.action?pageId=98305",
        "content_exported",
        None,
        Some("98305"),
        None,
    ),
    (
        "GET",
        "/exportword?pageId=98305",
        "content_exported",
        None,
        Some("98305"),
        None,
    ),
    // Logins.
    ("POST", "/dologin.action", "user_login", None, None, None),
    // Noise: counted, never content.
    (
        "GET",
        "/rest/quickreload/latest/2129924?since=1608256850024",
        "noise",
        None,
        None,
        None,
    ),
    (
        "GET",
        "/s/en_GB/8703/abc/_/download/batch/x.js",
        "noise",
        None,
        None,
        None,
    ),
    (
        "GET",
        "/images/icons/profilepics/default.svg",
        "noise",
        None,
        None,
        None,
    ),
    (
        "GET",
        "/download/thumbnails/98305/diagram.png",
        "noise",
        None,
        None,
        None,
    ),
    (
        "GET",
        "/rest/analytics/1.0/publish/bulk",
        "noise",
        None,
        None,
        None,
    ),
    (
        "POST",
        "/rest/mywork/latest/status/notification/count",
        "noise",
        None,
        None,
        None,
    ),
    (
        "GET",
        "/plugins/servlet/notifications-miniview",
        "noise",
        None,
        None,
        None,
    ),
    ("GET", "/favicon.ico", "noise", None, None, None),
    ("GET", "/custom/theme/logo.svg", "noise", None, None, None),
    // Everything else is context, not content.
    ("GET", "/index.action", "other", None, None, None),
    ("GET", "/rest/api/user/current", "other", None, None, None),
    (
        "POST",
        "/template/aui/text-inline.vm",
        "other",
        None,
        None,
        None,
    ),
    (
        "GET",
        "/rest/inlinecomments/1.0/comments?containerId=5",
        "noise",
        None,
        None,
        None,
    ),
    ("GET", "/displayX/OPS", "other", None, None, None),
    (
        "GET",
        "/rest/api/content/search-extras",
        "other",
        None,
        None,
        None,
    ),
];

#[test]
fn every_row_classifies_as_documented() {
    let classifier = Classifier::new(Some("/confluence"));
    let mut failures = Vec::new();
    for (method, url, action, space, id, text) in ROWS {
        let (path, query) = match url.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (*url, None),
        };
        let got = classifier.classify(method, path, query);
        let row = (
            got.action().as_str(),
            got.space_key.as_deref(),
            got.content_id.as_deref(),
            got.search_text.as_deref(),
        );
        if row != (*action, *space, *id, *text) {
            failures.push(format!(
                "{method} {url}\n  expected {:?}\n  got      {row:?}",
                (action, space, id, text)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_content_rule_has_a_row() {
    // The table may grow; each rule's action must be exercised above.
    for r in RULES {
        assert!(
            ROWS.iter().any(|row| row.2 == r.action.as_str()),
            "no row exercises {:?} ({})",
            r.action,
            r.note
        );
    }
    assert!(
        !Action::Noise.is_content()
            && !Action::Other.is_content()
            && Action::PageViewed.is_content()
    );
}
