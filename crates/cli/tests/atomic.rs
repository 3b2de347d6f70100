//! `quarry atomic` as an operator uses it: `list`, `show` (the sh script and the Atomic Red Team
//! YAML) and `run`, the last against a loopback HTTP server started here. Nothing touches a real
//! network. Without curl on the machine, the tests that need it print SKIPPED and pass.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

const TOKEN: &str = "tok-3n7:x/y+z";
const PASSWORD: &str = "s3cret & \"quoted\" é";

fn quarry(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_quarry"));
    cmd.args(args)
        .env_remove("CONFLUENCE_TOKEN")
        .env_remove("CONFLUENCE_PASSWORD");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("quarry runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Whether curl can run here; if not, say SKIPPED on the real stderr (not the captured one).
fn have_curl(test: &str) -> bool {
    let ok = Command::new("curl")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {test}: curl is not installed (`curl --version` failed); `quarry atomic run` needs it"
        );
    }
    ok
}

// ------------------------------------------------------------------------------------------------
// A loopback HTTP/1.1 server that records every request.

#[derive(Clone, Debug)]
struct Seen {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn line(&self) -> String {
        format!("{} {}", self.method, self.target)
    }
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn ok(content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status: 200,
            headers: vec![("Content-Type".into(), content_type.into())],
            body: body.into(),
        }
    }
    fn redirect(location: &str) -> Reply {
        Reply {
            status: 302,
            headers: vec![("Location".into(), location.into())],
            body: Vec::new(),
        }
    }
}

type Handler = Box<dyn Fn(&Seen) -> Reply + Send + 'static>;

struct Server {
    base: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    fn start(handler: Handler) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen2, stop2) = (seen.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut stream) = stream else { continue };
                if let Some(req) = read_request(&mut stream) {
                    let reply = handler(&req);
                    seen2.lock().unwrap().push(req);
                    write_reply(&mut stream, &reply);
                }
            }
        });
        Server {
            base: format!("http://{addr}"),
            seen,
            stop,
            thread: Some(thread),
        }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn lines(&self) -> Vec<String> {
        self.seen().iter().map(Seen::line).collect()
    }

    fn clear(&self) {
        self.seen.lock().unwrap().clear();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.base.trim_start_matches("http://"));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn read_request(stream: &mut TcpStream) -> Option<Seen> {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let target = first.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Seen {
        method,
        target,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn write_reply(stream: &mut TcpStream, r: &Reply) {
    let reason = match r.status {
        200 => "OK",
        302 => "Found",
        404 => "Not Found",
        _ => "Status",
    };
    let mut head = format!("HTTP/1.1 {} {reason}\r\n", r.status);
    for (n, v) in &r.headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        r.body.len()
    ));
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&r.body);
    let _ = stream.flush();
}

const ZIP: &[u8] = b"PK\x03\x04 not really a zip, but the bytes of one";

/// Confluence as far as the four tests go: JSON for the REST calls; for the export, a login that
/// sets a session cookie, an export that redirects to a task page whose first poll is still
/// running and whose second links the archive (inside escaped HTML, as a task status served as
/// XML has it), and the archive.
fn confluence() -> Handler {
    let polls = AtomicUsize::new(0);
    Box::new(move |req: &Seen| {
        let path = req.target.split('?').next().unwrap_or("");
        match (req.method.as_str(), path) {
            ("POST", "/dologin.action") => Reply {
                status: 302,
                headers: vec![
                    ("Location".into(), "/index.action".into()),
                    (
                        "Set-Cookie".into(),
                        "JSESSIONID=F00DCAFE; Path=/; HttpOnly".into(),
                    ),
                    ("X-Seraph-LoginReason".into(), "OK".into()),
                ],
                body: Vec::new(),
            },
            ("GET", "/spaces/exportspacexml.action") => Reply::ok(
                "text/html",
                "<html><form action=\"/spaces/doexportspace.action?key=ENG\" method=\"post\"></form></html>",
            ),
            ("POST", "/spaces/doexportspace.action") => {
                Reply::redirect("/pages/longrunningtaskxml.action?taskId=42")
            }
            ("GET", "/pages/longrunningtaskxml.action") => {
                if polls.fetch_add(1, Ordering::SeqCst) == 0 {
                    Reply::ok(
                        "text/xml",
                        "<task><isComplete>false</isComplete><percentageComplete>40</percentageComplete></task>",
                    )
                } else {
                    Reply::ok(
                        "text/xml",
                        "<task><isComplete>true</isComplete><currentStatus>The export is complete. \
                         &lt;a class=&quot;space-export-download-path&quot; href=&quot;/download/temp/x.zip&quot;&gt;Download here&lt;/a&gt;\
                         </currentStatus></task>",
                    )
                }
            }
            ("GET", "/download/temp/x.zip") => Reply::ok("application/zip", ZIP),
            ("GET", _) if path.starts_with("/rest/api/") => Reply::ok(
                "application/json",
                format!(
                    "{{\"results\":[],\"start\":0,\"limit\":25,\"size\":0,\"path\":\"{path}\"}}"
                ),
            ),
            _ => Reply {
                status: 404,
                headers: Vec::new(),
                body: b"not here".to_vec(),
            },
        }
    })
}

fn basic(user: &str, secret: &str) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = format!("{user}:{secret}").into_bytes();
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    format!("Basic {out}")
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("atomic-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn expected_space_enum() -> Vec<String> {
    let mut v: Vec<String> = (0..3)
        .map(|k| format!("GET /rest/api/space?limit=25&start={}", k * 25))
        .collect();
    for key in ["ENG", "OPS", "SEC"] {
        v.push(format!(
            "GET /rest/api/space/{key}?expand=description.plain,homepage"
        ));
        v.push(format!("GET /rest/api/space/{key}/content?limit=25"));
    }
    v
}

fn expected_cql() -> Vec<String> {
    [
        "password",
        "credential",
        "secret",
        "api%20key",
        "token",
        "ssh%20key",
        "aws%20access%20key",
        "vpn",
    ]
    .iter()
    .map(|t| format!("GET /rest/api/content/search?cql=text~%22{t}%22&limit=25"))
    .collect()
}

fn expected_body_storage() -> Vec<String> {
    (0..12)
        .map(|k| {
            format!(
                "GET /rest/api/content?spaceKey=ENG&type=page&expand=body.storage,version,space&limit=50&start={}",
                k * 50
            )
        })
        .collect()
}

fn expected_export() -> Vec<String> {
    [
        "POST /dologin.action",
        "GET /spaces/exportspacexml.action?key=ENG",
        "POST /spaces/doexportspace.action?key=ENG",
        "GET /pages/longrunningtaskxml.action?taskId=42",
        "GET /pages/longrunningtaskxml.action?taskId=42",
        "GET /download/temp/x.zip",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// The login form body: values percent-encoded, space as %20.
fn login_body(user: &str) -> String {
    format!(
        "os_username={user}&os_password=s3cret%20%26%20%22quoted%22%20%C3%A9&login=Log%20in&os_destination="
    )
}

const EXPORT_FORM: &str =
    "exportType=TYPE_XML&contentOption=all&includeComments=true&synchronous=false";

// ------------------------------------------------------------------------------------------------
// list and show

#[test]
fn list_prints_number_name_and_guid() {
    let out = quarry(&["atomic", "list"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let rows: Vec<Vec<&str>> = stdout
        .lines()
        .map(|l| {
            l.split("  ")
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect()
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            vec![
                "1",
                "Confluence Space Enumeration via REST API",
                "8da0760e-4982-4f7d-af0d-6a8d4a205bad"
            ],
            vec![
                "2",
                "Confluence Credential Hunting via Search API (CQL)",
                "e8c1dd25-23a5-463b-b5c4-7738964470a0"
            ],
            vec![
                "3",
                "Bulk Page Content Extraction with Body Storage Expansion",
                "b4092907-e34f-47d6-afbc-964dec774ad8"
            ],
            vec![
                "4",
                "Confluence Space XML Export via Web Interface",
                "49e73a12-decc-4b97-a8ed-b9656a0d3710"
            ],
        ]
    );
}

fn curl_lines(script: &str) -> Vec<&str> {
    script
        .lines()
        .filter(|l| l.trim_start().starts_with("curl ") || l.contains("=$(curl "))
        .collect()
}

#[test]
fn show_prints_the_exact_curl_commands_with_the_token_from_the_environment() {
    let out = quarry(
        &[
            "atomic",
            "show",
            "1",
            "--base-url",
            "https://wiki.example.com/",
            "--user",
            "alice",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let script = text(&out.stdout);
    assert!(script.starts_with(
        "#!/bin/sh\n# T1213.001 atomic test 1: Confluence Space Enumeration via REST API\n"
    ));
    assert!(script.contains("# auto_generated_guid: 8da0760e-4982-4f7d-af0d-6a8d4a205bad\n"));
    let curls = curl_lines(&script);
    let expected: Vec<String> = expected_space_enum()
        .iter()
        .map(|l| {
            let target = l.strip_prefix("GET ").unwrap();
            let url = format!("https://wiki.example.com{target}");
            let url = if url.contains('?') { format!("'{url}'") } else { url };
            format!(
                "curl -sS -u \"alice:${{CONFLUENCE_TOKEN}}\" -o /dev/null -w '%{{http_code}} %{{size_download}} %{{url_effective}}\\n' {url}"
            )
        })
        .collect();
    assert_eq!(curls, expected);
    // Rate-limited: a pause between requests, the default second.
    assert_eq!(script.matches("\nsleep 1\n").count(), 8);
    assert!(
        script.contains(": \"${CONFLUENCE_TOKEN:?")
            || script.contains("[ -n \"${CONFLUENCE_TOKEN:-}\" ]")
    );
    assert!(script.contains("# Expected telemetry:\n"));
    assert!(script.contains("#   DC audit log [no]:\n"));
    assert!(script.contains("#   access log (Tomcat conf_access_log) [yes]:\n"));
    assert!(script.contains("# Cleanup: none needed"));
}

#[test]
fn show_encodes_the_cql_and_can_send_a_bearer_token() {
    let out = quarry(
        &[
            "atomic",
            "show",
            "2",
            "--token-env",
            "MY_PAT",
            "--auth",
            "bearer",
            "--delay-ms",
            "0",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let script = text(&out.stdout);
    let curls = curl_lines(&script);
    assert_eq!(curls.len(), 8);
    for (line, expected) in curls.iter().zip(expected_cql()) {
        let target = expected.strip_prefix("GET ").unwrap();
        assert!(
            line.starts_with("curl -sS -H \"Authorization: Bearer ${MY_PAT}\" ")
                && line.ends_with(&format!("'https://confluence.example.com{target}'")),
            "{line}"
        );
    }
    assert!(!script.contains("sleep"), "--delay-ms 0 leaves no pause");
}

#[test]
fn show_of_the_export_has_the_login_the_export_form_and_the_cleanup() {
    let out = quarry(&["atomic", "show", "4", "--user", "bob"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let script = text(&out.stdout);
    assert!(script.contains(
        "curl -sS -b \"$COOKIE_JAR\" -c \"$COOKIE_JAR\" --data-raw os_username=bob --data-raw \"os_password=$(quarry_urlencode \"${CONFLUENCE_PASSWORD}\")\" --data-raw login=Log%20in --data-raw os_destination= "
    ));
    assert!(
        script.contains("'https://confluence.example.com/spaces/exportspacexml.action?key=ENG'")
    );
    assert!(script.contains(
        "-H 'X-Atlassian-Token: no-check' --data-raw exportType=TYPE_XML --data-raw contentOption=all --data-raw includeComments=true --data-raw synchronous=false -o \"$BODY\" -w '%{redirect_url}' 'https://confluence.example.com/spaces/doexportspace.action?key=ENG'"
    ));
    assert!(script.contains("while [ \"$polls\" -lt 60 ]; do"));
    assert!(script.contains("#   rm -f -- /tmp/quarry-atomic-t1213.001/space-export-*.xml.zip\n"));
    assert!(
        script.contains("exportspacezipxml.action"),
        "the description names the seed's page"
    );
    assert!(script.contains("#   DC audit log [yes]:\n"));
}

#[test]
fn tests_are_chosen_by_number_guid_or_unique_name_prefix() {
    let by_prefix = text(&quarry(&["atomic", "show", "bulk"], &[]).stdout);
    assert!(by_prefix.contains("atomic test 3: Bulk Page Content Extraction"));
    let by_guid = text(
        &quarry(
            &["atomic", "show", "49e73a12-decc-4b97-a8ed-b9656a0d3710"],
            &[],
        )
        .stdout,
    );
    assert!(by_guid.contains("atomic test 4: Confluence Space XML Export"));

    let ambiguous = quarry(&["atomic", "show", "confluence"], &[]);
    assert_eq!(ambiguous.status.code(), Some(2));
    assert!(
        text(&ambiguous.stderr).contains("matches several tests (1, 2, 4)"),
        "{}",
        text(&ambiguous.stderr)
    );
    let missing = quarry(&["atomic", "show", "9"], &[]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("there is no test 9"));
    let none = quarry(&["atomic", "show"], &[]);
    assert_eq!(none.status.code(), Some(2));
    let bad_arg = quarry(&["atomic", "show", "1", "--arg", "nope=1"], &[]);
    assert_eq!(bad_arg.status.code(), Some(2));
    assert!(text(&bad_arg.stderr).contains("has no input argument \"nope\""));
    let bad_env = quarry(&["atomic", "show", "1", "--token-env", "not a name"], &[]);
    assert_eq!(bad_env.status.code(), Some(2));
}

/// Checks the YAML's shape without a YAML library: known keys at known indentation, block
/// scalars indented under their key, quoted scalars closed.
fn check_yaml_shape(yaml: &str) {
    let top = ["attack_technique", "display_name", "atomic_tests"];
    let test_keys = [
        "name",
        "auto_generated_guid",
        "description",
        "supported_platforms",
        "input_arguments",
        "dependency_executor_name",
        "dependencies",
        "executor",
    ];
    let mut block: Option<usize> = None;
    for (n, line) in yaml.lines().enumerate() {
        let n = n + 1;
        let indent = line.len() - line.trim_start().len();
        if let Some(b) = block {
            if line.is_empty() || indent > b {
                continue;
            }
            block = None;
        }
        assert!(
            !line.ends_with(' '),
            "line {n} has trailing spaces: {line:?}"
        );
        assert_eq!(indent % 2, 0, "line {n} is oddly indented: {line:?}");
        let body = line.trim_start().trim_start_matches("- ");
        let (key, value) = body.split_once(':').unwrap_or_else(|| {
            // A sequence item that is a plain scalar (a platform).
            assert!(
                line.starts_with("  - "),
                "line {n} is not `key: value`: {line:?}"
            );
            (body, "")
        });
        let dash = line.trim_start().starts_with("- ");
        match (indent, dash) {
            (0, false) => assert!(top.contains(&key), "line {n}: unknown top key {key}"),
            (0, true) => assert_eq!(key, "name", "line {n}: a test starts with its name"),
            (2, false) => assert!(test_keys.contains(&key), "line {n}: unknown test key {key}"),
            _ => {}
        }
        let value = value.trim();
        if value == "|" {
            block = Some(indent + usize::from(dash) * 2);
        } else if let Some(q) = value.strip_prefix('\'') {
            assert!(
                q.ends_with('\'') && !q.replace("''", "").trim_end_matches('\'').contains('\''),
                "line {n}: bad quoting: {line:?}"
            );
        } else {
            assert!(
                !value.contains(": ") && !value.contains(" #"),
                "line {n} needs quotes: {line:?}"
            );
        }
    }
}

#[test]
fn show_yaml_has_atomic_red_teams_shape() {
    let out = quarry(&["atomic", "show", "--yaml"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let yaml = text(&out.stdout);
    assert!(yaml.starts_with(
        "attack_technique: T1213.001\ndisplay_name: 'Data from Information Repositories: Confluence'\natomic_tests:\n- name: Confluence Space Enumeration via REST API\n  auto_generated_guid: 8da0760e-4982-4f7d-af0d-6a8d4a205bad\n  description: |\n    "
    ));
    assert_eq!(yaml.matches("\n- name: ").count(), 4);
    for guid in [
        "8da0760e-4982-4f7d-af0d-6a8d4a205bad",
        "e8c1dd25-23a5-463b-b5c4-7738964470a0",
        "b4092907-e34f-47d6-afbc-964dec774ad8",
        "49e73a12-decc-4b97-a8ed-b9656a0d3710",
    ] {
        assert!(yaml.contains(&format!("\n  auto_generated_guid: {guid}\n")));
    }
    assert_eq!(
        yaml.matches("\n  supported_platforms:\n  - linux\n  - macos\n  input_arguments:\n")
            .count(),
        4
    );
    assert_eq!(yaml.matches("\n  dependency_executor_name: sh\n  dependencies:\n  - description: curl must be installed.\n    prereq_command: |\n      command -v curl >/dev/null 2>&1\n").count(), 4);
    assert_eq!(yaml.matches("\n  executor:\n    name: sh\n    elevation_required: false\n    command: |\n      set -eu\n").count(), 4);
    assert_eq!(yaml.matches("\n    cleanup_command: |\n").count(), 2);
    assert!(yaml.contains(
        "\n    base_url:\n      description: 'Base URL of a Confluence instance you own"
    ));
    assert!(yaml.contains("\n      type: url\n      default: https://confluence.example.com\n"));
    assert!(yaml.contains("\n    pages:\n      description: Pages of the space list to read\n      type: integer\n      default: 3\n"));
    assert!(yaml.contains("curl -sS -u \"#{username}:${#{token_env}}\""));
    check_yaml_shape(&yaml);

    let one = text(&quarry(&["atomic", "show", "2", "--yaml"], &[]).stdout);
    assert_eq!(one.matches("\n- name: ").count(), 1);
    assert!(one.contains("- name: Confluence Credential Hunting via Search API (CQL)\n"));
    check_yaml_shape(&one);
}

// ------------------------------------------------------------------------------------------------
// run: refusals

#[test]
fn run_refuses_without_the_ownership_flag() {
    let server = Server::start(confluence());
    let out = quarry(
        &[
            "atomic",
            "run",
            "1",
            "--base-url",
            &server.base,
            "--user",
            "u",
            "--delay-ms",
            "0",
        ],
        &[("CONFLUENCE_TOKEN", TOKEN)],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("without --i-own-this-instance"), "{stderr}");
    assert!(stderr.contains("an instance you own"), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(server.seen().is_empty());
}

#[test]
fn run_refuses_when_the_secret_variable_is_unset() {
    let server = Server::start(confluence());
    let out = quarry(
        &[
            "atomic",
            "run",
            "2",
            "--base-url",
            &server.base,
            "--user",
            "u",
            "--token-env",
            "QUARRY_TEST_UNSET_TOKEN",
            "--i-own-this-instance",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(
            "the environment variable QUARRY_TEST_UNSET_TOKEN (named by --token-env) is not set"
        ),
        "{stderr}"
    );

    let out = quarry(
        &[
            "atomic",
            "run",
            "4",
            "--base-url",
            &server.base,
            "--user",
            "u",
            "--i-own-this-instance",
        ],
        &[("CONFLUENCE_PASSWORD", "")],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr)
            .contains("CONFLUENCE_PASSWORD (named by --password-env) is not set or empty")
    );

    let out = quarry(
        &["atomic", "run", "1", "--user", "u", "--i-own-this-instance"],
        &[("CONFLUENCE_TOKEN", TOKEN)],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("run needs --base-url"));
    assert!(server.seen().is_empty());
}

#[test]
fn run_says_clearly_when_curl_is_missing() {
    let server = Server::start(confluence());
    let empty = temp_dir("no-curl");
    std::fs::create_dir_all(&empty).unwrap();
    let path = empty.display().to_string();
    let out = quarry(
        &[
            "atomic",
            "run",
            "1",
            "--base-url",
            &server.base,
            "--user",
            "u",
            "--i-own-this-instance",
        ],
        &[("CONFLUENCE_TOKEN", TOKEN), ("PATH", &path)],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("curl is not installed or not on PATH"),
        "{}",
        text(&out.stderr)
    );
    assert!(server.seen().is_empty());
}

// ------------------------------------------------------------------------------------------------
// run: the requests each test leaves

fn run_ok(args: &[&str], env: &[(&str, &str)]) -> String {
    let out = quarry(args, env);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{}",
        text(&out.stderr)
    );
    for secret in [TOKEN, PASSWORD] {
        assert!(
            !stdout.contains(secret) && !text(&out.stderr).contains(secret),
            "a secret was printed"
        );
    }
    stdout
}

#[test]
fn run_space_enumeration_sends_exactly_the_expected_requests() {
    if !have_curl("run_space_enumeration_sends_exactly_the_expected_requests") {
        return;
    }
    let server = Server::start(confluence());
    let stdout = run_ok(
        &[
            "atomic",
            "run",
            "1",
            "--base-url",
            &server.base,
            "--user",
            "alice",
            "--delay-ms",
            "0",
            "--i-own-this-instance",
        ],
        &[("CONFLUENCE_TOKEN", TOKEN)],
    );
    assert_eq!(server.lines(), expected_space_enum());
    for req in server.seen() {
        assert_eq!(
            req.header("authorization"),
            Some(basic("alice", TOKEN).as_str())
        );
        assert!(req.header("user-agent").unwrap_or("").starts_with("curl/"));
    }
    assert!(
        stdout.contains("  1  GET  /rest/api/space?limit=25&start=0  200  "),
        "{stdout}"
    );
    assert!(
        stdout.contains("  9  GET  /rest/api/space/SEC/content?limit=25  200  "),
        "{stdout}"
    );
    assert!(stdout.contains("9 request(s) in "), "{stdout}");
    assert!(stdout.contains("What to look for"), "{stdout}");
    assert!(stdout.contains("DC audit log [no]: Nothing."), "{stdout}");

    // Other inputs, and a bearer token.
    server.clear();
    run_ok(
        &[
            "atomic",
            "run",
            "1",
            "--base-url",
            &server.base,
            "--user",
            "alice",
            "--token-env",
            "MY_PAT",
            "--auth",
            "bearer",
            "--arg",
            "pages=1",
            "--arg",
            "space_keys= ops ,",
            "--delay-ms",
            "0",
            "--i-own-this-instance",
        ],
        &[("MY_PAT", TOKEN)],
    );
    assert_eq!(
        server.lines(),
        [
            "GET /rest/api/space?limit=25&start=0",
            "GET /rest/api/space/ops?expand=description.plain,homepage",
            "GET /rest/api/space/ops/content?limit=25",
        ]
    );
    let bearer = format!("Bearer {TOKEN}");
    assert!(
        server
            .seen()
            .iter()
            .all(|r| r.header("authorization") == Some(bearer.as_str()))
    );
}

#[test]
fn run_credential_hunting_sends_one_encoded_search_per_term() {
    if !have_curl("run_credential_hunting_sends_one_encoded_search_per_term") {
        return;
    }
    let server = Server::start(confluence());
    run_ok(
        &[
            "atomic",
            "run",
            "2",
            "--base-url",
            &server.base,
            "--user",
            "alice",
            "--delay-ms",
            "0",
            "--i-own-this-instance",
        ],
        &[("CONFLUENCE_TOKEN", TOKEN)],
    );
    assert_eq!(server.lines(), expected_cql());
    assert!(
        server
            .seen()
            .iter()
            .all(|r| r.header("authorization") == Some(basic("alice", TOKEN).as_str()))
    );
}

#[test]
fn run_bulk_extraction_saves_each_page_and_cleans_up() {
    if !have_curl("run_bulk_extraction_saves_each_page_and_cleans_up") {
        return;
    }
    let server = Server::start(confluence());
    let dir = temp_dir("bulk");
    let out_arg = format!("output_dir={}", dir.display());
    let stdout = run_ok(
        &[
            "atomic",
            "run",
            "bulk",
            "--base-url",
            &server.base,
            "--user",
            "alice",
            "--arg",
            &out_arg,
            "--delay-ms",
            "0",
            "--keep-output",
            "--i-own-this-instance",
        ],
        &[("CONFLUENCE_TOKEN", TOKEN)],
    );
    assert_eq!(server.lines(), expected_body_storage());
    for k in 0..12 {
        let page = std::fs::read_to_string(dir.join(format!("page-{k}.json"))).unwrap();
        assert!(page.contains("\"path\":\"/rest/api/content\""), "{page}");
    }
    assert!(
        stdout.contains("kept 12 file(s) (--keep-output)"),
        "{stdout}"
    );

    // Without --keep-output the files and the directory go; a file that is not the test's stays.
    std::fs::remove_dir_all(&dir).unwrap();
    server.clear();
    let stdout = run_ok(
        &[
            "atomic",
            "run",
            "3",
            "--base-url",
            &server.base,
            "--user",
            "alice",
            "--arg",
            &out_arg,
            "--arg",
            "pages=2",
            "--delay-ms",
            "0",
            "--i-own-this-instance",
        ],
        &[("CONFLUENCE_TOKEN", TOKEN)],
    );
    assert_eq!(server.lines().len(), 2);
    assert!(!dir.exists(), "{stdout}");
    assert!(
        stdout.contains("Cleanup: removed 2 file(s) and "),
        "{stdout}"
    );

    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("mine.txt"), "keep me").unwrap();
    run_ok(
        &[
            "atomic",
            "run",
            "3",
            "--base-url",
            &server.base,
            "--user",
            "alice",
            "--arg",
            &out_arg,
            "--arg",
            "pages=1",
            "--delay-ms",
            "0",
            "--i-own-this-instance",
        ],
        &[("CONFLUENCE_TOKEN", TOKEN)],
    );
    assert!(dir.join("mine.txt").exists() && !dir.join("page-0.json").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

fn check_export_requests(server: &Server, user: &str) {
    assert_eq!(server.lines(), expected_export());
    let seen = server.seen();
    assert_eq!(seen[0].body, login_body(user));
    assert_eq!(
        seen[0].header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(seen[0].header("cookie"), None);
    for req in &seen[1..] {
        assert_eq!(
            req.header("cookie"),
            Some("JSESSIONID=F00DCAFE"),
            "{}",
            req.line()
        );
        assert_eq!(req.header("authorization"), None);
    }
    assert_eq!(seen[2].body, EXPORT_FORM);
    assert_eq!(seen[2].header("x-atlassian-token"), Some("no-check"));
    assert!(
        seen.iter()
            .filter(|r| r.method == "GET")
            .all(|r| r.body.is_empty())
    );
}

#[test]
fn run_space_export_logs_in_exports_polls_and_downloads() {
    if !have_curl("run_space_export_logs_in_exports_polls_and_downloads") {
        return;
    }
    let server = Server::start(confluence());
    let dir = temp_dir("export");
    let out_arg = format!("output_dir={}", dir.display());
    let stdout = run_ok(
        &[
            "atomic",
            "run",
            "4",
            "--base-url",
            &server.base,
            "--user",
            "bob",
            "--arg",
            &out_arg,
            "--arg",
            "poll_interval_seconds=0",
            "--delay-ms",
            "0",
            "--keep-output",
            "--i-own-this-instance",
        ],
        &[("CONFLUENCE_PASSWORD", PASSWORD)],
    );
    check_export_requests(&server, "bob");
    assert_eq!(
        std::fs::read(dir.join("space-export-ENG.xml.zip")).unwrap(),
        ZIP
    );
    assert!(
        stdout.contains("  1  POST /dologin.action  302  0 bytes"),
        "{stdout}"
    );
    assert!(stdout.contains("(poll 2/60)"), "{stdout}");
    assert!(
        stdout.contains("export finished; archive /download/temp/x.zip"),
        "{stdout}"
    );
    assert!(
        stdout.contains("DC audit log [yes]: `Space export`"),
        "{stdout}"
    );
    std::fs::remove_dir_all(&dir).unwrap();

    // The cleanup removes the archive and the directory it created.
    let server = Server::start(confluence());
    run_ok(
        &[
            "atomic",
            "run",
            "4",
            "--base-url",
            &server.base,
            "--user",
            "bob",
            "--arg",
            &out_arg,
            "--arg",
            "poll_interval_seconds=0",
            "--delay-ms",
            "0",
            "--i-own-this-instance",
        ],
        &[("CONFLUENCE_PASSWORD", PASSWORD)],
    );
    assert!(!dir.exists());
}

#[test]
fn run_stops_when_the_login_is_refused() {
    if !have_curl("run_stops_when_the_login_is_refused") {
        return;
    }
    let server = Server::start(Box::new(|_req: &Seen| {
        Reply::ok("text/html", "<form>login</form>")
    }));
    let out = quarry(
        &[
            "atomic",
            "run",
            "4",
            "--base-url",
            &server.base,
            "--user",
            "bob",
            "--delay-ms",
            "0",
            "--i-own-this-instance",
        ],
        &[("CONFLUENCE_PASSWORD", PASSWORD)],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("the login did not redirect"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(server.lines(), ["POST /dologin.action"]);
}

// ------------------------------------------------------------------------------------------------
// The script `show` prints and the Atomic YAML's command leave the same requests as `run`.

/// Runs a script with `sh` (or the shell in QUARRY_TEST_SH, e.g. bash, as macOS's sh is).
fn sh(script: &str, env: &[(&str, &str)]) -> Output {
    let shell = std::env::var("QUARRY_TEST_SH").unwrap_or_else(|_| "sh".into());
    let mut cmd = Command::new(shell);
    cmd.arg("-c").arg(script);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("sh runs")
}

/// The executor command (or cleanup command) of test `name` in the YAML, de-indented.
fn yaml_block(yaml: &str, name: &str, key: &str) -> String {
    let start = yaml
        .find(&format!("- name: {name}\n"))
        .expect("test in the YAML");
    let rest = &yaml[start..];
    let at = rest.find(&format!("\n    {key}: |\n")).expect("key") + key.len() + 9;
    let mut out = String::new();
    for line in rest[at..].lines() {
        if !line.is_empty() && !line.starts_with("      ") {
            break;
        }
        out.push_str(line.get(6..).unwrap_or(""));
        out.push('\n');
    }
    out
}

fn substitute(command: &str, values: &[(&str, &str)]) -> String {
    let mut c = command.to_string();
    for (k, v) in values {
        c = c.replace(&format!("#{{{k}}}"), v);
    }
    // The YAML pauses one second between requests; not here.
    c.replace("then sleep 1;", "then sleep 0;")
}

#[test]
fn the_shown_script_and_the_atomic_yaml_leave_the_same_requests_as_run() {
    if !have_curl("the_shown_script_and_the_atomic_yaml_leave_the_same_requests_as_run") {
        return;
    }
    let yaml = text(&quarry(&["atomic", "show", "--yaml"], &[]).stdout);
    let names = [
        "Confluence Space Enumeration via REST API",
        "Confluence Credential Hunting via Search API (CQL)",
        "Bulk Page Content Extraction with Body Storage Expansion",
        "Confluence Space XML Export via Web Interface",
    ];
    let expected = [
        expected_space_enum(),
        expected_cql(),
        expected_body_storage(),
        expected_export(),
    ];
    for (n, (name, expected)) in names.iter().zip(expected).enumerate() {
        let number = (n + 1).to_string();
        let dir = temp_dir(&format!("script-{number}"));
        let dir_s = dir.display().to_string();
        let out_arg = format!("output_dir={dir_s}");
        let env = [
            ("CONFLUENCE_TOKEN", TOKEN),
            ("CONFLUENCE_PASSWORD", PASSWORD),
        ];

        // show → sh
        let server = Server::start(confluence());
        let mut args = vec![
            "atomic",
            "show",
            &number,
            "--base-url",
            &server.base,
            "--user",
            "carol",
            "--delay-ms",
            "0",
        ];
        if n >= 2 {
            args.extend(["--arg", &out_arg]);
        }
        if n == 3 {
            args.extend(["--arg", "poll_interval_seconds=0"]);
        }
        let script = text(&quarry(&args, &[]).stdout);
        let out = sh(&script, &env);
        assert!(
            out.status.success(),
            "test {number} script:\n{script}\nstderr:\n{}",
            text(&out.stderr)
        );
        assert_eq!(server.lines(), expected, "test {number}: the shown script");
        let from_script = server.seen();
        drop(server);
        if n == 3 {
            check_export_requests_of(&from_script, "carol");
            assert_eq!(
                std::fs::read(dir.join("space-export-ENG.xml.zip")).unwrap(),
                ZIP
            );
        }
        let _ = std::fs::remove_dir_all(&dir);

        // YAML command → sh, then its cleanup command.
        let server = Server::start(confluence());
        let yaml_base = server.base.clone();
        let values = [
            ("base_url", yaml_base.as_str()),
            ("username", "carol"),
            ("token_env", "CONFLUENCE_TOKEN"),
            ("password_env", "CONFLUENCE_PASSWORD"),
            ("page_size", if n == 2 { "50" } else { "25" }),
            ("pages", if n == 2 { "12" } else { "3" }),
            ("space_keys", "ENG,OPS,SEC"),
            (
                "terms",
                "password,credential,secret,api key,token,ssh key,aws access key,vpn",
            ),
            ("space_key", "ENG"),
            ("output_dir", dir_s.as_str()),
            ("max_polls", "60"),
            ("poll_interval_seconds", "0"),
        ];
        let command = substitute(&yaml_block(&yaml, name, "command"), &values);
        let out = sh(&command, &env);
        assert!(
            out.status.success(),
            "test {number} YAML command:\n{command}\nstderr:\n{}",
            text(&out.stderr)
        );
        assert_eq!(server.lines(), expected, "test {number}: the YAML command");
        let from_yaml = server.seen();
        drop(server);

        // run
        let server = Server::start(confluence());
        let mut args = vec![
            "atomic",
            "run",
            &number,
            "--base-url",
            &server.base,
            "--user",
            "carol",
            "--delay-ms",
            "0",
            "--i-own-this-instance",
        ];
        if n >= 2 {
            args.extend(["--arg", &out_arg]);
        }
        if n == 3 {
            args.extend(["--arg", "poll_interval_seconds=0"]);
        }
        run_ok(&args, &env);
        let from_run = server.seen();

        // Same requests, same credentials, same bodies.
        let key = |r: &Seen| {
            (
                r.line(),
                r.header("authorization").map(str::to_string),
                r.header("cookie").map(str::to_string),
                r.header("x-atlassian-token").map(str::to_string),
                r.body.clone(),
            )
        };
        let run_keys: Vec<_> = from_run.iter().map(key).collect();
        assert_eq!(
            from_script.iter().map(key).collect::<Vec<_>>(),
            run_keys,
            "test {number}: script vs run"
        );
        assert_eq!(
            from_yaml.iter().map(key).collect::<Vec<_>>(),
            run_keys,
            "test {number}: YAML vs run"
        );

        if n >= 2 {
            assert!(
                dir.exists(),
                "test {number}: the YAML command saved its files"
            );
            let cleanup = substitute(&yaml_block(&yaml, name, "cleanup_command"), &values);
            let out = sh(&cleanup, &[]);
            assert!(out.status.success(), "{}", text(&out.stderr));
            assert!(
                !dir.exists(),
                "test {number}: the YAML cleanup removes the output"
            );
        } else {
            assert!(!yaml_block_exists(&yaml, name, "cleanup_command"));
        }
    }
}

fn check_export_requests_of(seen: &[Seen], user: &str) {
    assert_eq!(seen[0].body, login_body(user));
    assert_eq!(seen[2].body, EXPORT_FORM);
    assert_eq!(seen[2].header("x-atlassian-token"), Some("no-check"));
    assert!(
        seen[1..]
            .iter()
            .all(|r| r.header("cookie") == Some("JSESSIONID=F00DCAFE"))
    );
}

fn yaml_block_exists(yaml: &str, name: &str, key: &str) -> bool {
    let start = yaml.find(&format!("- name: {name}\n")).unwrap();
    let rest = &yaml[start + 1..];
    let end = rest.find("\n- name: ").unwrap_or(rest.len());
    rest[..end].contains(&format!("\n    {key}: |\n"))
}
