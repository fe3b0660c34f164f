//! Settings sent by the editor (initializationOptions, workspace/configuration,
//! didChangeConfiguration) and how they combine with `[tool.nanlint]`.

use serde_json::Value;

use crate::settings::{FileSettings, Settings, normalize_selector};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Severity {
    Error,
    #[default]
    Warning,
    Information,
    Hint,
}

/// Which side wins when both the editor and `pyproject.toml` set a key (ruff's names).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Preference {
    #[default]
    EditorFirst,
    FilesystemFirst,
    EditorOnly,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClientSettings {
    /// Keys the editor set; `None` leaves them to the file or the default.
    pub rules: FileSettings,
    pub severity: Severity,
    pub fix_all_unsafe: bool,
    pub preference: Preference,
    pub log_level: Option<String>,
}

impl ClientSettings {
    /// Reads the `nanlint` settings object. Accepts `{settings: {...}}`, `{nanlint: {...}}` or the
    /// object itself, nested (`fixAll: {unsafe: true}`) or dotted (`"fixAll.unsafe": true`) keys.
    /// Returns the settings and a list of problems (unknown values are reported, not fatal).
    pub fn from_json(value: &Value) -> (ClientSettings, Vec<String>) {
        let mut problems = Vec::new();
        let mut s = ClientSettings::default();
        let obj = value.get("settings").or_else(|| value.get("nanlint")).unwrap_or(value);
        let Some(obj) = obj.as_object() else {
            // Lua encodes an empty table as `[]`: that is "no settings", not an error.
            let empty = obj.is_null() || obj.as_array().is_some_and(|a| a.is_empty());
            if !empty {
                problems.push(format!("settings must be an object, got {obj}"));
            }
            return (s, problems);
        };
        let get = |key: &str| -> Option<&Value> {
            let mut parts = key.split('.');
            let first = parts.next().and_then(|p| obj.get(p));
            let nested = first.and_then(|f| parts.try_fold(f, |v, p| v.get(p)));
            nested.or_else(|| obj.get(key)).filter(|v| !v.is_null())
        };
        let list = |key: &str, problems: &mut Vec<String>| -> Option<Vec<String>> {
            let v = get(key)?;
            match v
                .as_array()
                .and_then(|a| a.iter().map(|x| x.as_str().map(str::to_string)).collect::<Option<Vec<_>>>())
            {
                // An empty list means "not set": editors send their defaults.
                Some(l) if l.is_empty() => None,
                // A selector naming no rule would silently switch rules off (in `select`, all of
                // them): the list is refused, with the command line's message.
                Some(l) => match l.iter().try_for_each(|x| normalize_selector(x).map(drop)) {
                    Ok(()) => Some(l),
                    Err(e) => {
                        problems.push(format!("`{key}`: {e}"));
                        None
                    }
                },
                None => {
                    problems.push(format!("`{key}` must be a list of rule codes, got {v}"));
                    None
                }
            }
        };
        s.rules.select = list("select", &mut problems);
        s.rules.ignore = list("ignore", &mut problems);
        if let Some(v) = get("epsilon") {
            match v.as_f64() {
                Some(e) if e > 0.0 && e < 1.0 => s.rules.epsilon = Some(e),
                _ => problems.push(format!("`epsilon` must be a number in (0, 1), got {v}")),
            }
        }
        if let Some(v) = get("preview") {
            match v.as_bool() {
                Some(b) => s.rules.preview = Some(b),
                None => problems.push(format!("`preview` must be true or false, got {v}")),
            }
        }
        if let Some(v) = get("severity") {
            s.severity = match v.as_str().unwrap_or("") {
                "error" => Severity::Error,
                "warning" => Severity::Warning,
                "information" | "info" => Severity::Information,
                "hint" => Severity::Hint,
                _ => {
                    problems.push(format!("`severity` must be error, warning, information or hint, got {v}"));
                    Severity::Warning
                }
            };
        }
        if let Some(v) = get("fixAll.unsafe") {
            s.fix_all_unsafe = v.as_bool().unwrap_or_else(|| {
                problems.push(format!("`fixAll.unsafe` must be true or false, got {v}"));
                false
            });
        }
        if let Some(v) = get("configurationPreference") {
            s.preference = match v.as_str().unwrap_or("") {
                "editorFirst" => Preference::EditorFirst,
                "filesystemFirst" => Preference::FilesystemFirst,
                "editorOnly" => Preference::EditorOnly,
                _ => {
                    problems.push(format!(
                        "`configurationPreference` must be editorFirst, filesystemFirst or editorOnly, got {v}"
                    ));
                    Preference::EditorFirst
                }
            };
        }
        s.log_level = get("logLevel").and_then(|v| v.as_str()).map(str::to_string);
        (s, problems)
    }

    /// The settings for a document, given the `[tool.nanlint]` that applies to it (if any).
    pub fn effective(&self, file: Option<&FileSettings>) -> Settings {
        let defaults = Settings::default();
        match (self.preference, file) {
            (Preference::EditorOnly, _) | (_, None) => defaults.merged(&self.rules),
            (Preference::EditorFirst, Some(f)) => defaults.merged(f).merged(&self.rules),
            (Preference::FilesystemFirst, Some(f)) => defaults.merged(&self.rules).merged(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_nested_dotted_and_wrapped_forms() {
        let (s, p) = ClientSettings::from_json(&json!({"settings": {"select": ["NL1"], "fixAll": {"unsafe": true}}}));
        assert!(p.is_empty());
        assert_eq!(s.rules.select, Some(vec!["NL1".to_string()]));
        assert!(s.fix_all_unsafe);
        let (s, _) = ClientSettings::from_json(&json!({"nanlint": {"fixAll.unsafe": true, "severity": "error"}}));
        assert!(s.fix_all_unsafe);
        assert_eq!(s.severity, Severity::Error);
        let (s, _) = ClientSettings::from_json(&json!({"epsilon": 1e-4, "ignore": []}));
        assert_eq!(s.rules.epsilon, Some(1e-4));
        assert_eq!(s.rules.ignore, None);
    }

    #[test]
    fn bad_values_are_reported_not_fatal() {
        let (s, p) = ClientSettings::from_json(&json!({"epsilon": "tiny", "severity": "loud", "select": "NL101"}));
        assert_eq!(p.len(), 3, "{p:?}");
        assert_eq!(s, ClientSettings::default());
        // A selector naming no rule, as the command line refuses it: `select` would otherwise
        // switch every rule off without a word.
        let (s, p) = ClientSettings::from_json(&json!({"select": ["NL1", "NL999"], "ignore": ["bogus"]}));
        assert_eq!(s, ClientSettings::default());
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p[0].starts_with("`select`: unknown rule selector \"NL999\": expected a rule code"), "{p:?}");
        assert!(p[1].starts_with("`ignore`: unknown rule selector \"bogus\""), "{p:?}");
        let (s, p) = ClientSettings::from_json(&json!({"select": ["nl1", "log-of-possibly-zero", "ALL"]}));
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(s.rules.select.map(|l| l.len()), Some(3));
        let (_, p) = ClientSettings::from_json(&json!(42));
        assert_eq!(p.len(), 1);
        // Neovim sends an empty Lua table as an empty array.
        let (s, p) = ClientSettings::from_json(&json!({"nanlint": []}));
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(s, ClientSettings::default());
        // An editor's shortest round-trip spelling of 1e-6.
        let (s, _) = ClientSettings::from_json(&serde_json::from_str("{\"epsilon\": 9.9999999999999995e-7}").unwrap());
        assert_eq!(crate::settings::format_float(s.rules.epsilon.unwrap()), "1e-6");
    }

    #[test]
    fn preference_decides_who_wins() {
        let file = FileSettings { epsilon: Some(1e-3), ..Default::default() };
        let mut s =
            ClientSettings { rules: FileSettings { epsilon: Some(1e-5), ..Default::default() }, ..Default::default() };
        assert_eq!(s.effective(Some(&file)).epsilon, 1e-5);
        s.preference = Preference::FilesystemFirst;
        assert_eq!(s.effective(Some(&file)).epsilon, 1e-3);
        s.preference = Preference::EditorOnly;
        s.rules.epsilon = None;
        assert_eq!(s.effective(Some(&file)).epsilon, crate::settings::DEFAULT_EPSILON);
    }
}
