//! User settings: which rules run and the epsilon fixes use. Read from `[tool.nanlint]` in the
//! nearest `pyproject.toml`, from the command line, or from the editor.

use std::path::{Path, PathBuf};

use serde::Deserialize;

pub const DEFAULT_EPSILON: f64 = 1e-7;

#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// Code prefixes to enable (`NL`, `NL1`, `NL101`); empty means all.
    pub select: Vec<String>,
    /// Code prefixes to disable; wins over `select` when at least as specific.
    pub ignore: Vec<String>,
    /// The lower bound clip fixes write (Keras' default epsilon).
    pub epsilon: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings { select: Vec::new(), ignore: Vec::new(), epsilon: DEFAULT_EPSILON }
    }
}

/// `[tool.nanlint]` as written; every key optional.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FileSettings {
    pub select: Option<Vec<String>>,
    pub ignore: Option<Vec<String>>,
    pub epsilon: Option<f64>,
}

impl Settings {
    /// Ruff's rule: the most specific matching prefix decides; on a tie, `ignore` wins.
    pub fn is_enabled(&self, code: &str) -> bool {
        let longest = |list: &[String]| list.iter().filter(|p| code.starts_with(p.as_str())).map(String::len).max();
        let selected = if self.select.is_empty() { Some(0) } else { longest(&self.select) };
        match (selected, longest(&self.ignore)) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(s), Some(i)) => s > i,
        }
    }

    /// Settings from a file layered over these (file keys replace).
    pub fn merged(&self, file: &FileSettings) -> Settings {
        Settings {
            select: file.select.clone().unwrap_or_else(|| self.select.clone()),
            ignore: file.ignore.clone().unwrap_or_else(|| self.ignore.clone()),
            epsilon: file.epsilon.unwrap_or(self.epsilon),
        }
    }

    /// The epsilon as Python source: `1e-7`.
    pub fn epsilon_literal(&self) -> String {
        format_float(self.epsilon)
    }

    pub fn validate(&self) -> Result<(), String> {
        if !(self.epsilon.is_finite() && self.epsilon > 0.0 && self.epsilon < 1.0) {
            return Err(format!("epsilon must be a number in (0, 1), got {}", self.epsilon));
        }
        for code in self.select.iter().chain(&self.ignore) {
            if code.is_empty() || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(format!("invalid rule selector {code:?}: expected a code or prefix like NL101 or NL"));
            }
        }
        Ok(())
    }
}

/// Formats a float the way Python reads it back exactly: `1e-7`, `0.001`, `1.5e-8`.
pub fn format_float(v: f64) -> String {
    let plain = format!("{v}");
    let sci = format!("{v:e}");
    let chosen = if sci.len() < plain.len() { sci } else { plain };
    if chosen.contains(['.', 'e']) { chosen } else { format!("{chosen}.0") }
}

/// The nearest `pyproject.toml` at or above `dir` that has a `[tool.nanlint]` table.
pub fn find_pyproject(dir: &Path) -> Result<Option<(PathBuf, FileSettings)>, String> {
    for d in dir.ancestors() {
        let candidate = d.join("pyproject.toml");
        if candidate.is_file()
            && let Some(settings) = read_pyproject(&candidate)?
        {
            return Ok(Some((candidate, settings)));
        }
    }
    Ok(None)
}

/// Reads `[tool.nanlint]` from a `pyproject.toml`; `Ok(None)` when the table is absent.
pub fn read_pyproject(path: &Path) -> Result<Option<FileSettings>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    parse_pyproject(&text).map_err(|e| format!("{}: {e}", path.display()))
}

pub fn parse_pyproject(text: &str) -> Result<Option<FileSettings>, String> {
    let doc: toml::Table = toml::from_str(text).map_err(|e| e.message().to_string())?;
    let Some(table) = doc.get("tool").and_then(|t| t.get("nanlint")) else {
        return Ok(None);
    };
    let file: FileSettings =
        table.clone().try_into().map_err(|e: toml::de::Error| format!("[tool.nanlint]: {}", e.message()))?;
    Settings::default().merged(&file).validate().map_err(|e| format!("[tool.nanlint]: {e}"))?;
    Ok(Some(file))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(select: &[&str], ignore: &[&str]) -> Settings {
        Settings {
            select: select.iter().map(|s| s.to_string()).collect(),
            ignore: ignore.iter().map(|s| s.to_string()).collect(),
            ..Settings::default()
        }
    }

    #[test]
    fn selection_follows_specificity() {
        assert!(s(&[], &[]).is_enabled("NL101"));
        assert!(!s(&[], &["NL101"]).is_enabled("NL101"));
        assert!(!s(&["NL"], &["NL1"]).is_enabled("NL101"));
        assert!(s(&["NL101"], &["NL1"]).is_enabled("NL101"));
        assert!(!s(&["NL2"], &[]).is_enabled("NL101"));
        assert!(!s(&["NL101"], &["NL101"]).is_enabled("NL101"));
    }

    #[test]
    fn floats_read_back_in_python() {
        assert_eq!(format_float(1e-7), "1e-7");
        assert_eq!(format_float(0.001), "1e-3");
        assert_eq!(format_float(0.25), "0.25");
        assert_eq!(format_float(1.5e-8), "1.5e-8");
        assert_eq!(format_float(1.0), "1.0");
    }

    #[test]
    fn pyproject_tables() {
        assert_eq!(parse_pyproject("[project]\nname = 'x'\n"), Ok(None));
        let f = parse_pyproject("[tool.nanlint]\nepsilon = 1e-4\nignore = ['NL101']\n").unwrap().unwrap();
        assert_eq!(f.epsilon, Some(1e-4));
        assert!(parse_pyproject("[tool.nanlint]\nepsilon = -1\n").unwrap_err().contains("epsilon"));
        assert!(parse_pyproject("[tool.nanlint]\nepsilom = 1e-4\n").unwrap_err().contains("epsilom"));
        assert!(parse_pyproject("[tool.nanlint\n").is_err());
    }
}
