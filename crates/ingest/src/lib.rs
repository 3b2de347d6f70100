//! Confluence telemetry in, Quarry's ECS events out.
//!
//! Real Confluence telemetry is not ECS with `event.action: page_viewed`: page views exist only
//! in the Tomcat access log on Server and Data Center, searches and downloads only in the audit
//! log at full coverage, and Cloud records views only in the organization audit log. This crate
//! turns each source into one ECS shape (DESIGN.md, "Confluence normalization") so every rule
//! sees the same events whatever the source.
//!
//! - [`read`]: files, directories, globs and stdin, gzip and zstd by magic bytes, bounded lines;
//! - [`detect`]: which format a file holds, from its first line;
//! - [`normalize`]: one input to ECS NDJSON, time-ordered, with a report of everything skipped;
//! - [`proxies`]: which proxies' `X-Forwarded-For` may be believed;
//! - [`classify`]: which Confluence action a request is (the URL -> action table);
//! - [`access_pattern`]: access logs written with any Tomcat valve pattern;
//! - [`access_log`]: Confluence's Tomcat access log;
//! - [`cloud_audit`]: Confluence Cloud `/wiki/rest/api/audit` records;
//! - [`proxy_log`]: NCSA combined and Squid logs of a proxy in front of Confluence;
//! - [`elastic_integration`]: documents of Elastic's `atlassian_confluence` integration;
//! - [`org_audit`]: Atlassian organization (Guard) audit log events;
//! - [`cloudapp_events`]: Microsoft Defender `CloudAppEvents` rows for Atlassian;
//! - [`dc_audit`]: Data Center audit log files and `/rest/auditing/1.0/events` pages;
//! - [`ecs`]: the normalized event and its ECS JSON form;
//! - [`pipeline`]: the Elasticsearch ingest pipeline that normalizes the same sources on a cluster.

pub mod access_log;
pub mod access_pattern;
pub mod classify;
pub mod cloud_audit;
pub mod cloudapp_events;
pub mod dc_audit;
pub mod detect;
pub mod ecs;
pub mod elastic_integration;
pub mod normalize;
pub mod org_audit;
pub mod pipeline;
pub mod proxies;
pub mod proxy_log;
pub mod read;
mod records;
