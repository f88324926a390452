//! Matching one event against one bucket: resolve the bucket's fields,
//! scan each with its automaton, pick the rules whose prefilter atoms were
//! found, and evaluate their conditions. All per-event state lives in a
//! reused [`Scratch`]: nothing is allocated per event.

use super::access::{self, FieldRef, Loc};
use super::bucket::{Bucket, BucketRule, length_bit};
use super::catalog::{KEYWORDS, SlotProgram};
use super::scanner::Place;
use crate::compile::pattern::{Pattern, Pos};
use crate::compile::program::{Check, Expr, Target, Test, TimePart};
use compact_str::CompactString;
use mirt_core::Event;

/// Per-thread working memory of the matcher, reused from event to event.
#[derive(Debug, Default)]
pub struct Scratch {
    epoch: u32,
    slots: Vec<(u32, Loc)>,
    atoms: Vec<u32>,
    /// Per literal set, the epoch it was last found in.
    sets: Vec<u32>,
    rules: Vec<u32>,
    candidates: Vec<u32>,
    num: String,
    num2: String,
    lower: String,
    keywords: KeywordText,
    pub(crate) channel: ChannelMemo,
    /// The last few field lists met (logs interleave a few templates).
    fields: [FieldMemo; FIELD_MEMOS],
    /// The memo the next new field list replaces.
    next_memo: usize,
}

const FIELD_MEMOS: usize = 4;

/// Which slots the fields of an event met recently filled in a bucket, by
/// the names of its fields: events come in runs of a few templates (the
/// same names in the same order), and comparing the names costs less than
/// looking each up.
#[derive(Debug, Default)]
struct FieldMemo {
    /// The bucket (its matcher's id and its number), 0 for none.
    bucket: (u64, u32),
    data: Vec<CompactString>,
    system: Vec<CompactString>,
    /// The slots filled, and where from.
    filled: Vec<(u16, Loc)>,
}

impl FieldMemo {
    fn holds(&self, bucket: (u64, u32), event: &Event) -> bool {
        let same = |memo: &[CompactString], fields: &mirt_core::Fields| {
            memo.len() == fields.len() && memo.iter().zip(fields.iter()).all(|(m, (k, _))| m == k)
        };
        self.bucket == bucket
            && same(&self.data, &event.fields)
            && same(&self.system, &event.system)
    }

    fn remember(&mut self, bucket: (u64, u32), event: &Event) {
        self.bucket = bucket;
        self.data.clear();
        self.data
            .extend(event.fields.iter().map(|(k, _)| CompactString::from(k)));
        self.system.clear();
        self.system
            .extend(event.system.iter().map(|(k, _)| CompactString::from(k)));
        self.filled.clear();
    }
}

/// The channel of the last event a matcher routed, and its table.
#[derive(Debug, Default)]
pub(crate) struct ChannelMemo {
    /// The matcher's id (0: none yet).
    pub matcher: u64,
    pub name: Option<Box<str>>,
    pub table: Option<u32>,
}

/// Every value of an event (the text a keyword search looks at) joined
/// into one text, in lower case and as written, each form built when a
/// keyword scanner of the bucket first needs it (most need only the lower
/// case one).
#[derive(Debug, Default)]
struct KeywordText {
    cased: String,
    lower: String,
    /// Byte ranges of the values in the texts (the same in both forms:
    /// ASCII case folding keeps lengths).
    bounds: Vec<(usize, usize)>,
    built_cased: bool,
    built_lower: bool,
}

impl KeywordText {
    fn clear(&mut self) {
        self.built_cased = false;
        self.built_lower = false;
    }

    /// Builds the joined text in the form `cased` asks for, once per event.
    fn prepare(&mut self, event: &Event, cased: bool, num: &mut String) {
        let built = if cased {
            self.built_cased
        } else {
            self.built_lower
        };
        if built {
            return;
        }
        let KeywordText {
            cased: as_written,
            lower,
            bounds,
            ..
        } = self;
        let text = if cased { as_written } else { lower };
        text.clear();
        bounds.clear();
        let mut add = |t: &str| {
            let start = text.len();
            text.push_str(t);
            bounds.push((start, text.len()));
            // A separator no literal spans: a match is checked to lie
            // within one value anyway.
            text.push('\0');
            false
        };
        for (_, v) in event.fields.iter() {
            access::any_text(FieldRef::Value(v), num, &mut add);
        }
        if let Some(m) = event.message.as_deref() {
            add(m);
        }
        if cased {
            self.built_cased = true;
        } else {
            self.lower.make_ascii_lowercase();
            self.built_lower = true;
        }
    }

    /// The joined text, as written or in lower case (after [`Self::prepare`]).
    fn text(&self, cased: bool) -> &str {
        if cased { &self.cased } else { &self.lower }
    }

    /// The range of the value that holds the match `start..end`, if one
    /// value holds it whole.
    fn value_around(&self, start: usize, end: usize) -> Option<(usize, usize)> {
        let i = self
            .bounds
            .partition_point(|(s, _)| *s <= start)
            .checked_sub(1)?;
        let (from, to) = self.bounds[i];
        (end <= to).then_some((from, to))
    }
}

impl Scratch {
    /// Fresh working memory.
    pub fn new() -> Scratch {
        Scratch::default()
    }

    fn begin(&mut self, b: &Bucket) {
        if self.epoch == u32::MAX {
            *self = Scratch::default();
        }
        self.epoch += 1;
        let grow = |v: &mut Vec<u32>, n: usize| {
            if v.len() < n {
                v.resize(n, 0);
            }
        };
        grow(&mut self.atoms, b.atom_count);
        grow(&mut self.sets, b.set_count);
        grow(&mut self.rules, b.rules.len());
        if self.slots.len() < b.slot_count {
            self.slots.resize(b.slot_count, (0, Loc::Absent));
        }
        self.candidates.clear();
    }
}

pub(crate) struct Cx<'a, 'e> {
    pub event: &'e Event,
    pub s: &'a mut Scratch,
}

impl<'e> Cx<'_, 'e> {
    fn slot(&self, slot: u16) -> Option<FieldRef<'e>> {
        let (epoch, loc) = self.s.slots[slot as usize];
        if epoch != self.s.epoch {
            return None;
        }
        access::value_at(self.event, loc)
    }

    fn hit(&self, atom: u32) -> bool {
        self.s.atoms.get(atom as usize) == Some(&self.s.epoch)
    }

    fn set_hit(&self, set: u32) -> bool {
        self.s.sets.get(set as usize) == Some(&self.s.epoch)
    }
}

/// Runs `bucket` (`id`: its matcher's id and its number) over `event`,
/// calling `found` with each matching rule (index into `bucket.rules`), in
/// rule order.
pub(crate) fn scan_bucket(
    bucket: &Bucket,
    id: (u64, u32),
    event: &Event,
    s: &mut Scratch,
    found: &mut dyn FnMut(u32),
) {
    s.begin(bucket);
    if let Some(memo) = s.fields.iter().find(|m| m.holds(id, event)) {
        let epoch = s.epoch;
        for &(slot, loc) in &memo.filled {
            s.slots[slot as usize] = (epoch, loc);
        }
    } else {
        let m = s.next_memo;
        s.next_memo = (m + 1) % FIELD_MEMOS;
        s.fields[m].remember(id, event);
        resolve_slots(bucket, event, s, m);
    }
    run_scanners(bucket, event, s);
    let epoch = s.epoch;
    for &r in &bucket.always {
        s.rules[r as usize] = epoch;
        s.candidates.push(r);
    }
    s.candidates.sort_unstable();
    let mut cx = Cx { event, s };
    let candidates = std::mem::take(&mut cx.s.candidates);
    for &r in &candidates {
        let rule = &bucket.rules[r as usize];
        let program = rule.program();
        if provider_ok(rule, event) && eval(&program.expr, program, &mut cx) {
            found(r);
        }
    }
    cx.s.candidates = candidates;
}

fn provider_ok(rule: &BucketRule, event: &Event) -> bool {
    match rule.provider() {
        None => true,
        Some(p) => event
            .provider
            .as_deref()
            .is_some_and(|e| e.eq_ignore_ascii_case(p)),
    }
}

/// Fills the slots of the bucket's fields that `event` has (the first of
/// equal names wins; data fields, then the header, then `System` items),
/// and notes them in the field memo `memo`.
fn resolve_slots(b: &Bucket, event: &Event, s: &mut Scratch, memo: usize) {
    let epoch = s.epoch;
    let Scratch { slots, fields, .. } = s;
    let filled = &mut fields[memo].filled;
    let mut fill = |slot: u16, loc: Loc| {
        let entry = &mut slots[slot as usize];
        if entry.0 != epoch {
            *entry = (epoch, loc);
            filled.push((slot, loc));
        }
    };
    for (i, (name, _)) in event.fields.iter().enumerate() {
        // Most of an event's fields are not the bucket's: their length
        // alone says so, without hashing the name.
        if b.name_lengths & length_bit(name) == 0 {
            continue;
        }
        if let Some(&slot) = b.index.get(name) {
            fill(slot, Loc::Field(i as u32));
        }
    }
    for &(slot, h) in &b.headers {
        fill(slot, Loc::Header(h));
    }
    for (i, (name, _)) in event.system.iter().enumerate() {
        if b.name_lengths & length_bit(name) == 0 {
            continue;
        }
        if let Some(&slot) = b.index.get(name) {
            fill(slot, Loc::System(i as u32));
        }
    }
}

fn run_scanners(b: &Bucket, event: &Event, s: &mut Scratch) {
    let epoch = s.epoch;
    let Scratch {
        slots,
        atoms,
        sets,
        rules,
        candidates,
        num,
        lower,
        keywords,
        ..
    } = s;
    let mut record = |places: &[Place], start: usize, end: usize, len: usize| {
        for p in places {
            if p.pos.accepts(start, end, len) && atoms[p.atom as usize] != epoch {
                atoms[p.atom as usize] = epoch;
                for &s in b.sets_of(p.local) {
                    sets[s as usize] = epoch;
                }
                for &r in b.rules_of(p.local) {
                    if rules[r as usize] != epoch {
                        rules[r as usize] = epoch;
                        candidates.push(r);
                    }
                }
            }
        }
    };
    keywords.clear();
    for sc in &b.scanners {
        if sc.slot == KEYWORDS {
            // Every value of the event in one text: one search, not one
            // per value; each match is placed back into its value.
            keywords.prepare(event, sc.cased, num);
            let hay = keywords.text(sc.cased);
            sc.find(hay, |places, start, end| {
                if let Some((from, to)) = keywords.value_around(start, end) {
                    record(places, start - from, end - from, to - from);
                }
            });
            continue;
        }
        let (e, loc) = slots[sc.slot as usize];
        if e != epoch {
            continue;
        }
        let Some(value) = access::value_at(event, loc) else {
            continue;
        };
        access::any_text(value, num, &mut |text| {
            // Folded only when it has something to fold (numbers, GUIDs,
            // hashes and many names have not): no copy for those.
            let hay = if sc.cased || !text.bytes().any(|b| b.is_ascii_uppercase()) {
                text
            } else {
                lower.clear();
                lower.push_str(text);
                lower.make_ascii_lowercase();
                lower.as_str()
            };
            sc.find(hay, |places, start, end| {
                record(places, start, end, hay.len())
            });
            false
        });
    }
}

/// Evaluates an expression, short-circuiting.
pub(crate) fn eval(e: &Expr, p: &SlotProgram, cx: &mut Cx<'_, '_>) -> bool {
    match e {
        Expr::And(items) => items.iter().all(|i| eval(i, p, cx)),
        Expr::Or(items) => items.iter().any(|i| eval(i, p, cx)),
        Expr::Not(inner) => !eval(inner, p, cx),
        Expr::AtLeast(n, items) => {
            let mut count = 0;
            for i in items {
                if eval(i, p, cx) {
                    count += 1;
                    if count >= *n {
                        return true;
                    }
                }
            }
            false
        }
        Expr::Test(i) => test(&p.tests[*i as usize], cx),
        Expr::Const(b) => *b,
    }
}

pub(crate) fn test(t: &Test<u16, u32>, cx: &mut Cx<'_, '_>) -> bool {
    match t.target {
        Target::Field(slot) => {
            let value = cx.slot(slot);
            check(&t.check, value, cx)
        }
        Target::Keywords => keywords(&t.check, cx),
    }
}

fn check(c: &Check<u16, u32>, value: Option<FieldRef<'_>>, cx: &mut Cx<'_, '_>) -> bool {
    match c {
        Check::Exists(want) => value.is_some() == *want,
        Check::Null => value.is_none_or(access::is_null_or_empty),
        Check::Strings { groups, all, neq } => {
            let Some(v) = value else { return false };
            let group =
                |g: &Vec<Pattern<u32>>, cx: &mut Cx<'_, '_>| g.iter().any(|p| pattern(p, v, cx));
            let res = if *all {
                groups.iter().all(|g| group(g, cx))
            } else {
                groups.iter().any(|g| group(g, cx))
            };
            res != *neq
        }
        Check::Compare {
            part,
            cmp,
            values,
            all,
            neq,
        } => {
            let Some(v) = value else { return false };
            let one = |x: f64| match part {
                None => access::any_number(v, &mut |n| cmp.holds(n, x)),
                Some(part) => access::as_time(v).is_some_and(|t| cmp.holds(time_part(t, *part), x)),
            };
            let res = if *all {
                values.iter().all(|x| one(*x))
            } else {
                values.iter().any(|x| one(*x))
            };
            res != *neq
        }
        Check::Cidr { nets, neq } => {
            let Some(v) = value else { return false };
            let res = access::any_text(v, &mut cx.s.num, &mut |t| {
                parse_ip(t).is_some_and(|ip| nets.iter().any(|n| n.contains(&ip)))
            });
            res != *neq
        }
        Check::FieldRef {
            others,
            pos,
            cased,
            all,
            neq,
        } => {
            let Some(v) = value else { return false };
            let one = |o: &u16, cx: &mut Cx<'_, '_>| match cx.slot(*o) {
                None => false,
                Some(other) => field_ref(v, other, *pos, *cased, cx),
            };
            let res = if *all {
                others.iter().all(|o| one(o, cx))
            } else {
                others.iter().any(|o| one(o, cx))
            };
            res != *neq
        }
    }
}

fn pattern(p: &Pattern<u32>, v: FieldRef<'_>, cx: &mut Cx<'_, '_>) -> bool {
    match p {
        Pattern::Literal(atom) => cx.hit(*atom),
        Pattern::AnyOf(set) => cx.set_hit(*set),
        Pattern::Empty => access::is_null_or_empty(v),
        Pattern::Present => true,
        Pattern::Regex(re, required) => {
            if !required.is_empty() && !required.iter().any(|a| cx.hit(*a)) {
                return false;
            }
            access::any_text(v, &mut cx.s.num, &mut |t| re.is_match(t))
        }
    }
}

fn field_ref(
    v: FieldRef<'_>,
    other: FieldRef<'_>,
    pos: Pos,
    cased: bool,
    cx: &mut Cx<'_, '_>,
) -> bool {
    let Scratch { num, num2, .. } = &mut *cx.s;
    access::any_text(v, num, &mut |a| {
        access::any_text(other, num2, &mut |b| text_at(a, b, pos, cased))
    })
}

/// Whether `needle` occurs in `hay` at `pos` (ASCII case folded unless
/// `cased`), without allocating.
fn text_at(hay: &str, needle: &str, pos: Pos, cased: bool) -> bool {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    let eq = |x: &[u8]| {
        if cased {
            x == n
        } else {
            x.eq_ignore_ascii_case(n)
        }
    };
    if n.len() > h.len() {
        return false;
    }
    match pos {
        Pos::Exact => h.len() == n.len() && eq(h),
        Pos::Prefix => eq(&h[..n.len()]),
        Pos::Suffix => eq(&h[h.len() - n.len()..]),
        Pos::Contains => n.is_empty() || h.windows(n.len()).any(eq),
    }
}

/// A keyword test: literal keywords were found by the scanner over every
/// value; wildcard ones are searched here.
fn keywords(c: &Check<u16, u32>, cx: &mut Cx<'_, '_>) -> bool {
    let Check::Strings { groups, all, .. } = c else {
        return false;
    };
    let event = cx.event;
    let group = |g: &Vec<Pattern<u32>>, cx: &mut Cx<'_, '_>| {
        g.iter().any(|p| match p {
            Pattern::Literal(atom) => cx.hit(*atom),
            Pattern::AnyOf(set) => cx.set_hit(*set),
            Pattern::Regex(re, _) => {
                let num = &mut cx.s.num;
                event.fields.iter().any(|(_, v)| {
                    access::any_text(FieldRef::Value(v), num, &mut |t| re.is_match(t))
                }) || event.message.as_deref().is_some_and(|m| re.is_match(m))
            }
            Pattern::Empty | Pattern::Present => false,
        })
    };
    if *all {
        groups.iter().all(|g| group(g, cx))
    } else {
        groups.iter().any(|g| group(g, cx))
    }
}

fn time_part(t: jiff::civil::DateTime, part: TimePart) -> f64 {
    f64::from(match part {
        TimePart::Minute => i16::from(t.minute()),
        TimePart::Hour => i16::from(t.hour()),
        TimePart::Day => i16::from(t.day()),
        TimePart::Week => i16::from(t.date().iso_week_date().week()),
        TimePart::Month => i16::from(t.month()),
        TimePart::Year => t.year(),
    })
}

fn parse_ip(text: &str) -> Option<std::net::IpAddr> {
    let t = text.trim().trim_start_matches('[').trim_end_matches(']');
    let ip: std::net::IpAddr = t.parse().ok()?;
    // Windows logs IPv4 peers of dual-stack sockets as ::ffff:a.b.c.d.
    Some(match ip {
        std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, std::net::IpAddr::V4),
        v4 => v4,
    })
}

/// Evaluates again and records the slots of the tests that made a
/// matching rule true (positive parts only): the fields to show.
pub(crate) fn explain(e: &Expr, p: &SlotProgram, cx: &mut Cx<'_, '_>, out: &mut Vec<u16>) -> bool {
    match e {
        Expr::And(items) => {
            let mut local = Vec::new();
            let ok = items.iter().all(|i| explain(i, p, cx, &mut local));
            if ok {
                out.extend(local);
            }
            ok
        }
        Expr::Or(items) | Expr::AtLeast(_, items) => {
            let mut any = false;
            for i in items {
                let mut local = Vec::new();
                if explain(i, p, cx, &mut local) {
                    any = true;
                    out.extend(local);
                }
            }
            match e {
                Expr::AtLeast(n, _) => any && eval(e, p, cx) && *n > 0,
                _ => any,
            }
        }
        Expr::Not(inner) => !eval(inner, p, cx),
        Expr::Test(i) => {
            let t = &p.tests[*i as usize];
            let ok = test(t, cx);
            if ok && let Target::Field(slot) = t.target {
                out.push(slot);
            }
            ok
        }
        Expr::Const(b) => *b,
    }
}

/// A context for explaining a rule that matched (after [`scan_bucket`]
/// ran on the same event with the same scratch).
pub(crate) fn explain_rule(bucket: &Bucket, rule: u32, event: &Event, s: &mut Scratch) -> Vec<u16> {
    let r = &bucket.rules[rule as usize];
    let mut cx = Cx { event, s };
    let mut out = Vec::new();
    explain(&r.program().expr, r.program(), &mut cx, &mut out);
    out.sort_unstable();
    out.dedup();
    out
}
