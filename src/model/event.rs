//! The one event type (SPEC §3): written to the durable log, fanned out by the hub and
//! applied by the browser's caches.

use super::json::from_json;
use super::{Millis, Project, ReviewComment, Session, Task, Workspace};
use serde::{Deserialize, Serialize, Serializer};

/// Payload of a `*:deleted` event: only the id survives.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deleted {
    pub id: String,
}

/// Payload of the four link events: which session and which task.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Link {
    pub session_id: String,
    pub task_id: String,
}

/// What happened. Created/updated events carry the whole entity, so applying the log in
/// order rebuilds every entity exactly; link events are for listeners that care only
/// about the link.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", content = "data")]
pub enum EventData {
    #[serde(rename = "project:created")]
    ProjectCreated(Project),
    #[serde(rename = "project:updated")]
    ProjectUpdated(Project),
    #[serde(rename = "project:deleted")]
    ProjectDeleted(Deleted),
    #[serde(rename = "task:created")]
    TaskCreated(Task),
    #[serde(rename = "task:updated")]
    TaskUpdated(Task),
    #[serde(rename = "task:deleted")]
    TaskDeleted(Deleted),
    #[serde(rename = "session:created")]
    SessionCreated(Session),
    #[serde(rename = "session:updated")]
    SessionUpdated(Session),
    #[serde(rename = "session:deleted")]
    SessionDeleted(Deleted),
    #[serde(rename = "session:task_added")]
    SessionTaskAdded(Link),
    #[serde(rename = "session:task_removed")]
    SessionTaskRemoved(Link),
    #[serde(rename = "task:session_added")]
    TaskSessionAdded(Link),
    #[serde(rename = "task:session_removed")]
    TaskSessionRemoved(Link),
    #[serde(rename = "workspace:created")]
    WorkspaceCreated(Workspace),
    #[serde(rename = "workspace:updated")]
    WorkspaceUpdated(Workspace),
    #[serde(rename = "workspace:deleted")]
    WorkspaceDeleted(Deleted),
    #[serde(rename = "comment:created")]
    CommentCreated(ReviewComment),
    #[serde(rename = "comment:updated")]
    CommentUpdated(ReviewComment),
    #[serde(rename = "comment:deleted")]
    CommentDeleted(Deleted),
}

/// The one list of event names: `name` and the browser's decoder (`Event::from_json`)
/// both come from it; serde's renames above say the same (a test checks every variant).
macro_rules! event_names {
    ($($variant:ident = $name:literal),* $(,)?) => {
        impl EventData {
            /// The wire name (`task:updated`, …).
            pub fn name(&self) -> &'static str {
                match self {
                    $(Self::$variant(_) => $name,)*
                }
            }

            /// The event called `name` with `data` (its JSON).
            fn decode(name: &str, data: &str) -> Result<EventData, serde_json::Error> {
                match name {
                    $($name => Ok(Self::$variant(from_json(data)?)),)*
                    other => Err(serde::de::Error::unknown_variant(other, &[$($name),*])),
                }
            }
        }
    };
}

event_names! {
    ProjectCreated = "project:created",
    ProjectUpdated = "project:updated",
    ProjectDeleted = "project:deleted",
    TaskCreated = "task:created",
    TaskUpdated = "task:updated",
    TaskDeleted = "task:deleted",
    SessionCreated = "session:created",
    SessionUpdated = "session:updated",
    SessionDeleted = "session:deleted",
    SessionTaskAdded = "session:task_added",
    SessionTaskRemoved = "session:task_removed",
    TaskSessionAdded = "task:session_added",
    TaskSessionRemoved = "task:session_removed",
    WorkspaceCreated = "workspace:created",
    WorkspaceUpdated = "workspace:updated",
    WorkspaceDeleted = "workspace:deleted",
    CommentCreated = "comment:created",
    CommentUpdated = "comment:updated",
    CommentDeleted = "comment:deleted",
}

/// One committed event with its place in the global order.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct Event {
    /// Global, gap-free, never reused: clients resume from the last one they applied.
    pub seq: u64,
    #[serde(flatten)]
    pub data: EventData,
    pub timestamp: Millis,
}

impl Event {
    /// Reads an event as the `Deserialize` impl does, but the name first and then `data`
    /// straight as that entity: serde's `flatten` buffers every event, which in the
    /// browser's wasm costs a second decoder of every entity (docs/PERF.md). For the event stream.
    pub fn from_json(text: &str) -> Result<Event, serde_json::Error> {
        #[derive(Deserialize)]
        struct Wire<'a> {
            seq: u64,
            #[serde(borrow)]
            event: std::borrow::Cow<'a, str>,
            #[serde(borrow)]
            data: &'a serde_json::value::RawValue,
            timestamp: Millis,
        }
        let w: Wire = serde_json::from_slice(text.as_bytes())?;
        Ok(Event { seq: w.seq, data: EventData::decode(&w.event, w.data.get())?, timestamp: w.timestamp })
    }
}

impl Serialize for Event {
    /// Adds `type` (a copy of `event`) that the original clients read.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wire<'a> {
            seq: u64,
            #[serde(flatten)]
            data: &'a EventData,
            #[serde(rename = "type")]
            kind: &'static str,
            timestamp: Millis,
        }
        Wire { seq: self.seq, data: &self.data, kind: self.data.name(), timestamp: self.timestamp }.serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_wire_format_has_event_type_and_data() {
        let e = Event {
            seq: 42,
            data: EventData::TaskDeleted(Deleted { id: "task_1".into() }),
            timestamp: 1_700_000_000_000,
        };
        let v: serde_json::Value = serde_json::to_value(&e).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"seq": 42, "event": "task:deleted", "type": "task:deleted",
                "data": {"id": "task_1"}, "timestamp": 1_700_000_000_000i64})
        );
        let back: Event = serde_json::from_value(v).unwrap();
        assert_eq!(back, e);
    }

    /// The stream's decoder reads every kind of event exactly as serde's derive does, and
    /// the macro's names are serde's.
    #[test]
    fn the_light_event_decoder_agrees_with_serde_on_every_variant() {
        let (p, t, s, w) = (Project::default(), Task::default(), Session::default(), Workspace::default());
        let (d, l) = (Deleted { id: "x".into() }, Link { session_id: "s".into(), task_id: "t".into() });
        use EventData::*;
        let all = [
            ProjectCreated(p.clone()),
            ProjectUpdated(p),
            ProjectDeleted(d.clone()),
            TaskCreated(t.clone()),
            TaskUpdated(t),
            TaskDeleted(d.clone()),
            SessionCreated(s.clone()),
            SessionUpdated(s),
            SessionDeleted(d.clone()),
            SessionTaskAdded(l.clone()),
            SessionTaskRemoved(l.clone()),
            TaskSessionAdded(l.clone()),
            TaskSessionRemoved(l),
            WorkspaceCreated(w.clone()),
            WorkspaceUpdated(w),
            WorkspaceDeleted(d.clone()),
            CommentCreated(ReviewComment::default()),
            CommentUpdated(ReviewComment { id: "cmt_1".into(), ..Default::default() }),
            CommentDeleted(d),
        ];
        for (i, data) in all.into_iter().enumerate() {
            let e = Event { seq: i as u64 + 1, data, timestamp: 7 };
            let json = serde_json::to_string(&e).unwrap();
            let v: serde_json::Value = serde_json::from_str(&json).unwrap();
            assert_eq!(v["event"], e.data.name(), "serde's rename is the macro's name");
            assert_eq!(Event::from_json(&json).unwrap(), e);
            assert_eq!(serde_json::from_str::<Event>(&json).unwrap(), e);
        }
        assert!(Event::from_json(r#"{"seq":1,"event":"task:eaten","data":{},"timestamp":1}"#).is_err());
        assert!(Event::from_json(r#"{"seq":1,"event":"task:deleted","data":{"id":3},"timestamp":1}"#).is_err());
    }
}
