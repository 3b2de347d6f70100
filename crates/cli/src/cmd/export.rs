//! `quarry export`: what an Elasticsearch cluster needs besides the rules
//! (`quarry rules export`): the ingest pipeline that gives the rules their data.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use quarry_ingest::pipeline;

/// Export what an Elasticsearch cluster needs to run Quarry's rules.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(clap::Subcommand)]
enum What {
    Pipeline(PipelineArgs),
}

/// The Elasticsearch ingest pipeline that normalizes Confluence data into Quarry's ECS shape.
///
/// Writes the JSON body of `PUT _ingest/pipeline/<name>` (Elasticsearch 8.8 or later). It reads
/// Confluence Tomcat access-log lines in `message` (as Filebeat and Elastic Agent ship them) and
/// documents of Elastic's `atlassian_confluence` integration (`event.dataset:
/// atlassian_confluence.audit`), and writes what `quarry normalize` writes: `event.dataset:
/// atlassian.confluence`, `event.action` from the same URL classifier table, the searched text in
/// `message`. Static resources and polling are dropped. Documents in another `logs-*-*` data
/// stream are rerouted to `logs-atlassian.confluence-<namespace>`. The install commands go to
/// standard error.
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  quarry export pipeline -o quarry-confluence.json
  quarry export pipeline --context-path /confluence > quarry-confluence.json")]
struct PipelineArgs {
    /// Write to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// The pipeline's name, used in the install commands.
    #[arg(long, value_name = "NAME", default_value = pipeline::DEFAULT_NAME)]
    name: String,
    /// The deployment's context path (`/confluence`), removed from URLs before classifying.
    #[arg(long, value_name = "PATH")]
    context_path: Option<String>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    match args.what {
        What::Pipeline(args) => export_pipeline(args),
    }
}

fn export_pipeline(args: PipelineArgs) -> anyhow::Result<ExitCode> {
    let name = args.name.as_str();
    if name.is_empty()
        || name.starts_with(['_', '-'])
        || name
            .chars()
            .any(|c| c.is_whitespace() || "/\\*?\"<>|,#:@&%".contains(c))
    {
        anyhow::bail!(
            "--name `{name}`: a pipeline name is a plain word like `{}` (no spaces, no /\\*?\"<>|,#:@&%, not starting with _ or -)",
            pipeline::DEFAULT_NAME
        );
    }
    let body = pipeline::pipeline(&pipeline::Options {
        context_path: args.context_path.clone(),
    });
    let mut text = serde_json::to_string_pretty(&body).context("writing the pipeline")?;
    text.push('\n');
    let file = match &args.output {
        Some(path) => {
            std::fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?;
            eprintln!(
                "quarry: wrote the ingest pipeline `{name}` to {} (Elasticsearch {} or later)",
                path.display(),
                pipeline::MINIMUM_ELASTICSEARCH
            );
            path.display().to_string()
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())
                .and_then(|()| out.flush())
                .context("writing standard output")?;
            format!("{name}.json")
        }
    };
    eprint!("{}", install_help(name, &file));
    Ok(ExitCode::SUCCESS)
}

/// How to install the pipeline and send Confluence data through it.
fn install_help(name: &str, file: &str) -> String {
    let curl =
        "curl -X PUT -H 'Content-Type: application/json' -H \"Authorization: ApiKey $ES_API_KEY\"";
    let hook = format!(r#"'{{"processors":[{{"pipeline":{{"name":"{name}"}}}}]}}'"#);
    format!(
        "\
install it:
  {curl} \"$ES_URL/_ingest/pipeline/{name}\" --data-binary @{file}
send the integration's audit documents through it (they move to logs-{dataset}-<namespace>):
  {curl} \"$ES_URL/_ingest/pipeline/logs-{integration}@custom\" -d {hook}
send access logs through it: ship conf_access_log*.log with Filebeat (output.elasticsearch.pipeline: {name}),
or with Elastic Agent's Custom Logs (dataset {dataset}) and
  {curl} \"$ES_URL/_ingest/pipeline/logs-{dataset}@custom\" -d {hook}
(an existing @custom pipeline: add the `pipeline` processor to it instead of replacing it)
",
        dataset = quarry_ingest::ecs::DATASET,
        integration = pipeline::INTEGRATION_DATASET,
    )
}
