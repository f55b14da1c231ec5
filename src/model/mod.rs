//! Types shared by the server, the browser client and the CLI: the entities of SPEC §1,
//! the request bodies of SPEC §2 and the one event type of SPEC §3.
//!
//! Everything here compiles for both sides, so the wire format is defined exactly once.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;

/// Epoch milliseconds: every time on the wire is one of these (SPEC §1).
pub type Millis = i64;

/// Now, in epoch milliseconds, on either side (the browser has no system clock call).
pub fn now_millis() -> Millis {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now() as Millis
    }
    #[cfg(not(feature = "hydrate"))]
    {
        use std::time::{SystemTime, UNIX_EPOCH};
        SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as Millis).unwrap_or(0)
    }
}

pub mod page;

/// JSON decoded from its bytes, as server functions decode their results: decoding events,
/// the page's resources and local storage the same way keeps one decoder per type in the
/// browser's wasm rather than two (one for `&str`, one for bytes: ~40 KB).
pub fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
    serde_json::from_slice(text.as_bytes())
}

#[cfg(feature = "ssr")]
mod schema;

/// The limits of what a request may hold, as the store enforces them (and the API's
/// document states them).
pub mod limits {
    /// Longest id a client may choose.
    pub const ID_MAX: usize = 128;
    /// Longest project or session name, in characters.
    pub const NAME_MAX: usize = 200;
    /// Longest task or subtask title, in characters.
    pub const TITLE_MAX: usize = 500;
    /// Longest description or prompt, in characters.
    pub const TEXT_MAX: usize = 100_000;
    /// Longest `basePath`, in bytes (Linux `PATH_MAX`).
    pub const PATH_MAX: usize = 4096;
    /// Longest `agentId`, in characters.
    pub const AGENT_ID_MAX: usize = 100;
}

/// The machine-readable codes of error bodies (`{"error": {"code", "message"}}`) that
/// callers act on: the UI, the CLI's exit codes and scripts match these, not messages.
pub mod error_code {
    pub const INVALID: &str = "invalid";
    pub const NOT_FOUND: &str = "not_found";
    pub const CONFLICT: &str = "conflict";
}

/// A group of tasks with a directory their terminals start in.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Project {
    pub id: String,
    /// 1–200 chars after trimming.
    pub name: String,
    /// Absolute directory the project's terminals start in; `None` means the user's home.
    pub base_path: Option<String>,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// Where a task stands; `completed` also stamps `completedAt`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    #[default]
    Pending,
    InProgress,
    Completed,
    Blocked,
}

impl TaskStatus {
    pub const ALL: [TaskStatus; 4] = [Self::Pending, Self::InProgress, Self::Completed, Self::Blocked];

    /// Its place in [`TaskStatus::ALL`]: per-status counts and lists are arrays in that order.
    pub fn slot(self) -> usize {
        Self::ALL.iter().position(|x| *x == self).unwrap_or(0)
    }

    /// The wire name, also used in query strings and the UI.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::InProgress => "in_progress",
            Self::Completed => "completed",
            Self::Blocked => "blocked",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// How urgent a task is; `medium` unless said otherwise.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    #[default]
    Medium,
    High,
}

impl Priority {
    pub const ALL: [Priority; 3] = [Self::Low, Self::Medium, Self::High];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// A subtask is a checklist item: either still to do or done.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SubtaskStatus {
    #[default]
    Pending,
    Completed,
}

/// A checklist item inside a task; changing one changes (and versions) its task.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subtask {
    pub id: String,
    pub task_id: String,
    pub title: String,
    pub status: SubtaskStatus,
    pub created_at: Millis,
    pub completed_at: Option<Millis>,
}

impl Project {
    /// List order: oldest first (the order people created them in), ties by id.
    pub fn oldest_first(a: &Project, b: &Project) -> std::cmp::Ordering {
        page::list_order(a, b)
    }
}

/// A unit of work inside a project, worked on by any number of sessions.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    pub id: String,
    pub project_id: String,
    pub title: String,
    pub description: String,
    /// The text handed to an agent that works on the task.
    pub prompt: String,
    pub status: TaskStatus,
    pub priority: Priority,
    /// Maintained by the server only: the other half of the session↔task link.
    pub session_ids: Vec<String>,
    /// Always `session_ids.len()`; kept on the wire because clients render it directly.
    pub session_count: usize,
    pub subtasks: Vec<Subtask>,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub completed_at: Option<Millis>,
    /// +1 on every change, so caches can drop stale copies.
    pub version: u64,
}

/// Whether the agent in a session is still at work.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    #[default]
    Running,
    Completed,
    Failed,
}

impl SessionStatus {
    pub const ALL: [SessionStatus; 3] = [Self::Running, Self::Completed, Self::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

impl Task {
    /// List order: newest first, ties by id. The server and the client caches both sort
    /// with it, so that a patched list and a fresh fetch agree.
    pub fn newest_first(a: &Task, b: &Task) -> std::cmp::Ordering {
        page::list_order(a, b)
    }
}

/// A terminal where an agent works, linked to any number of tasks of one project.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub id: String,
    pub project_id: String,
    /// Maintained by the server only: the other half of the session↔task link.
    pub task_ids: Vec<String>,
    pub name: String,
    pub agent_id: Option<String>,
    /// `MAESTRO_*` variables the session's terminal starts with; recomputed on every change.
    pub env: BTreeMap<String, String>,
    pub status: SessionStatus,
    pub started_at: Millis,
    pub last_activity: Millis,
    pub completed_at: Option<Millis>,
    pub version: u64,
    /// The server node its terminal runs on, when several share one database (SPEC §6):
    /// the others relay to it, and fail the session if that node dies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
}

impl Session {
    /// List order: newest first, ties by id (see [`Task::newest_first`]).
    pub fn newest_first(a: &Session, b: &Session) -> std::cmp::Ordering {
        page::list_order(a, b)
    }
}

// ---------------------------------------------------------------------------------------
// Request bodies. Unknown fields are refused (SPEC §2: "never silently dropped"), and a
// field that may be left out may not be sent as `null` unless null means something.
// ---------------------------------------------------------------------------------------

/// An agent the person configured (SPEC §5): "Work on task" offers it, a session's
/// `agentId` names it. Its command line stays on the server (it may hold secrets).
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Agent {
    pub id: String,
}

/// Deserialises a field that, when present, must hold a real value (not `null`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// Deserialises a field where `null` is meaningful ("clear it"): absent → `None`,
/// `null` → `Some(None)`, a value → `Some(Some(v))`.
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Body of `POST /api/projects`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewProject {
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::id))]
    pub id: Option<String>,
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::name))]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::base_path_or_null))]
    pub base_path: Option<String>,
}

/// Body of `PATCH /api/projects/:id`; `basePath: null` clears the directory.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProjectPatch {
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::name))]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::base_path_or_null))]
    pub base_path: Option<Option<String>>,
}

/// Body of `POST /api/tasks`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewTask {
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::id))]
    pub id: Option<String>,
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::id))]
    pub project_id: String,
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::title))]
    pub title: String,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::text))]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::text))]
    pub prompt: Option<String>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(value_type = Priority))]
    pub priority: Option<Priority>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(value_type = TaskStatus))]
    pub status: Option<TaskStatus>,
}

/// Body of `PATCH /api/tasks/:id`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TaskPatch {
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::title))]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::text))]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::text))]
    pub prompt: Option<String>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(value_type = TaskStatus))]
    pub status: Option<TaskStatus>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(value_type = Priority))]
    pub priority: Option<Priority>,
}

/// Body of `POST /api/tasks/:id/subtasks`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewSubtask {
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::title))]
    pub title: String,
}

/// Body of `PATCH /api/tasks/:id/subtasks/:sid`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubtaskPatch {
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::title))]
    pub title: Option<String>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(value_type = SubtaskStatus))]
    pub status: Option<SubtaskStatus>,
}

/// Body of `POST /api/sessions`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewSession {
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::id))]
    pub id: Option<String>,
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::id))]
    pub project_id: String,
    #[serde(default)]
    pub task_ids: Vec<String>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::name))]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::agent_or_null))]
    pub agent_id: Option<String>,
}

/// Body of `PATCH /api/sessions/:id`; `agentId: null` clears the agent.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionPatch {
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::name))]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(value_type = SessionStatus))]
    pub status: Option<SessionStatus>,
    #[serde(default, deserialize_with = "nullable", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ssr", schema(schema_with = schema::agent_or_null))]
    pub agent_id: Option<Option<String>>,
}

// ---------------------------------------------------------------------------------------
// Events (SPEC §3). The same type is written to the durable log, fanned out by the hub and
// applied by the browser's caches.
// ---------------------------------------------------------------------------------------

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
    /// browser's wasm costs a second decoder of every entity (42 KB). For the event stream.
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

/// `GET /api/health`.
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    /// `ok`; `degraded` while the last write failed (disk full, say); `failed` once the
    /// store can no longer write at all.
    pub status: String,
    /// The last committed `seq`.
    pub seq: u64,
    pub uptime_ms: u64,
    /// Why the status is not `ok`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// This server's node id, when several share one database (a session's `node`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
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
        let (p, t, s) = (Project::default(), Task::default(), Session::default());
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
            SessionDeleted(d),
            SessionTaskAdded(l.clone()),
            SessionTaskRemoved(l.clone()),
            TaskSessionAdded(l.clone()),
            TaskSessionRemoved(l),
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

    #[test]
    fn patches_refuse_unknown_fields_and_meaningless_nulls() {
        assert!(serde_json::from_str::<TaskPatch>(r#"{"titel":"x"}"#).is_err());
        assert!(serde_json::from_str::<TaskPatch>(r#"{"title":null}"#).is_err());
        let p: ProjectPatch = serde_json::from_str(r#"{"basePath":null}"#).unwrap();
        assert_eq!(p.base_path, Some(None));
        let p: ProjectPatch = serde_json::from_str(r#"{}"#).unwrap();
        assert_eq!(p.base_path, None);
    }
}
