//! `maestro review`: a workspace's review comments (SPEC §8 "Review") — inside a session,
//! its workspace's: what the person asked the agent to change. `resolve` marks one done,
//! `send` sends the drafts to the workspace's agent.

use super::defaults::Here;
use super::exit::Done;
use super::output::{println_safe, Out};
use crate::model::{CommentPatch, CommentStatus, ReviewComment, SendComments};
use crate::rest_client::Client;

#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ReviewArgs {
    /// The workspace [default: this session's].
    workspace: Option<String>,
    #[command(subcommand)]
    action: Option<ReviewCmd>,
}

#[derive(clap::Subcommand, Debug)]
enum ReviewCmd {
    /// Mark a comment resolved (done with).
    Resolve { id: String },
    /// Send a workspace's drafts to its agent as one message [default: this session's].
    Send { workspace: Option<String> },
}

pub(super) async fn run(client: &Client, out: Out, here: &Here, args: ReviewArgs) -> Done {
    match args.action {
        None => {
            let id = here.workspace(client, args.workspace).await?;
            let mut list = client.comments(&id).await?;
            list.sort_by(ReviewComment::in_order);
            if out.json {
                out.json(&list);
            } else if list.is_empty() {
                println_safe(&format!("No review comments on workspace {id}."));
            } else {
                list.iter().for_each(|c| print(out, c));
            }
        }
        Some(ReviewCmd::Resolve { id }) => {
            let patch = CommentPatch { status: Some(CommentStatus::Resolved), ..Default::default() };
            let c = client.update_comment(&id, &patch).await?;
            if out.json {
                out.json(&c)
            } else {
                print(out, &c)
            }
        }
        Some(ReviewCmd::Send { workspace }) => {
            let id = here.workspace(client, workspace).await?;
            let sent = client.send_comments(&id, &SendComments::default()).await?;
            if out.json {
                out.json(&sent);
            } else {
                let how = if sent.started { "started with them" } else { "typed into it" };
                let n = sent.comments.iter().filter(|c| c.status == CommentStatus::Sent).count();
                println_safe(&format!("Sent to session {} ({how}); {n} comment(s) sent.", sent.session_id));
            }
        }
    }
    Ok(())
}

/// `path:line  status  id`, then the body indented.
fn print(out: Out, c: &ReviewComment) {
    let head = format!("{}  {}  {}", out.paint("1", &c.place()), out.status(c.status.as_str()), c.id);
    let body: Vec<String> = c.body.lines().map(|l| format!("    {l}")).collect();
    println_safe(&format!("{head}\n{}\n", body.join("\n")));
}
