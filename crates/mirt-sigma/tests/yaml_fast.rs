//! The fast YAML reader against yaml-rust2, the reference: on every Sigma
//! file of the corpus, on generated Sigma-like texts and on tricky cases,
//! whenever the fast reader accepts a text its tree (values and lines) is
//! the reference's.

mod common;

use mirt_sigma::yaml::{Node, Yaml, load_documents, load_documents_fast, load_documents_reference};

/// Checks one text: fast == reference where fast accepts; returns whether
/// it accepted.
fn agrees(text: &str) -> Result<bool, String> {
    let Some(fast) = load_documents_fast(text) else {
        return Ok(false);
    };
    match load_documents_reference(text) {
        Ok(reference) if reference == fast => Ok(true),
        Ok(reference) => Err(first_difference(&fast, &reference)),
        Err(e) => Err(format!("fast accepted what the reference refuses: {e}")),
    }
}

/// The first place where two trees differ, shortly.
fn first_difference(fast: &[Node], reference: &[Node]) -> String {
    if fast.len() != reference.len() {
        return format!("{} documents, reference {}", fast.len(), reference.len());
    }
    let pairs = fast.iter().zip(reference);
    pairs
        .filter_map(|(a, b)| node_difference(a, b))
        .next()
        .unwrap_or_default()
}

fn node_difference(a: &Node, b: &Node) -> Option<String> {
    let children = match (&a.value, &b.value) {
        (Yaml::Seq(x), Yaml::Seq(y)) if x.len() == y.len() => {
            x.iter().zip(y).find_map(|(a, b)| node_difference(a, b))
        }
        (Yaml::Map(x), Yaml::Map(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .find_map(|(a, b)| node_difference(&a.0, &b.0).or_else(|| node_difference(&a.1, &b.1))),
        (Yaml::Seq(_) | Yaml::Map(_), _) => Some(format!("{a:?}\nreference {b:?}")),
        _ if a != b => Some(format!("{a:?}\nreference {b:?}")),
        _ => None,
    };
    children.or_else(|| {
        (a.line != b.line)
            .then(|| format!("line {} of {:?}, reference {}", a.line, a.value, b.line))
    })
}

#[test]
fn fast_reader_agrees_on_every_sigma_file_of_the_corpus() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let root = corpus.join("sigma");
    let (mut files, mut accepted, mut failures) = (0, 0, Vec::new());
    for entry in walkdir::WalkDir::new(&root)
        .into_iter()
        .filter_map(Result::ok)
    {
        let path = entry.path();
        if !path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        files += 1;
        match agrees(&text) {
            Ok(true) => accepted += 1,
            Ok(false) => println!("fast reader gave up: {}", path.display()),
            Err(e) => failures.push(format!("{}: {e}", path.display())),
        }
    }
    println!("fast reader accepted {accepted} of {files} files");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(
        files > 1000,
        "only {files} YAML files under {}",
        root.display()
    );
    assert!(
        accepted * 100 > files * 99,
        "accepted {accepted} of {files}"
    );
    let _ = load_documents;
}

/// Tricky texts: whether the fast reader should take each one, and for
/// all of them, what `load_documents` gives is the reference's.
const CASES: &[(&str, bool)] = &[
    ("key: 'it''s'\n", true),
    (
        "key: \"\\x41\\u00e9\\U0001F600\\t\\\\\\\"\\/\\N\\_\"\n",
        true,
    ),
    ("a: |-\n  one\n  two\n\nb: 1\n", true),
    ("a: |\n  one\n\n  two\n\n\nb: 1\n", true),
    ("a: |+\n  one\n\n\nb: 1\n", true),
    ("a: >\n  one\n  two\n\n  three\nb: 1\n", true),
    ("a: >-\n  folded\n  text\n", true),
    ("a: |\n\n  after an empty line\n", true),
    ("- a: 1\n  b: 2\n- c\n", true),
    ("key:\nother: 1\n", true),
    ("key:\n", true),
    ("key:", true),
    ("- \n- b\n-\n", true),
    ("key: value # comment\n", true),
    ("key: value#not a comment\n", true),
    ("url: http://x\n", true),
    ("'a: b': c\n\"d\": e\n", true),
    ("a: -1\nb: +2\nc: -x\nd: 1.5e3\ne: 0o17\n", true),
    ("- - x\n  - y\n- - z\n", true),
    ("a: b   \nc:    \n  - d  \n", true),
    ("a: 1\r\nb:\r\n  - 'x'\r\n  - |\r\n    y\r\n", true),
    ("\u{feff}a: 1\n", false),
    ("a: [1, 'b', \"c\", [d], {e: f}]\n", true),
    ("a: [1,\n  2,  # two\n  3]\nb: {x: 1,\n  y: 2}\n", true),
    ("a: []\nb: {}\n", true),
    ("list:\n- a\n- b\nnext: 1\n", true),
    (
        "condition: one and\n    not two\n\n    or three\nnext: x\n",
        true,
    ),
    ("a: 'multi\n  line\n\n  quoted'\nb: \"x\n  y\"\n", true),
    ("a: :x\nb: ?y\n", true),
    ("title: a\n---\ntitle: b\n...\n---\n# empty\n", true),
    ("a: 1\n# comment\n  # indented comment\nb: 2\n", true),
    ("a: &x 1\nb: *x\n", false),
    ("a: !tag x\n", false),
    ("? complex\n: key\n", false),
    ("%YAML 1.2\n---\na: 1\n", false),
    ("a:\n\t- x\n", false),
    ("a: 1\na: 2\n", false),
    ("a: [1, 2\n", false),
    ("a: b: c\n", false),
    ("a: 1\n  b: 2\n", false),
    ("a: |1\n  x\n", false),
    ("a: [1, 2,]\n", false),
    ("a: \"bad \\q escape\"\n", false),
    ("--- text\n", false),
    ("a: [x\n  y]\n", false),
];

#[test]
fn tricky_cases_agree_with_the_reference() {
    for (text, fast_takes) in CASES {
        let got = load_documents(text);
        assert_eq!(got, load_documents_reference(text), "{text:?}");
        let accepted = agrees(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!(accepted, *fast_takes, "fast reader on {text:?}");
    }
}

#[test]
fn tricky_values() {
    let docs = load_documents("a: 'it''s'\nb: \"\\x41\\u00e9\"\nc: |-\n  x\n  y\nd:\n").unwrap();
    let d = &docs[0];
    assert_eq!(d.get("a").unwrap().as_str(), Some("it's"));
    assert_eq!(d.get("b").unwrap().as_str(), Some("Aé"));
    assert_eq!(d.get("c").unwrap().as_str(), Some("x\ny"));
    assert_eq!(d.get("c").unwrap().line, 4);
    assert_eq!(d.get("d").unwrap().value, Yaml::Null);
    let dup = load_documents("a: 1\nb: 2\na: 3\n").unwrap_err();
    assert!(dup.message.contains("duplicate key"), "{dup}");
    assert_eq!(dup.line, 3);
}

mod generated {
    //! Sigma-like YAML texts built from random trees: nested mappings and
    //! lists, plain, quoted and block scalars, flow lists, comments.
    use super::agrees;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Gen {
        /// A scalar and its style: plain, single, double, literal, folded.
        Scalar(String, u8),
        Seq(Vec<Gen>, bool),
        Map(Vec<(String, Gen)>),
        Flow(Vec<(String, u8)>),
    }

    fn text() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9 :#'\"\\\\*|,\\[\\]{}é./&!?%-]{0,10}(\n[a-z :#'-]{0,8}){0,2}"
    }

    fn tree() -> impl Strategy<Value = Gen> {
        let leaf = prop_oneof![
            // Plain scalars mostly of the kind rules have, sometimes odd.
            "[a-zA-Z0-9*\\\\][a-zA-Z0-9 :#'./*\\\\-]{0,10}".prop_map(|t| Gen::Scalar(t, 0)),
            (text(), 0u8..5).prop_map(|(t, s)| Gen::Scalar(t, s)),
            prop::collection::vec(("[a-z0-9 '\"\\\\:*-]{0,6}", 0u8..3), 0..4).prop_map(Gen::Flow),
        ];
        leaf.prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                (prop::collection::vec(inner.clone(), 1..4), any::<bool>())
                    .prop_map(|(v, indentless)| Gen::Seq(v, indentless)),
                prop::collection::vec(("[a-zA-Z|_ .:'-]{1,8}", inner), 1..4).prop_map(Gen::Map),
            ]
        })
    }

    fn scalar(t: &str, style: u8, indent: usize, out: &mut String) {
        let pad = " ".repeat(indent + 2);
        match style {
            0 => out.push_str(&t.replace('\n', &format!("\n{pad}"))),
            1 => out.push_str(&format!("'{}'", t.replace('\'', "''"))),
            2 => {
                let escaped = t
                    .replace('\\', "\\\\")
                    .replace('"', "\\\"")
                    .replace('é', "\\u00e9")
                    .replace('\n', "\\n");
                out.push_str(&format!("\"{escaped}\""));
            }
            _ => {
                let header = ["|", "|-", "|+", ">", ">-"][t.len() % 5];
                let indicator = if style == 3 {
                    header
                } else {
                    &header.replace('|', ">")
                };
                out.push_str(indicator);
                for line in t.split('\n') {
                    out.push('\n');
                    if !line.trim().is_empty() {
                        out.push_str(&pad);
                        out.push_str(line);
                    }
                }
            }
        }
        out.push('\n');
    }

    fn flow(items: &[(String, u8)], out: &mut String) {
        let parts: Vec<String> = items
            .iter()
            .map(|(t, s)| match s {
                0 => t.clone(),
                1 => format!("'{}'", t.replace('\'', "''")),
                _ => format!("\"{}\"", t.replace('\\', "\\\\").replace('"', "\\\"")),
            })
            .collect();
        out.push_str(&format!("[{}]\n", parts.join(", ")));
    }

    /// Writes `node` as the value after `key:` or `- ` at `indent`.
    fn value(node: &Gen, indent: usize, out: &mut String) {
        match node {
            Gen::Scalar(t, s) => {
                out.push(' ');
                scalar(t, *s, indent, out);
            }
            Gen::Flow(items) => {
                out.push(' ');
                flow(items, out);
            }
            Gen::Seq(_, indentless) => {
                out.push_str("  # list\n");
                let inner = if *indentless { indent } else { indent + 2 };
                block(node, inner, out);
            }
            Gen::Map(_) => {
                out.push('\n');
                block(node, indent + 2, out);
            }
        }
    }

    fn block(node: &Gen, indent: usize, out: &mut String) {
        let pad = " ".repeat(indent);
        match node {
            Gen::Seq(items, _) => {
                for item in items {
                    out.push_str(&pad);
                    out.push('-');
                    value(item, indent, out);
                }
            }
            Gen::Map(entries) => {
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i % 2 == 1 {
                        out.push_str(&format!("{pad}# entry {i}\n\n"));
                    }
                    out.push_str(&format!("{pad}{k}:"));
                    value(v, indent, out);
                }
            }
            _ => value(node, indent, out),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn fast_reader_agrees_on_generated_texts(
            root in prop::collection::vec(("[a-z]{1,6}", tree()), 1..6),
            crlf in any::<bool>(),
        ) {
            let mut text = String::new();
            block(&Gen::Map(root), 0, &mut text);
            if crlf {
                text = text.replace('\n', "\r\n");
            }
            if let Err(e) = agrees(&text) {
                panic!("{text}\n{e}");
            }
        }
    }
}
