//! Routing: which rule variants an event with a given channel and event id
//! can meet. Variants are keyed by (channel or any, event id or any); an
//! event meets the union of up to four keys, and each distinct union is one
//! route, so that an event is resolved and scanned once, by one bucket.

use super::cimap::CiMap;
use crate::compile::Variant;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Where the events of one channel (or of any channel not named by a
/// rule) go, by event id.
#[derive(Debug, Default)]
struct Table {
    /// (event id, route), sorted by id: looked up for every event, and a
    /// binary search over a few dozen ids is quicker than hashing.
    by_event_id: Vec<(u32, u32)>,
    other: Option<u32>,
}

impl Table {
    fn get(&self, id: Option<u32>) -> Option<u32> {
        id.and_then(|id| {
            let i = self
                .by_event_id
                .binary_search_by_key(&id, |(k, _)| *k)
                .ok()?;
            Some(self.by_event_id[i].1)
        })
        .or(self.other)
    }
}

/// The routes of a rule set: each route's variants (indices in ascending,
/// that is rule, order) and the tables that pick an event's route.
#[derive(Debug, Default)]
pub(crate) struct Routes {
    /// Per route, its variants.
    pub members: Vec<Vec<u32>>,
    /// Per channel named by a rule, the index of its table.
    channels: CiMap<u32>,
    tables: Vec<Table>,
    any_channel: Table,
}

type Key<'a> = (Option<&'a str>, Option<u32>);

impl Routes {
    pub(crate) fn build(variants: &[Variant]) -> Routes {
        let mut keys: BTreeMap<Key<'_>, Vec<u32>> = BTreeMap::new();
        for (i, v) in variants.iter().enumerate() {
            let channel = v.channel.as_deref();
            if v.event_ids.is_empty() {
                keys.entry((channel, None)).or_default().push(i as u32);
            }
            for id in &v.event_ids {
                keys.entry((channel, Some(*id))).or_default().push(i as u32);
            }
        }
        let channels: BTreeSet<&str> = keys.keys().filter_map(|(c, _)| *c).collect();
        let any_ids: BTreeSet<u32> = keys
            .keys()
            .filter(|(c, _)| c.is_none())
            .filter_map(|(_, id)| *id)
            .collect();
        let mut routes = Routes::default();
        let mut known: HashMap<Vec<u32>, u32> = HashMap::new();
        for channel in channels {
            let ids: BTreeSet<u32> = keys
                .keys()
                .filter(|(c, _)| *c == Some(channel))
                .filter_map(|(_, id)| *id)
                .chain(any_ids.iter().copied())
                .collect();
            let table = routes.table(&keys, &mut known, Some(channel), &ids);
            let index = routes.tables.len() as u32;
            routes.tables.push(table);
            *routes.channels.get_or_insert_with(channel, || index) = index;
        }
        routes.any_channel = routes.table(&keys, &mut known, None, &any_ids);
        routes
    }

    /// The routing table of `channel` (`None`: any channel no rule names).
    fn table(
        &mut self,
        keys: &BTreeMap<Key<'_>, Vec<u32>>,
        known: &mut HashMap<Vec<u32>, u32>,
        channel: Option<&str>,
        ids: &BTreeSet<u32>,
    ) -> Table {
        let mut table = Table::default();
        for id in ids {
            // `ids` is ascending: so is the table.
            if let Some(r) = self.route(keys, known, channel, Some(*id)) {
                table.by_event_id.push((*id, r));
            }
        }
        table.other = self.route(keys, known, channel, None);
        table
    }

    /// The route of (channel, id): the union of the variants of its keys,
    /// shared with any other (channel, id) that has the same union.
    fn route(
        &mut self,
        keys: &BTreeMap<Key<'_>, Vec<u32>>,
        known: &mut HashMap<Vec<u32>, u32>,
        channel: Option<&str>,
        id: Option<u32>,
    ) -> Option<u32> {
        let mut parts = vec![(None, None)];
        if id.is_some() {
            parts.push((None, id));
        }
        if channel.is_some() {
            parts.push((channel, None));
            if id.is_some() {
                parts.push((channel, id));
            }
        }
        let mut members: Vec<u32> = parts
            .iter()
            .filter_map(|k| keys.get(k))
            .flatten()
            .copied()
            .collect();
        if members.is_empty() {
            return None;
        }
        members.sort_unstable();
        members.dedup();
        let next = self.members.len() as u32;
        let r = *known.entry(members.clone()).or_insert(next);
        if r == next {
            self.members.push(members);
        }
        Some(r)
    }

    /// The table of a channel (`None`: the table of channels no rule
    /// names).
    pub(crate) fn table_of(&self, channel: Option<&str>) -> Option<u32> {
        channel.and_then(|c| self.channels.get(c)).copied()
    }

    /// The route of an event with this channel table and event id, if any
    /// rule can match it.
    pub(crate) fn route_in(&self, table: Option<u32>, id: Option<u32>) -> Option<u32> {
        match table {
            Some(t) => self.tables[t as usize].get(id),
            None => self.any_channel.get(id),
        }
    }

    /// The route of an event with this channel and event id, if any rule
    /// can match it.
    #[cfg(test)]
    pub(crate) fn of(&self, channel: Option<&str>, id: Option<u32>) -> Option<u32> {
        self.route_in(self.table_of(channel), id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::program::Expr;
    use crate::compile::rule::NamedProgram;
    use crate::mapping::Source;
    use std::sync::Arc;

    fn variant(rule: u32, channel: Option<&str>, ids: &[u32]) -> Variant {
        Variant {
            rule,
            source: Arc::new(Source::default()),
            program: NamedProgram {
                expr: Expr::Const(true),
                tests: Vec::new(),
            },
            channel: channel.map(str::to_string),
            event_ids: ids.to_vec(),
            provider: None,
        }
    }

    #[test]
    fn an_event_meets_the_union_of_its_keys() {
        let variants = vec![
            variant(0, Some("security"), &[4624]),
            variant(1, Some("security"), &[]),
            variant(2, None, &[]),
            variant(3, None, &[4624, 7045]),
            variant(4, Some("system"), &[7045]),
        ];
        let routes = Routes::build(&variants);
        let members = |c, id| routes.of(c, id).map(|r| routes.members[r as usize].clone());
        assert_eq!(
            members(Some("Security"), Some(4624)),
            Some(vec![0, 1, 2, 3])
        );
        assert_eq!(members(Some("SECURITY"), Some(4625)), Some(vec![1, 2]));
        assert_eq!(members(Some("Security"), Some(7045)), Some(vec![1, 2, 3]));
        assert_eq!(members(Some("System"), Some(7045)), Some(vec![2, 3, 4]));
        assert_eq!(members(Some("System"), None), Some(vec![2]));
        assert_eq!(members(Some("Other"), Some(4624)), Some(vec![2, 3]));
        assert_eq!(members(None, None), Some(vec![2]));
        // Same union, same route.
        assert_eq!(routes.of(Some("Other"), Some(1)), routes.of(None, None));
    }

    #[test]
    fn no_route_where_no_rule_can_match() {
        let routes = Routes::build(&[variant(0, Some("security"), &[4624])]);
        assert!(routes.of(Some("Security"), Some(4625)).is_none());
        assert!(routes.of(Some("System"), Some(4624)).is_none());
        assert!(routes.of(Some("Security"), Some(4624)).is_some());
    }
}
