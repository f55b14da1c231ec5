import { test, expect, open, project } from "./fixtures";
import type { Page } from "@playwright/test";

async function addTask(page: Page, title: string) {
  await page.getByRole("textbox", { name: "New task title" }).fill(title);
  await page.getByRole("button", { name: "Add task" }).click();
  await expect(page.getByRole("listitem", { name: title })).toBeVisible();
}

test("tasks: create, edit, status, filter, subtasks, delete", async ({ page, server }) => {
  const p = await project(server, "Tasks");
  await open(page, `/projects/${p.id}`);
  await expect(page.getByText("No tasks yet")).toBeVisible();
  await addTask(page, "Write the parser");
  await addTask(page, "Ship it");
  await expect(page.getByLabel("Task counts")).toContainText("2 tasks · 2 pending");

  // Edit title, description and prompt.
  const row = page.getByRole("listitem", { name: "Write the parser" });
  await row.getByRole("button", { name: "Details of Write the parser" }).click();
  await row.getByRole("textbox", { name: "Title" }).fill("Write the lexer");
  await row.getByRole("textbox", { name: "Description" }).fill("Tokens first");
  await row.getByRole("textbox", { name: "Prompt" }).fill("Implement a lexer for the grammar");
  await row.getByRole("button", { name: "Save" }).click();
  const lexer = page.getByRole("listitem", { name: "Write the lexer" });
  await expect(lexer).toBeVisible();

  // Status and priority.
  await page.getByRole("combobox", { name: "Status of Ship it" }).selectOption("in_progress");
  await lexer.getByRole("combobox", { name: "Priority" }).selectOption("high");
  await expect(page.getByLabel("Task counts")).toContainText("1 pending · 1 in progress");

  // The server has it all.
  // (The UI is optimistic, so wait for the server's copy.)
  const byTitle = async (title: string) =>
    (await server.api("GET", `/tasks?projectId=${p.id}`)).find((t: any) => t.title === title);
  await expect
    .poll(() => byTitle("Write the lexer"))
    .toMatchObject({ description: "Tokens first", prompt: "Implement a lexer for the grammar", priority: "high" });
  await expect.poll(async () => (await byTitle("Ship it")).status).toBe("in_progress");
  const lex = await byTitle("Write the lexer");

  // Filter by status.
  await page.getByRole("combobox", { name: "Show" }).selectOption("in_progress");
  await expect(page.getByRole("listitem", { name: "Ship it" })).toBeVisible();
  await expect(page.getByRole("listitem", { name: "Write the lexer" })).toHaveCount(0);
  await page.getByRole("combobox", { name: "Show" }).selectOption("");

  // Subtasks: add, tick, delete.
  await lexer.getByRole("textbox", { name: "New subtask" }).fill("Numbers");
  await lexer.getByRole("button", { name: "Add subtask" }).click();
  await lexer.getByRole("textbox", { name: "New subtask" }).fill("Strings");
  await lexer.getByRole("button", { name: "Add subtask" }).click();
  await lexer.getByRole("checkbox", { name: "Done: Numbers" }).check();
  await expect(lexer.getByRole("checkbox", { name: "Done: Numbers" })).toBeChecked();
  await lexer.getByRole("button", { name: "Delete subtask Strings" }).click();
  await expect(lexer.getByRole("checkbox", { name: "Done: Strings" })).toHaveCount(0);
  await expect
    .poll(async () => (await server.api("GET", `/tasks/${lex.id}`)).subtasks.map((s: any) => [s.title, s.status]))
    .toEqual([["Numbers", "completed"]]);

  // Delete.
  await lexer.getByRole("button", { name: "Delete task" }).click();
  await expect(page.getByRole("listitem", { name: "Write the lexer" })).toHaveCount(0);
  await expect.poll(async () => (await server.api("GET", `/tasks?projectId=${p.id}`)).length).toBe(1);
});

test("work on task opens a linked session; reload keeps it", async ({ page, server }) => {
  const p = await project(server, "Work");
  await open(page, `/projects/${p.id}`);
  await addTask(page, "Refactor store");
  const row = page.getByRole("listitem", { name: "Refactor store" });
  await row.getByRole("button", { name: "Details of Refactor store" }).click();
  await expect(row.getByText("No session is working on this task.")).toBeVisible();
  await row.getByRole("button", { name: "Work on task" }).click();

  const sessions = page.getByRole("navigation", { name: "Sessions" });
  await expect(sessions.getByRole("button", { name: "Refactor store", exact: true })).toBeVisible();
  await expect(sessions.getByLabel("1 task")).toBeVisible();
  await expect(row.getByRole("region", { name: "Sessions working on this task" }).getByText("Refactor store")).toBeVisible();
  await expect(row.getByLabel("1 session")).toBeVisible();
  // The centre pane is the session's terminal: a real shell with the session's environment.
  const screen = page.getByRole("group", { name: "Terminal screen" });
  await expect(screen.locator(".xterm-rows")).toBeVisible();
  await screen.click();
  await page.keyboard.type("echo hi-$((6*7)) $MAESTRO_TASK_IDS");
  await page.keyboard.press("Enter");
  const taskId = (await server.api("GET", `/tasks?projectId=${p.id}`))[0].id;
  await expect(screen.locator(".xterm-rows")).toContainText(`hi-42 ${taskId}`);

  // Expanding the session lazily shows its tasks.
  await sessions.getByRole("button", { name: "Tasks of session Refactor store" }).click();
  await expect(sessions.getByRole("list", { name: "Tasks of this session" }).getByText("Refactor store")).toBeVisible();
  // Another task of the project can be added to the open session.
  await addTask(page, "Update docs");
  await addTask(page, "Write tests");
  // The menu lists what matches the search (a project may have 10,000 tasks).
  const menu = sessions.getByRole("combobox", { name: "Task to add" });
  await expect(menu.getByRole("option")).toHaveText(["Add a task…", "Write tests", "Update docs"]);
  await sessions.getByRole("searchbox", { name: "Find a task to add" }).fill("DOCS");
  await expect(menu.getByRole("option")).toHaveText(["Add a task…", "Update docs"]);
  await menu.selectOption({ label: "Update docs" });
  await sessions.getByRole("button", { name: "Add to session" }).click();
  await expect(sessions.getByRole("list", { name: "Tasks of this session" }).getByText("Update docs")).toBeVisible();
  await expect(sessions.getByLabel("2 tasks")).toBeVisible();
  await expect(page.getByRole("listitem", { name: "Update docs" }).getByLabel("1 session")).toBeVisible();

  await page.reload();
  await page.locator("body[data-hydrated=true]").waitFor();
  await expect(sessions.getByRole("button", { name: "Refactor store", exact: true })).toBeVisible();
  // The terminal kept running: re-attaching shows its recent output.
  await expect(screen.locator(".xterm-rows")).toContainText(`hi-42 ${taskId}`);

  // Closing the session completes and deletes it, unlinking the task.
  await sessions.getByRole("button", { name: "Close session Refactor store" }).click();
  await sessions.getByRole("button", { name: "Close it, ending the agent" }).click();
  await expect(sessions.getByRole("button", { name: "Refactor store", exact: true })).toHaveCount(0);
  await expect(page.getByRole("listitem", { name: "Refactor store" }).getByLabel("0 sessions")).toBeVisible();
  await expect.poll(async () => (await server.api("GET", `/sessions?projectId=${p.id}`)).length).toBe(0);
});

test("two tabs: every change in one, or by REST, shows in the other within a second", async ({ page, server, browser }) => {
  const p = await project(server, "Sync");
  const context = await browser.newContext({ baseURL: server.url });
  await server.login(context);
  const other = await context.newPage();
  await open(page, `/projects/${p.id}`);
  await open(other, `/projects/${p.id}`);
  const soon = { timeout: 1000 };

  await addTask(page, "Shared task");
  await expect(other.getByRole("listitem", { name: "Shared task" })).toBeVisible(soon);
  await page.getByRole("combobox", { name: "Status of Shared task" }).selectOption("blocked");
  await expect(other.getByRole("combobox", { name: "Status of Shared task" })).toHaveValue("blocked", soon);

  // A plain REST call from a script.
  const t = await server.api("POST", "/tasks", { projectId: p.id, title: "From a script" });
  await expect(page.getByRole("listitem", { name: "From a script" })).toBeVisible(soon);
  await expect(other.getByRole("listitem", { name: "From a script" })).toBeVisible(soon);

  // Deletions inside expanded lists: a session shown under an expanded task goes away.
  const s = await server.api("POST", "/sessions", { projectId: p.id, taskIds: [t.id], name: "agent-7" });
  const row = other.getByRole("listitem", { name: "From a script" });
  await row.getByRole("button", { name: "Details of From a script" }).click();
  await expect(row.getByText("agent-7")).toBeVisible();
  await page.getByRole("listitem", { name: "From a script" }).getByRole("button", { name: "Details of From a script" }).click();
  await page.getByRole("button", { name: "Remove task from session agent-7" }).click();
  await expect(row.getByText("agent-7")).toHaveCount(0, soon);
  await expect(row.getByLabel("0 sessions")).toBeVisible(soon);
  await server.api("POST", `/sessions/${s.id}/tasks/${t.id}`);
  await expect(row.getByText("agent-7")).toBeVisible(soon);
  await server.api("DELETE", `/sessions/${s.id}`);
  await expect(row.getByText("agent-7")).toHaveCount(0, soon);

  // Subtasks and deletes made in one tab.
  const pageRow = page.getByRole("listitem", { name: "From a script" });
  await pageRow.getByRole("textbox", { name: "New subtask" }).fill("Check");
  await pageRow.getByRole("button", { name: "Add subtask" }).click();
  await expect(row.getByRole("checkbox", { name: "Done: Check" })).toBeVisible(soon);
  await pageRow.getByRole("button", { name: "Delete task" }).click();
  // Dismissing the Undo toast deletes at once (it would after a few seconds anyway).
  await page.getByRole("alert").filter({ hasText: "deleted" }).getByRole("button", { name: "Dismiss" }).click();
  await expect(other.getByRole("listitem", { name: "From a script" })).toHaveCount(0, soon);
  await server.api("PATCH", `/projects/${p.id}`, { name: `${p.name} renamed` });
  await expect(other.getByRole("combobox", { name: "Project" }).locator("option:checked")).toHaveText(`${p.name} renamed`, soon);
  await other.close();
});

test("what you are typing survives changes to the task made elsewhere", async ({ page, server }) => {
  const p = await project(server, "Typing");
  const t = await server.api("POST", "/tasks", { projectId: p.id, title: "Busy task" });
  await open(page, `/projects/${p.id}`);
  const row = page.getByRole("listitem", { name: "Busy task" });
  await row.getByRole("button", { name: "Details of Busy task" }).click();
  await row.getByRole("textbox", { name: "New subtask" }).fill("half-typed");
  await row.getByRole("textbox", { name: "Description" }).fill("my notes");

  // Another agent changes the task's status, priority and sessions meanwhile.
  await server.api("PATCH", `/tasks/${t.id}`, { status: "in_progress", priority: "high" });
  const s = await server.api("POST", "/sessions", { projectId: p.id, taskIds: [t.id], name: "agent-9" });
  await expect(row.getByRole("combobox", { name: "Status of Busy task" })).toHaveValue("in_progress");
  await expect(row.getByRole("combobox", { name: "Priority" })).toHaveValue("high");
  await expect(row.getByLabel("1 session")).toBeVisible();
  await server.api("DELETE", `/sessions/${s.id}`);
  await expect(row.getByLabel("0 sessions")).toBeVisible();

  await expect(row.getByRole("textbox", { name: "New subtask" })).toHaveValue("half-typed");
  await expect(row.getByRole("textbox", { name: "Description" })).toHaveValue("my notes");
  await row.getByRole("button", { name: "Add subtask" }).click();
  await expect(row.getByRole("checkbox", { name: "Done: half-typed" })).toBeVisible();
});

test("a refused mutation rolls back and says why", async ({ page, server }) => {
  test.info().annotations.push({ type: "refused-request" });
  const p = await project(server, "Rollback");
  await open(page, `/projects/${p.id}`);
  await addTask(page, "Keep my title");
  const row = page.getByRole("listitem", { name: "Keep my title" });
  await row.getByRole("button", { name: "Details of Keep my title" }).click();
  await row.getByRole("textbox", { name: "Title" }).fill("   ");
  await row.getByRole("button", { name: "Save" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "title must not be empty" })).toBeVisible();
  await expect(page.getByRole("listitem", { name: "Keep my title" })).toBeVisible();
  expect((await server.api("GET", `/tasks?projectId=${p.id}`))[0].title).toBe("Keep my title");
});

test("server restart: reconnecting, then connected, with changes made meanwhile", async ({ page, server }) => {
  test.info().annotations.push({ type: "server-downtime" });
  const p = await project(server, "Restart");
  const gone = await server.api("POST", "/tasks", { projectId: p.id, title: "Will be deleted" });
  const kept = await server.api("POST", "/tasks", { projectId: p.id, title: "Will be renamed" });
  await open(page, `/projects/${p.id}`);
  await expect(page.getByRole("listitem", { name: "Will be deleted" })).toBeVisible();

  await server.stop();
  await expect(page.getByRole("status", { name: /Connection: (reconnecting|offline)/ })).toBeVisible();
  await server.start();
  await server.api("DELETE", `/tasks/${gone.id}`);
  await server.api("PATCH", `/tasks/${kept.id}`, { title: "Renamed while away" });
  await server.api("POST", "/tasks", { projectId: p.id, title: "Added while away" });

  await expect(page.getByRole("status", { name: "Connection: connected" })).toBeVisible({ timeout: 15_000 });
  await expect(page.getByRole("listitem", { name: "Added while away" })).toBeVisible();
  await expect(page.getByRole("listitem", { name: "Renamed while away" })).toBeVisible();
  await expect(page.getByRole("listitem", { name: "Will be deleted" })).toHaveCount(0);
  await expect(page.getByRole("listitem", { name: "Will be renamed" })).toHaveCount(0);
});

test("keyboard: ? shows the shortcuts, n focuses the new task field", async ({ page, server }) => {
  const p = await project(server, "Keys");
  await open(page, `/projects/${p.id}`);
  await page.keyboard.press("?");
  await expect(page.getByRole("dialog", { name: "Keyboard shortcuts" })).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(page.getByRole("dialog", { name: "Keyboard shortcuts" })).toHaveCount(0);
  await page.keyboard.press("n");
  await expect(page.getByRole("textbox", { name: "New task title" })).toBeFocused();
});

test("a plain terminal: open, type, see output, close after a question", async ({ page, server }) => {
  const p = await project(server, "Plain");
  await open(page, `/projects/${p.id}`);
  await page.getByRole("button", { name: "New terminal" }).click();
  const screen = page.getByRole("group", { name: "Terminal screen" });
  await expect(screen.locator(".xterm-rows")).toBeVisible();
  await screen.click();
  await page.keyboard.type("echo plain-$((5*5))");
  await page.keyboard.press("Enter");
  await expect(screen.locator(".xterm-rows")).toContainText("plain-25");
  const sessions = page.getByRole("navigation", { name: "Sessions" });
  // Closing it ends the shell and what runs in it: asked first; "Keep it" keeps it.
  await page.keyboard.type("sleep 600");
  await page.keyboard.press("Enter");
  await sessions.getByRole("button", { name: "Close session Terminal" }).click();
  await expect(sessions.getByRole("alert")).toContainText("closing it ends its shell and whatever runs in it");
  await sessions.getByRole("button", { name: "Keep it" }).click();
  await expect(sessions.getByRole("alert")).toHaveCount(0);
  await expect(sessions.getByRole("button", { name: "Terminal", exact: true })).toBeVisible();
  await sessions.getByRole("button", { name: "Close session Terminal" }).click();
  await sessions.getByRole("button", { name: "Close it, ending the shell" }).click();
  await expect(sessions.getByRole("button", { name: "Terminal", exact: true })).toHaveCount(0);
});
