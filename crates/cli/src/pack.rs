//! The Confluence T1213.001 detection pack, built into the binary so `quarry hunt` works from
//! any directory. `--rules DIR` loads another pack from disk instead.

use std::path::PathBuf;

/// Each rule file of `rules/confluence/`, by its path in the repository.
pub const FILES: &[(&str, &str)] = &[
    (
        "rules/confluence/bulk_data_mining.toml",
        include_str!("../../../rules/confluence/bulk_data_mining.toml"),
    ),
    (
        "rules/confluence/bulk_data_mining_threshold.toml",
        include_str!("../../../rules/confluence/bulk_data_mining_threshold.toml"),
    ),
    (
        "rules/confluence/bulk_rest_extraction.toml",
        include_str!("../../../rules/confluence/bulk_rest_extraction.toml"),
    ),
    (
        "rules/confluence/credential_search.toml",
        include_str!("../../../rules/confluence/credential_search.toml"),
    ),
    (
        "rules/confluence/repeated_sensitive_search.toml",
        include_str!("../../../rules/confluence/repeated_sensitive_search.toml"),
    ),
    (
        "rules/confluence/rest_space_enumeration.toml",
        include_str!("../../../rules/confluence/rest_space_enumeration.toml"),
    ),
    (
        "rules/confluence/sensitive_search_hunt.toml",
        include_str!("../../../rules/confluence/sensitive_search_hunt.toml"),
    ),
    (
        "rules/confluence/space_export.toml",
        include_str!("../../../rules/confluence/space_export.toml"),
    ),
];

/// The tuning of the organization `quarry simulate` models (used by the detection matrix).
pub const SIMULATED_ORG_TUNING: (&str, &str) = (
    "rules/confluence/tests/tuning/simulated-org.toml",
    include_str!("../../../rules/confluence/tests/tuning/simulated-org.toml"),
);

/// The built-in pack as `(path, text)` pairs for [`quarry_rules::load_sources`].
pub fn sources() -> Vec<(PathBuf, String)> {
    FILES
        .iter()
        .map(|(p, t)| (PathBuf::from(p), t.to_string()))
        .collect()
}

/// The loader's field check: the fields normalized events carry.
pub fn load_options() -> quarry_rules::LoadOptions {
    quarry_rules::LoadOptions {
        known_fields: Some(
            quarry_ingest::ecs::FIELDS
                .iter()
                .map(|f| f.to_string())
                .collect(),
        ),
    }
}

/// What Elastic's `atlassian_confluence` integration calls Quarry's actions and fields, from
/// the same tables the normalizer maps its documents with.
pub fn native_map() -> quarry_rules::native::NativeMap {
    use quarry_ingest::{cloud_audit, dc_audit};
    let ours = [
        "page_viewed",
        "content_viewed",
        "space_viewed",
        "attachment_downloaded",
        "content_exported",
        "space_exported",
        "search_performed",
        "page_printed",
    ];
    // Cloud documents keep the summary as written ("Space exported").
    let sentence = |s: &str| {
        let mut c = s.chars();
        c.next()
            .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
            .unwrap_or_default()
    };
    let actions = ours
        .iter()
        .map(|a| {
            let mut natives: Vec<String> = dc_audit::CONTENT_ACTIONS
                .iter()
                .filter(|(_, ours)| ours == a)
                .map(|(key, _)| key.to_string())
                .collect();
            natives.extend(
                cloud_audit::CONTENT_SUMMARIES
                    .iter()
                    .filter(|(_, ours)| ours == a)
                    .map(|(summary, _)| sentence(summary)),
            );
            (a.to_string(), natives)
        })
        .collect();
    quarry_rules::native::NativeMap {
        dataset: "atlassian_confluence.audit".into(),
        our_dataset: quarry_ingest::ecs::DATASET.into(),
        actions,
        fields: vec![
            ("user.name".into(), "user.full_name".into()),
            ("user.id".into(), "user.id".into()),
            ("source.ip".into(), "source.ip".into()),
            (
                "message".into(),
                "confluence.audit.extra_attributes.value".into(),
            ),
            ("event.category".into(), "event.category".into()),
            ("event.type".into(), "event.type".into()),
            ("event.outcome".into(), "event.outcome".into()),
        ],
    }
}

/// Loads `dir`, or the built-in pack; errors are rendered for `style`.
pub fn load(
    dir: Option<&std::path::Path>,
    style: quarry_eql::Style,
) -> Result<Vec<quarry_rules::Rule>, String> {
    let options = load_options();
    let loaded = match dir {
        Some(dir) => quarry_rules::load_dir(dir, &options),
        None => quarry_rules::load_sources(sources(), &options),
    };
    loaded.map_err(|errors| {
        let mut out = String::new();
        for e in &errors {
            out.push_str(&e.render(style));
        }
        out.push_str(&format!(
            "quarry: {} rule file problem{}\n",
            errors.len(),
            if errors.len() == 1 { "" } else { "s" }
        ));
        out
    })
}

#[cfg(test)]
mod tests {
    /// A rule file added to rules/confluence/ must be built in too (and a removed one dropped).
    #[test]
    fn the_built_in_pack_is_the_rules_directory() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules/confluence");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .map(|p| {
                format!(
                    "rules/confluence/{}",
                    p.file_name().unwrap().to_string_lossy()
                )
            })
            .collect();
        on_disk.sort();
        let built_in: Vec<String> = super::FILES.iter().map(|(p, _)| p.to_string()).collect();
        assert_eq!(built_in, on_disk);
        for (path, text) in super::FILES {
            let file = dir.join(path.trim_start_matches("rules/confluence/"));
            assert_eq!(&std::fs::read_to_string(file).unwrap(), text, "{path}");
        }
    }
}
