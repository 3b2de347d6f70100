//! `quarry check` as a user runs it: exit status, standard output and the rendered diagnostic.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn quarry(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_quarry"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("quarry runs");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn temp_file(name: &str, contents: &[u8]) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_valid_query_prints_ok_and_its_canonical_form() {
    let out = quarry(
        &[
            "check",
            "sequence by user.name,source.ip with maxspan=1h [any where event.action in (\"x\")] with runs=40",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "ok\nsequence by user.name, source.ip with maxspan=1h\n  [any where event.action in (\"x\")] with runs=40\n"
    );
    assert!(out.stderr.is_empty());
}

#[test]
fn uppercase_keywords_are_refused_with_a_hint() {
    let out = quarry(&["check", "any where event.action IN (\"x\")"], None);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(" --> query:1:24")
            && stderr.contains("= help: keywords are lowercase: did you mean `in`?"),
        "{stderr}"
    );
}

#[test]
fn an_invalid_query_exits_2_with_position_source_line_and_caret() {
    let out = quarry(&["check", "process where user.name = \"alice\""], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert_eq!(
        text(&out.stderr),
        "\
error: `=` is not a comparison operator
 --> query:1:25
  |
1 | process where user.name = \"alice\"
  |                         ^
  |
  = help: did you mean `==`?
"
    );
}

#[test]
fn a_query_file_is_named_in_the_diagnostic_and_lines_are_counted() {
    let path = temp_file(
        "two-lines.eql",
        b"sequence\n  [any where a ==]\n  [any where true]",
    );
    let out = quarry(&["check", "-f", path.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(" --> {}:2:18", path.display())),
        "{stderr}"
    );
    assert!(
        stderr.contains("expected an expression, found `]`"),
        "{stderr}"
    );
}

#[test]
fn invalid_utf8_is_an_error_at_the_bad_byte() {
    let path = temp_file("latin1.eql", b"process where name == \"caf\xe9\"");
    let out = quarry(&["check", "-f", path.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("error: the query is not valid UTF-8 (byte 0xe9)"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!(" --> {}:1:27", path.display())),
        "{stderr}"
    );
}

#[test]
fn the_query_can_come_from_standard_input() {
    let out = quarry(&["check", "-f", "-"], Some(b"any where true | head 5\n"));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "ok\nany where true | head 5\n");
}

#[test]
fn an_unreadable_file_exits_1() {
    let out = quarry(&["check", "-f", "/nonexistent/query.eql"], None);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("error: reading the query from /nonexistent/query.eql: "),
        "{stderr}"
    );
}

#[test]
fn deep_nesting_from_the_command_line_is_an_error_not_a_crash() {
    let query = format!("any where {}a{}", "(".repeat(5000), ")".repeat(5000));
    let out = quarry(&["check", "-f", "-"], Some(query.as_bytes()));
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("query is nested too deeply (more than 200 levels)"));
}
