//! The `detection` section: search identifiers (maps, lists of maps,
//! keyword lists), field tests with their modifiers and values, and the
//! condition.

use crate::ast::{Detection, FieldTest, Search, Selection, SigmaValue};
use crate::condition;
use crate::modifier::{self, Modifier};
use crate::value::SigmaString;
use crate::yaml::{Node, Yaml};

type ParseResult<T> = Result<T, (u64, String)>;

/// Reads a detection section; keys in `skip` are not search identifiers
/// (a filter's `rules`).
pub(crate) fn parse_detection(node: &Node, skip: &[&str]) -> ParseResult<Detection> {
    let entries = node
        .as_map()
        .ok_or((node.line, "'detection' must be a map".to_string()))?;
    let mut searches = Vec::new();
    let mut condition_node = None;
    for (key, value) in entries {
        let name = key
            .scalar_text()
            .ok_or((key.line, "a search identifier must be a name".to_string()))?;
        if name == "condition" {
            condition_node = Some(value);
        } else if name == "timeframe" {
            return Err((
                key.line,
                "'timeframe' belongs to the obsolete Sigma 1.0 aggregations; use a correlation rule"
                    .into(),
            ));
        } else if !skip.contains(&name.as_str()) {
            searches.push((name, parse_search(value)?));
        }
    }
    let condition_node = condition_node.ok_or((node.line, "no 'condition'".to_string()))?;
    let texts: Vec<(&str, u64)> = match &condition_node.value {
        Yaml::Str(s) => vec![(s.as_str(), condition_node.line)],
        Yaml::Seq(items) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(|s| (s, i.line))
                    .ok_or((i.line, "a condition must be text".to_string()))
            })
            .collect::<Result<_, _>>()?,
        _ => return Err((condition_node.line, "the condition must be text".into())),
    };
    let names: Vec<&str> = searches.iter().map(|(n, _)| n.as_str()).collect();
    let mut conditions = Vec::new();
    for (text, line) in texts {
        let cond =
            condition::parse(text).map_err(|e| (line, format!("condition {text:?}: {e}")))?;
        cond.check(&names)
            .map_err(|e| (line, format!("condition {text:?}: {e}")))?;
        conditions.push(cond);
    }
    Ok(Detection {
        searches,
        conditions,
    })
}

fn parse_search(node: &Node) -> ParseResult<Search> {
    match &node.value {
        Yaml::Map(_) => Ok(Search::Selections(vec![parse_selection(node)?])),
        Yaml::Seq(items) if items.is_empty() => {
            Err((node.line, "an empty list matches nothing".into()))
        }
        Yaml::Seq(items) if items.iter().all(|i| i.as_map().is_some()) => Ok(Search::Selections(
            items
                .iter()
                .map(parse_selection)
                .collect::<Result<_, _>>()?,
        )),
        Yaml::Seq(items)
            if items
                .iter()
                .all(|i| i.as_map().is_none() && i.as_seq().is_none()) =>
        {
            Ok(Search::Keywords(
                items
                    .iter()
                    .map(|i| plain_value(i, &[]))
                    .collect::<Result<_, _>>()?,
            ))
        }
        Yaml::Seq(_) => Err((
            node.line,
            "a search list must hold only maps or only keywords".into(),
        )),
        _ => Err((
            node.line,
            format!(
                "a search must be a map or a list, not a {}",
                node.type_name()
            ),
        )),
    }
}

fn parse_selection(node: &Node) -> ParseResult<Selection> {
    let mut tests = Vec::new();
    for (key, value) in node.as_map().unwrap_or_default() {
        let key_text = key
            .scalar_text()
            .ok_or((key.line, "a field name must be text".to_string()))?;
        tests.push(parse_field_test(&key_text, key.line, value)?);
    }
    if tests.is_empty() {
        return Err((node.line, "an empty map matches nothing".into()));
    }
    Ok(Selection { tests })
}

fn parse_field_test(key: &str, line: u64, value: &Node) -> ParseResult<FieldTest> {
    let mut parts = key.split('|');
    let field = parts.next().unwrap_or_default();
    let mut modifiers = Vec::new();
    for name in parts {
        let m = Modifier::parse(name).ok_or_else(|| {
            (
                line,
                format!(
                    "unknown modifier '{name}' in '{key}' (not in the Sigma 2.1 modifier appendix)"
                ),
            )
        })?;
        modifiers.push(m);
    }
    modifier::check_chain(&modifiers).map_err(|e| (line, format!("'{key}': {e}")))?;
    let values = match &value.value {
        Yaml::Seq(items) if items.is_empty() => {
            return Err((
                value.line,
                format!("'{key}': an empty list of values matches nothing"),
            ));
        }
        Yaml::Seq(items) => items
            .iter()
            .map(|i| {
                if i.value == Yaml::Null {
                    return Err((
                        i.line,
                        format!("'{key}': null cannot be part of a list of values"),
                    ));
                }
                plain_value(i, &modifiers)
            })
            .collect::<Result<Vec<_>, _>>()?,
        _ => vec![plain_value(value, &modifiers)?],
    };
    let field = (!field.is_empty()).then(|| field.to_string());
    check_values(key, line, field.as_deref(), &modifiers, &values)?;
    Ok(FieldTest {
        field,
        modifiers,
        values,
        line,
    })
}

fn check_values(
    key: &str,
    line: u64,
    field: Option<&str>,
    mods: &[Modifier],
    values: &[SigmaValue],
) -> ParseResult<()> {
    let has = |m| mods.contains(&m);
    if has(Modifier::Exists) && !matches!(values, [SigmaValue::Bool(_)]) {
        return Err((line, format!("'{key}': 'exists' takes true or false")));
    }
    if field.is_none() && mods.iter().any(|m| *m != Modifier::All) && !mods.is_empty() {
        return Err((
            line,
            format!("'{key}': a keyword list takes only the 'all' modifier"),
        ));
    }
    if has(Modifier::All) && values.len() < 2 {
        return Err((
            line,
            format!("'{key}': 'all' needs a list of at least two values"),
        ));
    }
    let needs_string = has(Modifier::Re) || has(Modifier::Cidr) || has(Modifier::FieldRef);
    if needs_string && values.iter().any(|v| !matches!(v, SigmaValue::Str(_))) {
        return Err((line, format!("'{key}': this modifier takes text values")));
    }
    let numeric = mods.iter().any(|m| m.is_comparison());
    if numeric
        && values
            .iter()
            .any(|v| !matches!(v, SigmaValue::Int(_) | SigmaValue::Float(_)))
    {
        return Err((line, format!("'{key}': numeric comparisons take numbers")));
    }
    Ok(())
}

fn plain_value(node: &Node, mods: &[Modifier]) -> ParseResult<SigmaValue> {
    let verbatim = mods
        .iter()
        .any(|m| matches!(m, Modifier::Re | Modifier::FieldRef | Modifier::Cidr));
    Ok(match &node.value {
        Yaml::Null => SigmaValue::Null,
        Yaml::Bool(b) => SigmaValue::Bool(*b),
        Yaml::Int(n) => SigmaValue::Int(*n),
        Yaml::Float(f) => SigmaValue::Float(*f),
        Yaml::Str(s) if verbatim => SigmaValue::Str(SigmaString::literal(s)),
        Yaml::Str(s) => SigmaValue::Str(SigmaString::parse(s, mods.contains(&Modifier::Expand))),
        Yaml::Seq(_) | Yaml::Map(_) => {
            return Err((
                node.line,
                format!("a value must be a scalar, not a {}", node.type_name()),
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::load_documents;

    fn detection(text: &str) -> ParseResult<Detection> {
        let docs = load_documents(text).unwrap();
        parse_detection(&docs[0], &[])
    }

    #[test]
    fn selection_forms() {
        let d = detection(
            "sel:\n  Image|endswith: ['\\a.exe', '\\b.exe']\n  EventID: 1\nlist:\n  - A: x\n  - B: y\nkw:\n  - evil\n  - 42\nkwall:\n  '|all': [a, b]\ncondition: sel or list or kw or kwall\n",
        )
        .unwrap();
        let Search::Selections(sel) = d.search("sel").unwrap() else {
            panic!()
        };
        assert_eq!(sel[0].tests.len(), 2);
        assert_eq!(sel[0].tests[0].modifiers, vec![Modifier::EndsWith]);
        assert_eq!(sel[0].tests[0].values.len(), 2);
        assert_eq!(sel[0].tests[1].values, vec![SigmaValue::Int(1)]);
        let Search::Selections(list) = d.search("list").unwrap() else {
            panic!()
        };
        assert_eq!(list.len(), 2);
        assert!(matches!(d.search("kw"), Some(Search::Keywords(v)) if v.len() == 2));
        let Search::Selections(kwall) = d.search("kwall").unwrap() else {
            panic!()
        };
        assert_eq!(kwall[0].tests[0].field, None);
        assert_eq!(kwall[0].tests[0].modifiers, vec![Modifier::All]);
    }

    #[test]
    fn errors_table() {
        let cases = [
            (
                "sel:\n  A|contain: x\ncondition: sel\n",
                "unknown modifier 'contain'",
            ),
            ("sel:\n  A: x\ncondition: sel and other\n", "not defined"),
            ("sel:\n  A: x\n", "no 'condition'"),
            (
                "sel:\n  A: [x, null]\ncondition: sel\n",
                "null cannot be part",
            ),
            (
                "sel:\n  A|exists: yes\ncondition: sel\n",
                "takes true or false",
            ),
            (
                "sel:\n  A|contains|all: x\ncondition: sel\n",
                "at least two",
            ),
            ("sel:\n  A|gt: x\ncondition: sel\n", "take numbers"),
            ("sel: []\ncondition: sel\n", "empty list"),
            ("sel:\n  A: x\ntimeframe: 5m\ncondition: sel\n", "obsolete"),
            (
                "sel:\n  - A: x\n  - y\ncondition: sel\n",
                "only maps or only keywords",
            ),
        ];
        for (text, want) in cases {
            let (_, err) = detection(text).unwrap_err();
            assert!(err.contains(want), "{text}: {err}");
        }
    }

    #[test]
    fn regex_values_are_verbatim() {
        let d = detection("sel:\n  A|re: 'a\\\\*b?'\ncondition: sel\n").unwrap();
        let Search::Selections(s) = d.search("sel").unwrap() else {
            panic!()
        };
        let SigmaValue::Str(v) = &s[0].tests[0].values[0] else {
            panic!()
        };
        assert_eq!(v.raw, "a\\\\*b?");
        assert_eq!(v.as_plain(), Some("a\\\\*b?"));
    }
}
