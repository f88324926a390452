//! The compiled matcher: rule variants grouped into buckets by channel and
//! event id, so that an event meets only the rules that can match it.

mod access;
mod bucket;
mod cimap;
mod eval;

use crate::compile::Variant;
use bucket::Bucket;
use cimap::CiMap;
use mirt_core::{Event, Value};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

pub use eval::Scratch;

/// The fields that made a rule match, with their values.
pub type MatchedFields = Vec<(String, Value)>;

/// A hit and its matched fields.
pub type Explained = (Hit, MatchedFields);

/// A rule that matched an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    /// Index of the rule in the rule set.
    pub rule: u32,
    /// The variant (rule x event source) that matched.
    pub(crate) variant: u32,
    bucket: u32,
    index: u32,
}

#[derive(Debug, Default)]
struct Route {
    by_event_id: HashMap<u32, u32>,
    other: Option<u32>,
}

/// The variants of one bucket, assembled when the first event needs them:
/// a run over a few logs builds the automata of a few buckets only.
struct LazyBucket {
    members: Vec<u32>,
    built: OnceLock<Bucket>,
}

/// Routes events to buckets and runs them.
pub(crate) struct Matcher {
    pub(crate) variants: Vec<Variant>,
    buckets: Vec<LazyBucket>,
    channels: CiMap<Route>,
    global: Route,
}

impl Matcher {
    /// Builds the buckets for `variants` (in parallel). Each variant lives
    /// in the buckets of its own keys only: (channel or any, event id or
    /// any); an event visits up to four buckets.
    pub(crate) fn build(variants: Vec<Variant>) -> Matcher {
        let mut keys: BTreeMap<(Option<&str>, Option<u32>), Vec<u32>> = BTreeMap::new();
        for (i, v) in variants.iter().enumerate() {
            let channel = v.channel.as_deref();
            if v.event_ids.is_empty() {
                keys.entry((channel, None)).or_default().push(i as u32);
            }
            for id in &v.event_ids {
                keys.entry((channel, Some(*id))).or_default().push(i as u32);
            }
        }
        let mut channels: CiMap<Route> = CiMap::default();
        let mut global = Route::default();
        for (n, ((channel, id), _)) in keys.iter().enumerate() {
            let route = match channel {
                Some(c) => channels.get_or_insert_with(c, Route::default),
                None => &mut global,
            };
            match id {
                Some(id) => {
                    route.by_event_id.insert(*id, n as u32);
                }
                None => route.other = Some(n as u32),
            }
        }
        let buckets = keys
            .into_values()
            .map(|members| LazyBucket {
                members,
                built: OnceLock::new(),
            })
            .collect();
        Matcher {
            variants,
            buckets,
            channels,
            global,
        }
    }

    fn bucket(&self, b: u32) -> &Bucket {
        let lazy = &self.buckets[b as usize];
        lazy.built.get_or_init(|| {
            let members: Vec<(u32, &Variant)> = lazy
                .members
                .iter()
                .map(|&i| (i, &self.variants[i as usize]))
                .collect();
            Bucket::build(&members)
        })
    }

    /// Assembles every bucket now (in parallel) instead of on first use.
    pub(crate) fn build_all(&self) {
        (0..self.buckets.len() as u32)
            .into_par_iter()
            .for_each(|b| {
                self.bucket(b);
            });
    }

    /// The buckets `event` visits: its channel's (by event id, then any
    /// id), then the channel-independent ones.
    fn buckets_for(&self, event: &Event) -> [Option<u32>; 4] {
        let id = event.event_id;
        let by_id = |r: &Route| id.and_then(|id| r.by_event_id.get(&id).copied());
        let channel = event.channel.as_deref().and_then(|c| self.channels.get(c));
        [
            channel.and_then(by_id),
            channel.and_then(|r| r.other),
            by_id(&self.global),
            self.global.other,
        ]
    }

    /// Appends the rules matching `event` to `hits` (one hit per rule, in
    /// rule order).
    pub(crate) fn scan(&self, event: &Event, scratch: &mut Scratch, hits: &mut Vec<Hit>) {
        self.scan_inner(event, scratch, hits, None);
    }

    /// Like [`Matcher::scan`], and also the matched fields of each hit,
    /// explained while the scratch still holds the bucket's state (no
    /// second scan).
    pub(crate) fn scan_explained(
        &self,
        event: &Event,
        scratch: &mut Scratch,
        out: &mut Vec<Explained>,
    ) {
        let mut hits = Vec::new();
        self.scan_inner(event, scratch, &mut hits, Some(out));
    }

    fn scan_inner(
        &self,
        event: &Event,
        scratch: &mut Scratch,
        hits: &mut Vec<Hit>,
        mut explained: Option<&mut Vec<Explained>>,
    ) {
        let start = hits.len();
        for b in self.buckets_for(event).into_iter().flatten() {
            let bucket = self.bucket(b);
            let first = hits.len();
            eval::scan_bucket(bucket, event, scratch, &mut |r| {
                let variant = bucket.rules[r as usize].variant;
                hits.push(Hit {
                    rule: self.variants[variant as usize].rule,
                    variant,
                    bucket: b,
                    index: r,
                });
            });
            if let Some(out) = explained.as_deref_mut() {
                for hit in &hits[first..] {
                    let slots = eval::explain_rule(bucket, hit.index, event, scratch);
                    out.push((*hit, slot_values(bucket, &slots, event)));
                }
            }
        }
        if let Some(out) = explained {
            out.sort_by_key(|(h, _)| h.rule);
            out.dedup_by_key(|(h, _)| h.rule);
        }
        hits[start..].sort_by_key(|h| h.rule);
        let mut seen = start;
        for i in start..hits.len() {
            if i == start || hits[i].rule != hits[seen - 1].rule {
                hits[seen] = hits[i];
                seen += 1;
            }
        }
        hits.truncate(seen);
    }

    /// The fields that made `hit` match, with their values.
    pub(crate) fn matched_fields(
        &self,
        event: &Event,
        hit: &Hit,
        scratch: &mut Scratch,
    ) -> Vec<(String, Value)> {
        let bucket = self.bucket(hit.bucket);
        // Re-run the bucket's scan so the scratch holds this event's state.
        eval::scan_bucket(bucket, event, scratch, &mut |_| {});
        let slots = eval::explain_rule(bucket, hit.index, event, scratch);
        slot_values(bucket, &slots, event)
    }

    /// The number of buckets, for statistics.
    pub(crate) fn bucket_count(&self) -> usize {
        self.buckets.len()
    }
}

/// The names and values of `slots` in `event`.
fn slot_values(bucket: &Bucket, slots: &[u16], event: &Event) -> Vec<(String, Value)> {
    slots
        .iter()
        .filter_map(|&s| {
            let name = &bucket.slot_names[s as usize];
            Some((name.clone(), field_value(event, name)?))
        })
        .collect()
}

/// A field's value by name as the matcher resolves it (data fields, then
/// header names, then `System` items), ignoring ASCII case.
pub(crate) fn field_value(event: &Event, name: &str) -> Option<Value> {
    let found = event
        .fields
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone());
    if found.is_some() {
        return found;
    }
    if let Some(h) = access::Header::from_name(name) {
        return access::value_at(event, access::Loc::Header(h)).map(|r| match r {
            access::FieldRef::Value(v) => v.clone(),
            access::FieldRef::Str(s) => Value::from(s),
            access::FieldRef::UInt(n) => Value::UInt(n),
            access::FieldRef::Time(t) => Value::from(t.to_string()),
        });
    }
    event
        .system
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
}
