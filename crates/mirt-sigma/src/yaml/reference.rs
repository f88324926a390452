//! The reference reader: yaml-rust2's event parser feeding the node tree.
//! It reads all of YAML and gives the errors; the fast path defers to it.

use super::{Node, Yaml, YamlError, resolve_plain};
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Reads every document of a YAML stream, empty ones included.
pub(super) fn load(text: &str) -> Result<Vec<Node>, YamlError> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut builder, true).map_err(|e| YamlError {
        line: e.marker().line() as u64,
        column: e.marker().col() as u64,
        message: e.info().to_string(),
    })?;
    if let Some(err) = builder.error {
        return Err(err);
    }
    Ok(builder.docs)
}

enum Open {
    Seq(Node, usize),
    Map(Node, usize, Option<Node>),
}

#[derive(Default)]
struct Builder {
    docs: Vec<Node>,
    stack: Vec<Open>,
    anchors: Vec<(usize, Node)>,
    error: Option<YamlError>,
}

impl Builder {
    fn finish_node(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.push((anchor, node.clone()));
        }
        match self.stack.last_mut() {
            None => self.docs.push(node),
            Some(Open::Seq(seq, _)) => {
                if let Yaml::Seq(items) = &mut seq.value {
                    items.push(node);
                }
            }
            Some(Open::Map(map, _, key)) => match key.take() {
                None => *key = Some(node),
                Some(k) => {
                    if let Yaml::Map(entries) = &mut map.value {
                        let duplicate = entries.iter().any(|(old, _)| old.value == k.value);
                        if duplicate && self.error.is_none() {
                            self.error = Some(YamlError {
                                line: k.line,
                                column: 1,
                                message: format!(
                                    "duplicate key {:?} (YAML keys must be unique)",
                                    k.scalar_text().unwrap_or_default()
                                ),
                            });
                        }
                        entries.push((k, node));
                    }
                }
            },
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let line = mark.line() as u64;
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                let value = if style != TScalarStyle::Plain || tag.is_some() {
                    Yaml::Str(text)
                } else {
                    resolve_plain(text)
                };
                self.finish_node(Node { value, line }, anchor);
            }
            Event::SequenceStart(anchor, _) => self.stack.push(Open::Seq(
                Node {
                    value: Yaml::Seq(Vec::new()),
                    line,
                },
                anchor,
            )),
            Event::MappingStart(anchor, _) => self.stack.push(Open::Map(
                Node {
                    value: Yaml::Map(Vec::new()),
                    line,
                },
                anchor,
                None,
            )),
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some(Open::Seq(node, anchor) | Open::Map(node, anchor, _)) = self.stack.pop()
                {
                    self.finish_node(node, anchor);
                }
            }
            Event::Alias(id) => {
                let node = self
                    .anchors
                    .iter()
                    .rev()
                    .find(|(a, _)| *a == id)
                    .map(|(_, n)| Node {
                        value: n.value.clone(),
                        line,
                    })
                    .unwrap_or(Node {
                        value: Yaml::Null,
                        line,
                    });
                self.finish_node(node, 0);
            }
            Event::DocumentEnd | Event::DocumentStart => self.stack.clear(),
            Event::Nothing | Event::StreamStart | Event::StreamEnd => {}
        }
    }
}
