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
        (Yaml::Map(x), Yaml::Map(y)) if x.len() == y.len() => x.iter().zip(y).find_map(|(a, b)| {
            node_difference(&a.0, &b.0).or_else(|| node_difference(&a.1, &b.1))
        }),
        (Yaml::Seq(_) | Yaml::Map(_), _) => Some(format!("{a:?}\nreference {b:?}")),
        _ if a != b => Some(format!("{a:?}\nreference {b:?}")),
        _ => None,
    };
    children.or_else(|| {
        (a.line != b.line).then(|| format!("line {} of {:?}, reference {}", a.line, a.value, b.line))
    })
}

#[test]
fn fast_reader_agrees_on_every_sigma_file_of_the_corpus() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let root = corpus.join("sigma");
    let (mut files, mut accepted, mut failures) = (0, 0, Vec::new());
    for entry in walkdir::WalkDir::new(&root).into_iter().filter_map(Result::ok) {
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
    assert!(files > 1000, "only {files} YAML files under {}", root.display());
    assert!(accepted * 100 > files * 99, "accepted {accepted} of {files}");
    let _ = load_documents;
}
