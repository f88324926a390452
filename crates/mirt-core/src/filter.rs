//! The event filters every reading subcommand offers (`--event-id`,
//! `--channel`, `--from`, `--to`).

use crate::{Event, Timestamp};

/// Keeps the events that pass every filter that is set.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Keep only these event ids (empty: all).
    pub event_ids: Vec<u32>,
    /// Keep only these channels, compared ignoring ASCII case (empty: all).
    pub channels: Vec<String>,
    /// Keep events at or after this time. Events without a time are dropped
    /// when a time bound is set.
    pub from: Option<Timestamp>,
    /// Keep events before this time.
    pub to: Option<Timestamp>,
}

impl EventFilter {
    /// Whether no filter is set.
    pub fn is_empty(&self) -> bool {
        self.event_ids.is_empty()
            && self.channels.is_empty()
            && self.from.is_none()
            && self.to.is_none()
    }

    /// Whether `event` passes.
    pub fn matches(&self, event: &Event) -> bool {
        if !self.event_ids.is_empty()
            && !event
                .event_id
                .is_some_and(|id| self.event_ids.contains(&id))
        {
            return false;
        }
        if !self.channels.is_empty() {
            let Some(channel) = event.channel.as_deref() else {
                return false;
            };
            if !self
                .channels
                .iter()
                .any(|c| c.eq_ignore_ascii_case(channel))
            {
                return false;
            }
        }
        if self.from.is_some() || self.to.is_some() {
            let Some(ts) = event.timestamp else {
                return false;
            };
            if self.from.is_some_and(|from| ts < from) || self.to.is_some_and(|to| ts >= to) {
                return false;
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Source, SourceKind};

    fn event(id: u32, channel: &str, time: &str) -> Event {
        let mut e = Event::new(Source::new(SourceKind::Evtx, "x", 0));
        e.event_id = Some(id);
        e.channel = Some(channel.into());
        e.timestamp = Some(time.parse().unwrap());
        e
    }

    #[test]
    fn every_set_filter_must_pass() {
        let e = event(4624, "Security", "2024-01-01T10:00:00Z");
        assert!(EventFilter::default().matches(&e));
        let by_id = EventFilter {
            event_ids: vec![4625, 4624],
            ..Default::default()
        };
        assert!(by_id.matches(&e));
        let by_channel = EventFilter {
            channels: vec!["security".into()],
            ..Default::default()
        };
        assert!(by_channel.matches(&e));
        let other_channel = EventFilter {
            channels: vec!["System".into()],
            ..Default::default()
        };
        assert!(!other_channel.matches(&e));
        let window = EventFilter {
            from: Some("2024-01-01T10:00:00Z".parse().unwrap()),
            to: Some("2024-01-01T11:00:00Z".parse().unwrap()),
            ..Default::default()
        };
        assert!(window.matches(&e));
        let after = EventFilter {
            from: Some("2024-01-01T10:00:01Z".parse().unwrap()),
            ..Default::default()
        };
        assert!(!after.matches(&e));
        let before = EventFilter {
            to: Some("2024-01-01T10:00:00Z".parse().unwrap()),
            ..Default::default()
        };
        assert!(!before.matches(&e), "`to` is exclusive");
    }
}
