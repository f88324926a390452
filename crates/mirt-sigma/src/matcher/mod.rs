//! The compiled matcher: rule variants grouped into buckets by the channel
//! and event id they can match (one bucket per route, see [`route`]), so
//! that an event meets only the rules that can match it.

mod access;
pub(crate) mod automata;
mod bucket;
pub(crate) mod catalog;
mod cimap;
mod eval;
mod packed;
mod route;
mod scanner;
mod sets;
#[cfg(test)]
mod tests;

use crate::cache::automata::StoredAutomata;
use crate::compile::Variant;
use crate::compile::pattern::RegexPool;
use automata::Automata;
use bucket::Bucket;
use catalog::Catalog;
use mirt_core::{Event, Value};
use rayon::prelude::*;
use route::Routes;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

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

/// The variants of one route, assembled into a bucket when the first
/// event needs them: a run over a few logs builds the automata of a few
/// routes only.
struct LazyBucket {
    members: Vec<u32>,
    built: OnceLock<Bucket>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Routes events to buckets and runs them. Its variants' programs are
/// read only to number the catalog: a matcher made [`Matcher::with_catalog`]
/// (from the rule-set cache) has programs without tests.
pub(crate) struct Matcher {
    pub(crate) variants: Vec<Variant>,
    buckets: Vec<LazyBucket>,
    routes: Routes,
    /// Numbered when the first bucket is assembled: in a hunt that is
    /// while the other threads still parse the first chunks.
    catalog: OnceLock<Catalog>,
    automata: Automata,
    /// Tells matchers apart in a [`Scratch`] that serves several.
    id: u64,
}

impl Matcher {
    /// Indexes `variants` by channel and event id (see [`Routes`]), equal
    /// regexes shared; the buckets are built on first use.
    pub(crate) fn build(mut variants: Vec<Variant>) -> Matcher {
        let mut pool = RegexPool::default();
        for v in &mut variants {
            v.program.regexes_mut().for_each(|re| pool.share(re));
        }
        let mut routes = Routes::build(&variants);
        let buckets = std::mem::take(&mut routes.members)
            .into_iter()
            .map(|members| LazyBucket {
                members,
                built: OnceLock::new(),
            })
            .collect();
        Matcher {
            catalog: OnceLock::new(),
            variants,
            buckets,
            routes,
            automata: Automata::default(),
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// A matcher whose catalog was numbered before (and stored).
    pub(crate) fn with_catalog(variants: Vec<Variant>, catalog: Catalog) -> Matcher {
        let matcher = Matcher::build(variants);
        let _ = matcher.catalog.set(catalog.restored());
        matcher
    }

    /// Reads automata from `stored` before building them (set before the
    /// first bucket is assembled).
    pub(crate) fn use_stored_automata(&mut self, stored: Option<StoredAutomata>) {
        self.automata = Automata::with_stored(stored);
    }

    /// The automata built or read so far.
    pub(crate) fn automata(&self) -> &Automata {
        &self.automata
    }

    /// The numbered fields and literals. Built without rayon: it may be
    /// built on a rayon worker inside a `OnceLock`, where a nested
    /// parallel loop could steal a job that waits for the same lock.
    pub(crate) fn catalog(&self) -> &Catalog {
        self.catalog.get_or_init(|| Catalog::build(&self.variants))
    }

    fn bucket(&self, b: u32) -> &Bucket {
        let lazy = &self.buckets[b as usize];
        lazy.built
            .get_or_init(|| Bucket::build(&lazy.members, self.catalog(), &self.automata))
    }

    /// Assembles every bucket now (in parallel) instead of on first use.
    pub(crate) fn build_all(&self) {
        (0..self.buckets.len() as u32)
            .into_par_iter()
            .for_each(|b| {
                self.bucket(b);
            });
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

    /// The route of `event`. The channel's table is remembered in the
    /// scratch: events come in runs from one log, and hashing a channel
    /// name costs more than comparing it.
    fn route(&self, event: &Event, scratch: &mut Scratch) -> Option<u32> {
        let channel = event.channel.as_deref();
        let memo = &mut scratch.channel;
        let table = if memo.matcher == self.id && memo.name.as_deref() == channel {
            memo.table
        } else {
            let table = self.routes.table_of(channel);
            memo.matcher = self.id;
            memo.name = channel.map(Into::into);
            memo.table = table;
            table
        };
        self.routes.route_in(table, event.event_id)
    }

    fn scan_inner(
        &self,
        event: &Event,
        scratch: &mut Scratch,
        hits: &mut Vec<Hit>,
        explained: Option<&mut Vec<Explained>>,
    ) {
        let Some(b) = self.route(event, scratch) else {
            return;
        };
        let bucket = self.bucket(b);
        let start = hits.len();
        // The bucket's rules are in variant order, which is rule order: the
        // variants of one rule that match come out next to each other.
        eval::scan_bucket(bucket, (self.id, b), event, scratch, &mut |r| {
            let variant = bucket.rules[r as usize].variant;
            let rule = self.variants[variant as usize].rule;
            if hits.len() == start || hits[hits.len() - 1].rule != rule {
                hits.push(Hit {
                    rule,
                    variant,
                    bucket: b,
                    index: r,
                });
            }
        });
        if let Some(out) = explained {
            for hit in &hits[start..] {
                let slots = eval::explain_rule(bucket, hit.index, event, scratch);
                out.push((*hit, self.slot_values(&slots, event)));
            }
        }
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
        eval::scan_bucket(bucket, (self.id, hit.bucket), event, scratch, &mut |_| {});
        let slots = eval::explain_rule(bucket, hit.index, event, scratch);
        self.slot_values(&slots, event)
    }

    /// The names and values of `slots` in `event`.
    fn slot_values(&self, slots: &[u16], event: &Event) -> Vec<(String, Value)> {
        slots
            .iter()
            .filter_map(|&s| {
                let name = self.catalog().slot_names.get(s as usize)?;
                Some((name.clone(), field_value(event, name)?))
            })
            .collect()
    }

    /// The number of buckets (routes), for statistics.
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
