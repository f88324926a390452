//! Log-source mappings: which events a Sigma `logsource` stands for, and
//! how its field names translate to the names those events use. Mappings
//! are data (YAML files under `rules/mappings/`), so another input kind only
//! needs another file.
//!
//! ```yaml
//! name: windows
//! product: windows
//! fields: {Execution_ProcessID: ProcessID}
//! logsources:
//!   - category: process_creation
//!     sources:
//!       - {channel: Microsoft-Windows-Sysmon/Operational, event_ids: [1]}
//!       - {channel: Security, event_ids: [4688], fields: {Image: NewProcessName}}
//!   - category: file_access
//!     unsupported: ETW only
//! ```

use crate::ast::LogSource;
use crate::error::{Error, Result};
use crate::yaml::{self, Node};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One concrete event source of a log source.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Source {
    /// The event channel (`Event::channel`); `None` for any channel.
    pub channel: Option<String>,
    /// Event ids; empty for any.
    pub event_ids: Vec<u32>,
    /// The provider, when the channel alone does not say it.
    pub provider: Option<String>,
    /// Sigma field name -> the event's field name.
    pub fields: BTreeMap<String, String>,
}

impl Source {
    /// The event's name for the Sigma field `name`.
    pub fn field<'a>(&'a self, name: &'a str) -> &'a str {
        self.fields.get(name).map_or(name, String::as_str)
    }
}

#[derive(Debug, Clone)]
struct Entry {
    product: Option<String>,
    category: Option<String>,
    service: Option<String>,
    sources: Vec<Arc<Source>>,
    unsupported: Option<String>,
}

/// A set of log-source mappings (one or more files).
#[derive(Debug, Clone, Default)]
pub struct Mapping {
    entries: Vec<Entry>,
    names: Vec<String>,
}

/// The mapping files shipped with mirt (`rules/mappings/`).
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "rules/mappings/windows.yml",
        include_str!("../../../rules/mappings/windows.yml"),
    ),
    (
        "rules/mappings/linux.yml",
        include_str!("../../../rules/mappings/linux.yml"),
    ),
    (
        "rules/mappings/webserver.yml",
        include_str!("../../../rules/mappings/webserver.yml"),
    ),
    (
        "rules/mappings/firewall.yml",
        include_str!("../../../rules/mappings/firewall.yml"),
    ),
];

impl Mapping {
    /// The mappings shipped with mirt.
    pub fn builtin() -> Mapping {
        let mut m = Mapping::default();
        for (name, text) in BUILTIN {
            // The shipped files are tested to load.
            if let Ok(file) = Mapping::from_yaml(text, Path::new(name)) {
                m.extend(file);
            }
        }
        m
    }

    /// Reads a mapping file.
    pub fn load(path: &Path) -> Result<Mapping> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Mapping::from_yaml(&text, path)
    }

    /// Parses mapping YAML; `path` names it in errors.
    pub fn from_yaml(text: &str, path: &Path) -> Result<Mapping> {
        let err = |line, reason: String| Error::Mapping {
            path: PathBuf::from(path),
            line,
            reason,
        };
        let docs = yaml::load_documents(text).map_err(|e| err(e.line, e.message))?;
        let mut mapping = Mapping::default();
        for doc in &docs {
            let product = doc.get("product").and_then(Node::scalar_text);
            let global = string_map(doc.get("fields")).map_err(|(l, r)| err(l, r))?;
            let list = doc
                .get("logsources")
                .and_then(Node::as_seq)
                .ok_or_else(|| err(doc.line, "no 'logsources' list".into()))?;
            for item in list {
                let entry =
                    parse_entry(item, product.clone(), &global).map_err(|(l, r)| err(l, r))?;
                mapping.entries.push(entry);
            }
            if let Some(name) = doc.get("name").and_then(Node::scalar_text) {
                mapping.names.push(name);
            }
        }
        Ok(mapping)
    }

    /// Adds the entries of `other`; they take precedence over earlier ones
    /// for the same log source.
    pub fn extend(&mut self, other: Mapping) {
        let mut entries = other.entries;
        entries.append(&mut self.entries);
        self.entries = entries;
        self.names.extend(other.names);
    }

    /// The names of the mapping files loaded.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The event sources of `logsource`, or why there are none. The rule's
    /// category and service must equal the entry's; its product, when
    /// given, must be the entry's.
    pub fn resolve(&self, ls: &LogSource) -> std::result::Result<&[Arc<Source>], String> {
        let hit = self.entries.iter().find(|e| {
            e.category == ls.category
                && e.service == ls.service
                && (ls.product.is_none() || e.product == ls.product)
        });
        match hit {
            Some(Entry {
                unsupported: Some(why),
                ..
            }) => Err(format!(": {why}")),
            Some(e) => Ok(&e.sources),
            None => Err(String::new()),
        }
    }
}

fn parse_entry(
    item: &Node,
    product: Option<String>,
    global: &BTreeMap<String, String>,
) -> std::result::Result<Entry, (u64, String)> {
    let text = |k: &str| {
        item.get(k)
            .and_then(Node::scalar_text)
            .map(|s| s.to_lowercase())
    };
    let mut sources = Vec::new();
    for s in item
        .get("sources")
        .and_then(Node::as_seq)
        .unwrap_or_default()
    {
        let channel = s.get("channel").and_then(Node::scalar_text).ok_or((
            s.line,
            "a source needs a 'channel' ('*' for any)".to_string(),
        ))?;
        let event_ids = match s.get("event_ids") {
            None => Vec::new(),
            Some(ids) => ids
                .as_seq()
                .unwrap_or_default()
                .iter()
                .map(|n| match n.value {
                    yaml::Yaml::Int(i) if (0..=i64::from(u32::MAX)).contains(&i) => Ok(i as u32),
                    _ => Err((n.line, "event ids must be numbers".to_string())),
                })
                .collect::<std::result::Result<_, _>>()?,
        };
        let mut fields = global.clone();
        fields.extend(string_map(s.get("fields"))?);
        sources.push(Arc::new(Source {
            channel: (channel != "*").then_some(channel),
            event_ids,
            provider: s.get("provider").and_then(Node::scalar_text),
            fields,
        }));
    }
    let unsupported = item.get("unsupported").and_then(Node::scalar_text);
    if sources.is_empty() && unsupported.is_none() {
        return Err((
            item.line,
            "an entry needs 'sources' or 'unsupported'".into(),
        ));
    }
    Ok(Entry {
        product,
        category: text("category"),
        service: text("service"),
        sources,
        unsupported,
    })
}

fn string_map(node: Option<&Node>) -> std::result::Result<BTreeMap<String, String>, (u64, String)> {
    let Some(node) = node else {
        return Ok(BTreeMap::new());
    };
    let entries = node.as_map().ok_or((
        node.line,
        "'fields' must map Sigma names to event names".to_string(),
    ))?;
    Ok(entries
        .iter()
        .filter_map(|(k, v)| Some((k.scalar_text()?, v.scalar_text()?)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ls(product: Option<&str>, category: Option<&str>, service: Option<&str>) -> LogSource {
        LogSource {
            product: product.map(Into::into),
            category: category.map(Into::into),
            service: service.map(Into::into),
            definition: None,
        }
    }

    #[test]
    fn builtin_windows_mapping_resolves_the_taxonomy() {
        let m = Mapping::builtin();
        assert_eq!(
            m.names(),
            [
                "windows",
                "linux",
                "webserver",
                "apache",
                "nginx",
                "iis",
                "firewall"
            ]
        );
        let pc = m
            .resolve(&ls(Some("windows"), Some("process_creation"), None))
            .unwrap();
        assert_eq!(pc.len(), 2);
        assert_eq!(pc[0].event_ids, vec![1]);
        assert_eq!(pc[1].field("Image"), "NewProcessName");
        assert_eq!(pc[1].field("CommandLine"), "CommandLine");
        assert_eq!(pc[0].field("Execution_ProcessID"), "ProcessID");
        let sec = m
            .resolve(&ls(Some("windows"), None, Some("security")))
            .unwrap();
        assert_eq!(sec[0].channel.as_deref(), Some("Security"));
        let any = m.resolve(&ls(Some("windows"), None, None)).unwrap();
        assert_eq!(any[0].channel, None);
        let etw = m
            .resolve(&ls(Some("windows"), Some("file_access"), None))
            .unwrap_err();
        assert!(etw.contains("ETW"), "{etw}");
        let sysmon = m
            .resolve(&ls(Some("linux"), Some("process_creation"), None))
            .unwrap_err();
        assert!(sysmon.contains("Sysmon"), "{sysmon}");
        assert_eq!(
            m.resolve(&ls(Some("macos"), Some("process_creation"), None))
                .unwrap_err(),
            ""
        );
        assert!(m.resolve(&ls(None, None, Some("security"))).is_ok());
    }

    #[test]
    fn builtin_text_log_mappings() {
        let m = Mapping::builtin();
        let channels = |ls: LogSource| -> Vec<(Option<String>, Option<String>)> {
            m.resolve(&ls)
                .unwrap()
                .iter()
                .map(|s| (s.channel.clone(), s.provider.clone()))
                .collect()
        };
        let web = channels(ls(None, Some("webserver"), None));
        assert_eq!(
            web,
            [
                (Some("apache_access".into()), None),
                (Some("iis_w3c".into()), None)
            ]
        );
        let web = m.resolve(&ls(None, Some("webserver"), None)).unwrap();
        assert_eq!(web[0].field("c-useragent"), "cs-user-agent");
        assert_eq!(web[0].field("cs-uri-query"), "cs-uri-query");
        let sshd = channels(ls(Some("linux"), None, Some("sshd")));
        assert!(sshd.contains(&(Some("linux_auth".into()), Some("sshd".into()))));
        assert!(sshd.contains(&(Some("syslog".into()), Some("sshd".into()))));
        let sudo = channels(ls(Some("linux"), None, Some("sudo")));
        assert!(sudo.iter().all(|(_, p)| p.as_deref() == Some("sudo")));
        let linux = channels(ls(Some("linux"), None, None));
        assert_eq!(linux.len(), 2);
        let fw = channels(ls(None, Some("firewall"), None));
        assert_eq!(fw, [(Some("windows_firewall".into()), None)]);
        let apache = channels(ls(None, None, Some("apache")));
        assert_eq!(apache, [(Some("apache_error".into()), None)]);
        assert!(
            m.resolve(&ls(Some("linux"), None, Some("auditd")))
                .unwrap_err()
                .contains("audit.log")
        );
    }

    #[test]
    fn later_files_take_precedence() {
        let mut m = Mapping::builtin();
        let extra = "product: windows\nlogsources:\n  - service: security\n    sources: [{channel: MySecurity}]\n";
        m.extend(Mapping::from_yaml(extra, Path::new("x.yml")).unwrap());
        let sec = m
            .resolve(&ls(Some("windows"), None, Some("security")))
            .unwrap();
        assert_eq!(sec[0].channel.as_deref(), Some("MySecurity"));
        let bad =
            Mapping::from_yaml("logsources:\n  - service: x\n", Path::new("b.yml")).unwrap_err();
        assert!(bad.to_string().contains("sources"), "{bad}");
    }
}
