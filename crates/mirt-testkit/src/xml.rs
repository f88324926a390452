//! The XML of an event as Windows writes it: a template (elements,
//! attributes, literal text and numbered slots) and an instance (the
//! template and the typed values for its slots).
//!
//! The `System` template follows the one Windows uses for manifest-based
//! providers, slot for slot; the data section is a nested instance in slot
//! 17, of a template of its own, as in real logs.

use crate::spec::{Body, EventSpec, ItemKind};
use crate::value::{FieldValue, ty};

/// The namespace of the `Event` element.
pub(crate) const EVENT_NS: &str = "http://schemas.microsoft.com/win/2004/08/events/event";

/// A leaf of a template: text written into it, or a slot an instance fills.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Leaf {
    /// Literal text.
    Text(String),
    /// Substitution `index`, declared as type `ty`; an `optional` one
    /// leaves its attribute or element out when the value is NULL.
    Slot { index: u16, ty: u8, optional: bool },
}

/// An element of a template.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Element {
    pub(crate) name: String,
    /// The slot whose NULL value removes this element.
    pub(crate) dependency: Option<u16>,
    pub(crate) attributes: Vec<(String, Leaf)>,
    pub(crate) children: Vec<Content>,
}

/// What an element holds.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Content {
    Element(Element),
    Leaf(Leaf),
}

/// A template and the values of its slots.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Instance {
    pub(crate) template: Element,
    pub(crate) values: Vec<SlotValue>,
}

/// The value of one slot.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SlotValue {
    Value(FieldValue),
    /// A BinXML fragment: a nested template instance.
    Nested(Instance),
}

impl Element {
    fn new(name: &str) -> Self {
        Element {
            name: name.into(),
            dependency: None,
            attributes: Vec::new(),
            children: Vec::new(),
        }
    }

    fn depends_on(mut self, slot: u16) -> Self {
        self.dependency = Some(slot);
        self
    }

    fn attr(mut self, name: &str, leaf: Leaf) -> Self {
        self.attributes.push((name.into(), leaf));
        self
    }

    fn child(mut self, child: Element) -> Self {
        self.children.push(Content::Element(child));
        self
    }

    fn leaf(mut self, leaf: Leaf) -> Self {
        self.children.push(Content::Leaf(leaf));
        self
    }
}

fn opt(index: u16, ty: u8) -> Leaf {
    Leaf::Slot {
        index,
        ty,
        optional: true,
    }
}

fn normal(index: u16, ty: u8) -> Leaf {
    Leaf::Slot {
        index,
        ty,
        optional: false,
    }
}

/// Slot numbers of the `System` template, as Windows numbers them.
mod slot {
    pub const LEVEL: u16 = 0;
    pub const OPCODE: u16 = 1;
    pub const TASK: u16 = 2;
    pub const EVENT_ID: u16 = 3;
    pub const QUALIFIERS: u16 = 4;
    pub const KEYWORDS: u16 = 5;
    pub const TIME: u16 = 6;
    pub const ACTIVITY: u16 = 7;
    pub const PROCESS: u16 = 8;
    pub const THREAD: u16 = 9;
    pub const RECORD_ID: u16 = 10;
    pub const VERSION: u16 = 11;
    pub const USER: u16 = 12;
    pub const RELATED: u16 = 13;
    pub const PROVIDER: u16 = 14;
    pub const PROVIDER_GUID: u16 = 15;
    pub const CHANNEL: u16 = 16;
    pub const BODY: u16 = 17;
    pub const SOURCE_NAME: u16 = 18;
}

/// The `Event` template. The computer name is literal text in it, as in
/// Windows' own templates, so each computer has its own template.
fn system_template(computer: &str) -> Element {
    let provider = Element::new("Provider")
        .attr("Name", opt(slot::PROVIDER, ty::STRING))
        .attr("Guid", opt(slot::PROVIDER_GUID, ty::GUID))
        .attr("EventSourceName", opt(slot::SOURCE_NAME, ty::STRING));
    let scalar =
        |name: &str, index: u16, ty: u8| Element::new(name).depends_on(index).leaf(opt(index, ty));
    let system = Element::new("System")
        .child(provider)
        .child(
            Element::new("EventID")
                .depends_on(slot::EVENT_ID)
                .attr("Qualifiers", opt(slot::QUALIFIERS, ty::U16))
                .leaf(opt(slot::EVENT_ID, ty::U16)),
        )
        .child(scalar("Version", slot::VERSION, ty::U8))
        .child(scalar("Level", slot::LEVEL, ty::U8))
        .child(scalar("Task", slot::TASK, ty::U16))
        .child(scalar("Opcode", slot::OPCODE, ty::U8))
        .child(scalar("Keywords", slot::KEYWORDS, ty::HEX64))
        .child(Element::new("TimeCreated").attr("SystemTime", opt(slot::TIME, ty::FILETIME)))
        .child(scalar("EventRecordID", slot::RECORD_ID, ty::U64))
        .child(
            Element::new("Correlation")
                .attr("ActivityID", opt(slot::ACTIVITY, ty::GUID))
                .attr("RelatedActivityID", opt(slot::RELATED, ty::GUID)),
        )
        .child(
            Element::new("Execution")
                .attr("ProcessID", opt(slot::PROCESS, ty::U32))
                .attr("ThreadID", opt(slot::THREAD, ty::U32)),
        )
        .child(scalar("Channel", slot::CHANNEL, ty::STRING))
        .child(Element::new("Computer").leaf(Leaf::Text(computer.into())))
        .child(Element::new("Security").attr("UserID", opt(slot::USER, ty::SID)));
    Element::new("Event")
        .attr("xmlns", Leaf::Text(EVENT_NS.into()))
        .child(system)
        .leaf(opt(slot::BODY, ty::BINXML))
}

/// The event as an instance of the `System` template, with its data
/// section nested in slot 17.
pub(crate) fn event_instance(spec: &EventSpec, record_id: u64) -> Instance {
    let v = |value: FieldValue| SlotValue::Value(value);
    let or_null = |value: Option<FieldValue>| v(value.unwrap_or(FieldValue::Null));
    let mut values = vec![SlotValue::Value(FieldValue::Null); slot::SOURCE_NAME as usize + 1];
    let mut set = |index: u16, value: SlotValue| values[index as usize] = value;
    set(slot::LEVEL, v(FieldValue::U8(spec.level)));
    set(slot::OPCODE, v(FieldValue::U8(spec.opcode)));
    set(slot::TASK, v(FieldValue::U16(spec.task)));
    set(slot::EVENT_ID, v(FieldValue::U16(spec.event_id)));
    set(
        slot::QUALIFIERS,
        or_null(spec.qualifiers.map(FieldValue::U16)),
    );
    set(slot::KEYWORDS, v(FieldValue::HexInt64(spec.keywords)));
    set(slot::TIME, v(FieldValue::FileTime(spec.time)));
    set(
        slot::ACTIVITY,
        or_null(spec.activity_id.map(FieldValue::Guid)),
    );
    set(slot::PROCESS, v(FieldValue::U32(spec.process_id)));
    set(slot::THREAD, v(FieldValue::U32(spec.thread_id)));
    set(slot::RECORD_ID, v(FieldValue::U64(record_id)));
    set(slot::VERSION, v(FieldValue::U8(spec.version)));
    set(
        slot::USER,
        or_null(spec.user_id.clone().map(FieldValue::Sid)),
    );
    set(
        slot::RELATED,
        or_null(spec.related_activity_id.map(FieldValue::Guid)),
    );
    set(slot::PROVIDER, v(FieldValue::Str(spec.provider.clone())));
    set(
        slot::PROVIDER_GUID,
        or_null(spec.provider_guid.map(FieldValue::Guid)),
    );
    set(slot::CHANNEL, v(FieldValue::Str(spec.channel.clone())));
    set(
        slot::SOURCE_NAME,
        or_null(spec.event_source_name.clone().map(FieldValue::Str)),
    );
    if let Some(body) = body_instance(&spec.body) {
        set(slot::BODY, SlotValue::Nested(body));
    }
    Instance {
        template: system_template(&spec.computer),
        values,
    }
}

/// The data section as an instance of a template of its own: one slot per item.
fn body_instance(body: &Body) -> Option<Instance> {
    let (root, values) = match body {
        Body::None => return None,
        Body::EventData(items) => {
            let mut root = Element::new("EventData");
            let mut values = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let leaf = normal(i as u16, item.value.template_type());
                let element = match &item.kind {
                    ItemKind::Named(name) => {
                        Element::new("Data").attr("Name", Leaf::Text(name.clone()))
                    }
                    ItemKind::Unnamed => Element::new("Data"),
                    ItemKind::Binary => Element::new("Binary"),
                };
                root = root.child(element.leaf(leaf));
                values.push(SlotValue::Value(item.value.clone()));
            }
            (root, values)
        }
        Body::UserData {
            element,
            xmlns,
            items,
        } => {
            let mut inner = Element::new(element).attr("xmlns", Leaf::Text(xmlns.clone()));
            let mut values = Vec::with_capacity(items.len());
            for (i, (name, value)) in items.iter().enumerate() {
                inner =
                    inner.child(Element::new(name).leaf(normal(i as u16, value.template_type())));
                values.push(SlotValue::Value(value.clone()));
            }
            (Element::new("UserData").child(inner), values)
        }
    };
    Some(Instance {
        template: root,
        values,
    })
}

impl Instance {
    /// The instance with its values written into the tree as text, for the
    /// plain encoding: NULL optional attributes and elements that depend on
    /// a NULL slot are left out, nested instances are spliced in.
    pub(crate) fn resolve(&self) -> Element {
        resolve_element(&self.template, &self.values)
            .expect("the root element of a template has no dependency")
    }
}

fn is_null(values: &[SlotValue], index: u16) -> bool {
    matches!(
        values.get(index as usize),
        None | Some(SlotValue::Value(FieldValue::Null))
    )
}

fn resolve_element(e: &Element, values: &[SlotValue]) -> Option<Element> {
    if e.dependency.is_some_and(|d| is_null(values, d)) {
        return None;
    }
    let mut out = Element::new(&e.name);
    for (name, leaf) in &e.attributes {
        match leaf {
            Leaf::Slot {
                index,
                optional: true,
                ..
            } if is_null(values, *index) => {}
            Leaf::Slot { index, .. } => {
                out.attributes
                    .push((name.clone(), Leaf::Text(slot_text(values, *index))));
            }
            text => out.attributes.push((name.clone(), text.clone())),
        }
    }
    for child in &e.children {
        match child {
            Content::Element(c) => out
                .children
                .extend(resolve_element(c, values).map(Content::Element)),
            Content::Leaf(Leaf::Slot { index, .. }) => match values.get(*index as usize) {
                Some(SlotValue::Nested(nested)) => {
                    out.children.push(Content::Element(nested.resolve()))
                }
                Some(SlotValue::Value(FieldValue::Null)) | None => {}
                Some(SlotValue::Value(v)) => {
                    out.children.push(Content::Leaf(Leaf::Text(v.to_text())))
                }
            },
            Content::Leaf(text) => out.children.push(Content::Leaf(text.clone())),
        }
    }
    Some(out)
}

fn slot_text(values: &[SlotValue], index: u16) -> String {
    match values.get(index as usize) {
        Some(SlotValue::Value(v)) => v.to_text(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_slots_are_numbered_as_windows_does() {
        let spec = EventSpec::new(4624).channel("Security").data("A", "x");
        let inst = event_instance(&spec, 7);
        assert_eq!(inst.values[3], SlotValue::Value(FieldValue::U16(4624)));
        assert_eq!(inst.values[10], SlotValue::Value(FieldValue::U64(7)));
        assert_eq!(
            inst.values[16],
            SlotValue::Value(FieldValue::from("Security"))
        );
        assert!(matches!(inst.values[17], SlotValue::Nested(_)));
    }

    #[test]
    fn plain_resolution_drops_null_optional_parts() {
        let spec = EventSpec::new(1).without_data();
        let root = event_instance(&spec, 1).resolve();
        let Content::Element(system) = &root.children[0] else {
            panic!()
        };
        let Content::Element(provider) = &system.children[0] else {
            panic!()
        };
        assert_eq!(provider.attributes.len(), 1, "only Name: {provider:?}");
        let Content::Element(event_id) = &system.children[1] else {
            panic!()
        };
        assert!(event_id.attributes.is_empty(), "no Qualifiers");
        assert_eq!(root.children.len(), 1, "no data section");
    }
}
