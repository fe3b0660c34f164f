//! `--output-format sarif`: SARIF 2.1.0, as GitHub code scanning reads it. Every code nanlint
//! can report is a rule (id, name, summary, the full documentation as help); each result has
//! its location, the related location a smell points at, and every alternative fix as SARIF
//! `fixes` (the preferred first). Columns count Unicode code points (`columnKind`), as in every
//! other output format; paths under the current folder are relative to `%SRCROOT%`.

use std::collections::BTreeMap;
use std::path::Path;

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde_json::json;
use serde_sarif::sarif::{
    ArtifactChange, ArtifactContent, ArtifactLocation, Fix as SarifFix, Location, Message, MultiformatMessageString,
    PhysicalLocation, PropertyBag, Region, Replacement, ReportingConfiguration, ReportingDescriptor,
    Result as SarifResult, ResultLevel, Run, Sarif, Tool, ToolComponent,
};

use super::{Locator, all_rules, each};
use crate::check::{self, FileReport};
use crate::smell::{Applicability, Span};

const SRCROOT: &str = "%SRCROOT%";

/// Characters a URI path cannot hold as they are (RFC 3986), `/` kept.
const PATH: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b']')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

fn encode_path(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    utf8_percent_encode(&text, PATH).to_string()
}

/// The artifact location of `path`: relative to `%SRCROOT%` (the current folder) when under it,
/// an absolute `file://` URI otherwise.
fn artifact(path: &Path, cwd: &Path) -> ArtifactLocation {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    match abs.strip_prefix(cwd) {
        Ok(rel) if path != Path::new("-") => {
            ArtifactLocation::builder().uri(encode_path(rel)).uri_base_id(SRCROOT).build()
        }
        _ => ArtifactLocation::builder().uri(format!("file://{}", encode_path(&abs))).build(),
    }
}

fn region(loc: &Locator, start: usize, end: usize) -> Region {
    let (start_line, start_column) = loc.location(start);
    let (end_line, end_column) = loc.location(end);
    Region::builder()
        .start_line(start_line as i64)
        .start_column(start_column as i64)
        .end_line(end_line as i64)
        .end_column(end_column as i64)
        .build()
}

fn span_region(loc: &Locator, span: &Span) -> Region {
    region(loc, span.start_byte, span.end_byte)
}

pub fn report(reports: &[FileReport], cwd: &Path) -> String {
    let rules = all_rules();
    let index: BTreeMap<&str, usize> = rules.iter().enumerate().map(|(i, r)| (r.code, i)).collect();
    let descriptors: Vec<ReportingDescriptor> = rules
        .iter()
        .map(|r| {
            let level = if check::is_builtin(r.code) { "error" } else { "warning" };
            let properties = PropertyBag::builder()
                .tags(vec![if check::is_builtin(r.code) { "nanlint-file" } else { "numerics" }.to_string()])
                .additional_properties(BTreeMap::from([("problem.severity".to_string(), json!(level))]))
                .build();
            let base = ReportingDescriptor::builder()
                .id(r.code)
                .name(r.name)
                .short_description(MultiformatMessageString::builder().text(r.summary.clone()).build())
                .full_description(MultiformatMessageString::builder().text(r.summary.clone()).build())
                .help(MultiformatMessageString::builder().text(r.doc).markdown(r.doc).build())
                .default_configuration(ReportingConfiguration::builder().level(json!(level)).build())
                .properties(properties);
            match &r.url {
                Some(url) => base.help_uri(url.clone()).build(),
                None => base.build(),
            }
        })
        .collect();

    let mut results = Vec::new();
    for (r, loc) in each(reports) {
        let file = artifact(&r.path, cwd);
        for s in &r.smells {
            let location = Location::builder()
                .physical_location(
                    PhysicalLocation::builder()
                        .artifact_location(file.clone())
                        .region(span_region(&loc, &s.span))
                        .build(),
                )
                .build();
            let level = if check::is_builtin(s.code) { ResultLevel::Error } else { ResultLevel::Warning };
            let fixes: Vec<SarifFix> = s
                .fixes
                .iter()
                .map(|f| {
                    let replacements: Vec<Replacement> = f
                        .edits
                        .iter()
                        .map(|e| {
                            Replacement::builder()
                                .deleted_region(region(&loc, e.start, e.end))
                                .inserted_content(ArtifactContent::builder().text(e.content.clone()).build())
                                .build()
                        })
                        .collect();
                    let safety = match f.applicability {
                        Applicability::Safe => "safe",
                        Applicability::Unsafe => "unsafe",
                    };
                    SarifFix::builder()
                        .description(Message::builder().text(f.title.clone()).build())
                        .artifact_changes(vec![
                            ArtifactChange::builder()
                                .artifact_location(file.clone())
                                .replacements(replacements)
                                .build(),
                        ])
                        .properties(
                            PropertyBag::builder()
                                .additional_properties(BTreeMap::from([("applicability".to_string(), json!(safety))]))
                                .build(),
                        )
                        .build()
                })
                .collect();
            let related: Vec<Location> = s
                .related
                .iter()
                .enumerate()
                .map(|(i, rel)| {
                    Location::builder()
                        .id(i as i64 + 1)
                        .message(Message::builder().text(rel.message.clone()).build())
                        .physical_location(
                            PhysicalLocation::builder()
                                .artifact_location(file.clone())
                                .region(span_region(&loc, &rel.span))
                                .build(),
                        )
                        .build()
                })
                .collect();
            // A notebook's rows are in its cells, not the file: the message names the cell, and
            // edits of the JSON text cannot be given as the fixes' regions.
            let cell = loc.cell(s.span.start_byte);
            let text = match cell {
                Some(c) => format!("cell {c}: {}", s.message),
                None => s.message.clone(),
            };
            let fixes = if cell.is_some() { Vec::new() } else { fixes };
            let mut result = SarifResult::builder()
                .rule_id(s.code)
                .level(level)
                .message(Message::builder().text(text).build())
                .locations(vec![location])
                .build();
            result.rule_index = index.get(s.code).map(|&i| i as i64);
            result.fixes = (!fixes.is_empty()).then_some(fixes);
            result.related_locations = (!related.is_empty()).then_some(related);
            results.push(result);
        }
    }

    let driver = ToolComponent::builder()
        .name("nanlint")
        .version(env!("CARGO_PKG_VERSION"))
        .semantic_version(env!("CARGO_PKG_VERSION"))
        .rules(descriptors)
        .build();
    let mut driver = driver;
    driver.information_uri = crate::rules::docs_url("README.md");
    let root = format!("file://{}/", encode_path(cwd).trim_end_matches('/'));
    let run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .results(results)
        .column_kind(json!("unicodeCodePoints"))
        .original_uri_base_ids(BTreeMap::from([(SRCROOT.to_string(), ArtifactLocation::builder().uri(root).build())]))
        .build();
    let sarif = Sarif::builder()
        .schema("https://json.schemastore.org/sarif-2.1.0.json")
        .version(json!("2.1.0"))
        .runs(vec![run])
        .build();
    serde_json::to_string_pretty(&sarif).unwrap_or_default() + "\n"
}
