//! Review comments (SPEC §8): drafts on an active workspace, edited while drafts, marked
//! sent only as sent, resolved, deleted, kept across a reopen, and gone with their workspace.

use super::workspaces::status;
use super::*;

fn new(path: &str, line: u32, end: Option<u32>, body: &str) -> NewComment {
    NewComment { path: path.into(), line, end_line: end, body: body.into(), ..Default::default() }
}

impl Fixture {
    async fn comment(&mut self, ws: &str, nc: NewComment) -> Result<ReviewComment, StoreError> {
        match self.run(Command::CreateComment { workspace_id: ws.into(), comment: nc }).await? {
            Outcome::Comment(c) => Ok(c),
            other => panic!("{other:?}"),
        }
    }

    async fn edit(&mut self, id: &str, patch: CommentPatch) -> Result<ReviewComment, StoreError> {
        match self.run(Command::UpdateComment { id: id.into(), patch }).await? {
            Outcome::Comment(c) => Ok(c),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn comments_are_drafts_edited_sent_resolved_and_deleted_with_one_event_each() {
    rt().block_on(async {
        let mut f = Fixture::new();
        let p = f.project("P").await;
        let t = f.task(&p.id, "t").await;
        let w = f.workspace(&t.id, "maestro/t-c1").await;

        // A range given backwards is the same range; the author is the person by default.
        let a = f.comment(&w.id, new("src/a.rs", 9, Some(7), "Use a Vec.")).await.unwrap();
        assert!(a.id.starts_with("cmt_"));
        assert_eq!((a.line, a.end_line, a.side, a.status), (7, 9, CommentSide::New, CommentStatus::Draft));
        assert_eq!((a.author.as_str(), a.version), ("person", 1));
        assert_eq!(f.events(), vec![EventData::CommentCreated(a.clone())]);
        let old =
            NewComment { side: Some(CommentSide::Old), author: Some("ann".into()), ..new("b.txt", 2, None, "Why?") };
        let b = f.comment(&w.id, old).await.unwrap();
        assert_eq!((b.line, b.end_line, b.side, b.author.as_str()), (2, 2, CommentSide::Old, "ann"));
        f.events();

        // Refused, with nothing written: no such workspace, line 0, a blank body, escapes.
        assert!(matches!(f.comment("ws_missing", new("a", 1, None, "x")).await, Err(StoreError::NotFound(_))));
        assert!(matches!(f.comment(&w.id, new("a", 0, None, "x")).await, Err(StoreError::Invalid(_))));
        assert!(matches!(f.comment(&w.id, new("a", 1, None, " \n")).await, Err(StoreError::Invalid(_))));
        assert!(matches!(f.comment(&w.id, new("a", 1, None, "\x1b[2J")).await, Err(StoreError::Invalid(_))));
        assert!(matches!(f.comment(&w.id, new(" ", 1, None, "x")).await, Err(StoreError::Invalid(_))));
        assert!(f.events().is_empty());

        // A draft's body changes; the same body again changes nothing.
        let body = |b: &str| CommentPatch { body: Some(b.into()), ..Default::default() };
        let a2 = f.edit(&a.id, body("Use a Vec<u8>.")).await.unwrap();
        assert_eq!((a2.body.as_str(), a2.version), ("Use a Vec<u8>.", 2));
        assert_eq!(f.events(), vec![EventData::CommentUpdated(a2.clone())]);
        assert_eq!(f.edit(&a.id, body("Use a Vec<u8>.")).await.unwrap().version, 2);
        assert!(f.events().is_empty());
        // `sent` is only sending's to set.
        let to = |s| CommentPatch { status: Some(s), ..Default::default() };
        assert!(matches!(f.edit(&a.id, to(CommentStatus::Sent)).await, Err(StoreError::Conflict(_))));

        // Sending marks the drafts named; one gone meanwhile is skipped; the list comes back.
        let ids = vec![a.id.clone(), "cmt_gone".to_string()];
        let Outcome::Comments(all) = f.run(Command::SendComments { workspace_id: w.id.clone(), ids }).await.unwrap()
        else {
            panic!()
        };
        let sent = f.state().comments[&a.id].clone();
        assert_eq!((sent.status, sent.version), (CommentStatus::Sent, 3));
        assert_eq!(f.events(), vec![EventData::CommentUpdated(sent.clone())]);
        assert_eq!(all, vec![f.state().comments[&b.id].clone(), sent.clone()], "by file, then line");
        // What was sent keeps its words; it can be resolved.
        assert!(matches!(f.edit(&a.id, body("other")).await, Err(StoreError::Conflict(_))));
        let done = f.edit(&a.id, to(CommentStatus::Resolved)).await.unwrap();
        assert_eq!(done.status, CommentStatus::Resolved);
        f.events();

        f.run(Command::DeleteComment { id: b.id.clone() }).await.unwrap();
        assert_eq!(f.events(), vec![EventData::CommentDeleted(Deleted { id: b.id.clone() })]);
        assert!(matches!(f.run(Command::DeleteComment { id: b.id.clone() }).await, Err(StoreError::NotFound(_))));
        f.state().check_invariant().unwrap();

        // Kept across a reopen.
        let place = f.close();
        let mut f = Fixture::at(place);
        assert_eq!(f.state().comments.get(&a.id), Some(&done));

        // An archived workspace takes no new comments; deleting it deletes its comments first.
        f.patch(&w.id, status(WorkspaceStatus::Archived)).await.unwrap();
        assert!(matches!(f.comment(&w.id, new("a", 1, None, "x")).await, Err(StoreError::Conflict(_))));
        f.events();
        f.run(Command::DeleteWorkspace { id: w.id.clone() }).await.unwrap();
        assert_eq!(f.names(), vec!["comment:deleted", "workspace:deleted"]);
        assert!(f.state().comments.is_empty());
        f.state().check_invariant().unwrap();
    });
}
