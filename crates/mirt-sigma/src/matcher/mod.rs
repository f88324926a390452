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
use std::collections::{BTreeSet, HashMap};

pub use eval::Scratch;

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

/// Routes events to buckets and runs them.
pub(crate) struct Matcher {
    pub(crate) variants: Vec<Variant>,
    buckets: Vec<Bucket>,
    channels: CiMap<Route>,
    global: Route,
}

impl Matcher {
    /// Builds the buckets for `variants` (in parallel).
    pub(crate) fn build(variants: Vec<Variant>) -> Matcher {
        let mut sets: Vec<Vec<u32>> = Vec::new();
        let mut set_index: HashMap<Vec<u32>, u32> = HashMap::new();
        let mut intern = |set: Vec<u32>| -> Option<u32> {
            if set.is_empty() {
                return None;
            }
            let next = sets.len() as u32;
            Some(*set_index.entry(set.clone()).or_insert_with(|| {
                sets.push(set);
                next
            }))
        };
        let select = |channel: Option<&str>, eid: Option<u32>| -> Vec<u32> {
            variants
                .iter()
                .enumerate()
                .filter(|(_, v)| v.channel.is_none() || v.channel.as_deref() == channel)
                .filter(|(_, v)| match eid {
                    None => v.event_ids.is_empty(),
                    Some(e) => v.event_ids.is_empty() || v.event_ids.contains(&e),
                })
                .map(|(i, _)| i as u32)
                .collect()
        };
        let global_ids: BTreeSet<u32> = variants
            .iter()
            .filter(|v| v.channel.is_none())
            .flat_map(|v| v.event_ids.iter().copied())
            .collect();
        let channels_used: BTreeSet<&str> = variants.iter().filter_map(|v| v.channel.as_deref()).collect();
        let mut channels = CiMap::default();
        for ch in channels_used {
            let mut ids = global_ids.clone();
            ids.extend(
                variants
                    .iter()
                    .filter(|v| v.channel.as_deref() == Some(ch))
                    .flat_map(|v| v.event_ids.iter().copied()),
            );
            let mut route = Route {
                other: intern(select(Some(ch), None)),
                ..Route::default()
            };
            for id in ids {
                if let Some(b) = intern(select(Some(ch), Some(id))) {
                    route.by_event_id.insert(id, b);
                }
            }
            *channels.get_or_insert_with(ch, Route::default) = route;
        }
        let mut global = Route {
            other: intern(select(None, None)),
            ..Route::default()
        };
        for id in global_ids {
            if let Some(b) = intern(select(None, Some(id))) {
                global.by_event_id.insert(id, b);
            }
        }
        let buckets = sets
            .par_iter()
            .map(|set| {
                let members: Vec<(u32, &Variant)> = set.iter().map(|&i| (i, &variants[i as usize])).collect();
                Bucket::build(&members)
            })
            .collect();
        Matcher {
            variants,
            buckets,
            channels,
            global,
        }
    }

    fn bucket_for(&self, event: &Event) -> Option<u32> {
        let route = event
            .channel
            .as_deref()
            .and_then(|c| self.channels.get(c))
            .unwrap_or(&self.global);
        event
            .event_id
            .and_then(|id| route.by_event_id.get(&id).copied())
            .or(route.other)
    }

    /// Appends the rules matching `event` to `hits` (one hit per rule, in
    /// rule order).
    pub(crate) fn scan(&self, event: &Event, scratch: &mut Scratch, hits: &mut Vec<Hit>) {
        let Some(b) = self.bucket_for(event) else { return };
        let bucket = &self.buckets[b as usize];
        let start = hits.len();
        eval::scan_bucket(bucket, event, scratch, &mut |r| {
            let variant = bucket.rules[r as usize].variant;
            hits.push(Hit {
                rule: self.variants[variant as usize].rule,
                variant,
                bucket: b,
                index: r,
            });
        });
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
    pub(crate) fn matched_fields(&self, event: &Event, hit: &Hit, scratch: &mut Scratch) -> Vec<(String, Value)> {
        let bucket = &self.buckets[hit.bucket as usize];
        // Re-run the bucket's scan so the scratch holds this event's state.
        eval::scan_bucket(bucket, event, scratch, &mut |_| {});
        let slots = eval::explain_rule(bucket, hit.index, event, scratch);
        slots
            .into_iter()
            .filter_map(|s| {
                let name = &bucket.slot_names[s as usize];
                let value = field_value(event, name)?;
                Some((name.clone(), value))
            })
            .collect()
    }

    /// The number of buckets, for statistics.
    pub(crate) fn bucket_count(&self) -> usize {
        self.buckets.len()
    }
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
