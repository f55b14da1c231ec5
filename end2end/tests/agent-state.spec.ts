// What each agent is doing (SPEC §9) where the person looks: on its task's row and board
// card, with what it asks; its timeline with the session; and closing a running session
// asks first, while an ended one closes at once.
import { test, expect, open, project } from "./fixtures";

test("a session's state shows on its task's row and board card, with the question; its timeline in the terminal pane", async ({
  page,
  server,
}) => {
  const p = await project(server, "States");
  const t = await server.api("POST", "/tasks", { projectId: p.id, title: "Pick a database" });
  const s = await server.api("POST", "/sessions", { projectId: p.id, taskIds: [t.id], name: "picker" });
  await open(page, `/projects/${p.id}`);
  const row = page.getByRole("list", { name: "Tasks" }).getByRole("listitem", { name: "Pick a database" });

  // What `maestro session state …` sends, live.
  await server.api("PUT", `/sessions/${s.id}/state`, { state: "working" });
  await expect(row.getByLabel("agent working")).toHaveText("working");
  await server.api("PUT", `/sessions/${s.id}/state`, { state: "needs_input", message: "Postgres or SQLite?" });
  const asking = row.getByLabel("agent needs input: Postgres or SQLite?");
  await expect(asking).toContainText("Postgres or SQLite?");

  // The card on the board says the same.
  await page.getByRole("group", { name: "View" }).getByRole("button", { name: "Board" }).click();
  const card = page.getByRole("group", { name: "Board" }).getByRole("listitem", { name: "Pick a database" });
  await expect(card.getByLabel("agent needs input: Postgres or SQLite?")).toBeVisible();
  await server.api("PUT", `/sessions/${s.id}/state`, { state: "idle" });
  await expect(card.getByLabel("agent idle")).toHaveText("idle");

  // Ended, it is doing nothing: no state shown.
  await server.api("PATCH", `/sessions/${s.id}`, { status: "completed" });
  await expect(card.getByLabel(/^agent /)).toHaveCount(0);

  // What `maestro session log` adds shows with the session: the last line, all when opened.
  await server.api("POST", `/sessions/${s.id}/log`, { text: "read the schema" });
  await server.api("POST", `/sessions/${s.id}/log`, { text: "chose Postgres" });
  // (Ended, opening it starts nothing: its shell would say it is working.)
  await page.getByRole("group", { name: "View" }).getByRole("button", { name: "List" }).click();
  await row.getByRole("button", { name: "Details of Pick a database" }).click();
  await row.getByRole("button", { name: "Jump to session picker" }).click();
  const terminal = page.getByRole("region", { name: "Terminal" });
  const summary = terminal.locator("details.timeline summary");
  await expect(summary).toContainText("chose Postgres");
  await summary.click();
  await expect(terminal.getByRole("list", { name: "Timeline" }).getByRole("listitem")).toHaveText([
    /chose Postgres$/,
    /read the schema$/,
  ]);
  // A line over the cap is refused, with the reason.
  const long = await server.fetch(`${server.url}/api/sessions/${s.id}/log`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ text: "x".repeat(501) }),
  });
  expect(long.status).toBe(400);
});

test("closing a running session asks first; Keep it keeps it; an ended session closes at once", async ({ page, server }) => {
  const p = await project(server, "Closing");
  const t = await server.api("POST", "/tasks", { projectId: p.id, title: "Close me" });
  const running = await server.api("POST", "/sessions", { projectId: p.id, taskIds: [t.id], name: "still going" });
  const ended = await server.api("POST", "/sessions", { projectId: p.id, taskIds: [t.id], name: "all done" });
  await server.api("PATCH", `/sessions/${ended.id}`, { status: "completed" });
  await open(page, `/projects/${p.id}`);
  const row = page.getByRole("list", { name: "Tasks" }).getByRole("listitem", { name: "Close me" });
  await row.getByRole("button", { name: "Details of Close me" }).click();
  await row.getByRole("button", { name: "Jump to session still going" }).click();
  await row.getByRole("button", { name: "Jump to session all done" }).click();
  const sessions = page.getByRole("navigation", { name: "Sessions" });
  const item = (name: string) => sessions.getByRole("listitem").filter({ hasText: name });

  // Running: a question, and nothing closed yet.
  await sessions.getByRole("button", { name: "Close session still going" }).click();
  const question = item("still going").getByRole("alert");
  await expect(question).toContainText("still going is still running: closing it ends its agent.");
  await question.getByRole("button", { name: "Keep it" }).click();
  await expect(question).toHaveCount(0);
  await expect(item("still going")).toBeVisible();
  expect((await server.api("GET", `/sessions/${running.id}`)).status).toBe("running");
  // Asked again and answered: it goes.
  await sessions.getByRole("button", { name: "Close session still going" }).click();
  await item("still going").getByRole("button", { name: "Close it, ending the agent" }).click();
  await expect(item("still going")).toHaveCount(0);

  // Ended: closed at once, no question.
  await sessions.getByRole("button", { name: "Close session all done" }).click();
  await expect(item("all done")).toHaveCount(0);
  await expect(sessions.getByRole("alert")).toHaveCount(0);
});
