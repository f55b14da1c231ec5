// The Sessions pane scales: the active project's sessions (others one click away), agents
// waiting for an answer first and the ended last, compact rows with the agent and its
// state, "Clear finished" with Undo; a fresh browser does not start with old flags.
import { test, expect, open, project } from "./fixtures";
import type { Page } from "@playwright/test";

const pane = (page: Page) => page.getByRole("navigation", { name: "Sessions" });
const rows = (page: Page) => pane(page).getByRole("listitem");

/** "Work on task" on a new task of the project open, as a person does it. */
async function workOn(page: Page, title: string) {
  await page.getByRole("textbox", { name: "New task title" }).fill(title);
  await page.getByRole("button", { name: "Add task" }).click();
  const row = page.getByRole("listitem", { name: title });
  await row.getByRole("button", { name: `Details of ${title}` }).click();
  await row.getByRole("button", { name: "Work on task" }).click();
  await expect(pane(page).getByRole("button", { name: title, exact: true })).toBeVisible();
}

test("the pane lists this project's sessions, waiting first and ended last; Clear finished has Undo", async ({
  page,
  server,
}) => {
  const a = await project(server, "Alpha");
  const b = await project(server, "Beta");
  await open(page, `/projects/${b.id}`);
  await workOn(page, "Beta work");
  await page.goto(`/projects/${a.id}`);
  await page.locator("body[data-hydrated=true]").waitFor();
  await workOn(page, "First");
  await workOn(page, "Second");
  await workOn(page, "Third");

  // Only Alpha's, newest first; Beta's one click away.
  await expect(rows(page)).toHaveCount(3);
  await expect(rows(page).nth(0)).toHaveAccessibleName("Third");
  await pane(page).getByRole("button", { name: /^Other projects \(\d+\)$/ }).click();
  await expect(pane(page).getByRole("button", { name: "Beta work", exact: true })).toBeVisible();
  await pane(page).getByRole("button", { name: "Only this project" }).click();
  await expect(pane(page).getByRole("button", { name: "Beta work", exact: true })).toHaveCount(0);

  // A row says the agent, its tasks in words, and what it is doing; it is compact.
  const first = pane(page).getByRole("listitem", { name: "First" });
  await expect(first.getByLabel("agent shell")).toBeVisible();
  await expect(first.getByLabel("1 task", { exact: true })).toBeVisible();
  const box = await first.boundingBox();
  expect(box!.height).toBeLessThanOrEqual(42);

  // An agent asking moves to the top; an ended session to the bottom.
  const sessions: { id: string; name: string }[] = await server.api("GET", `/sessions?projectId=${a.id}`);
  const id = (name: string) => sessions.find((s) => s.name === name)!.id;
  await server.api("PUT", `/sessions/${id("First")}/state`, { state: "needs_input", message: "Which database?" });
  await server.api("PATCH", `/sessions/${id("Second")}`, { status: "completed" });
  await expect(pane(page).getByLabel("agent needs input: Which database?")).toBeVisible();
  await expect(rows(page).nth(0)).toHaveAccessibleName("First");
  await expect(rows(page).nth(2)).toHaveAccessibleName("Second");
  // Ended: no "Mark completed" in its terminal's header.
  await pane(page).getByRole("button", { name: "Second", exact: true }).click();
  const terminal = page.getByRole("region", { name: "Terminal" });
  await expect(terminal.getByText("completed", { exact: true })).toBeVisible();
  await expect(terminal.getByRole("button", { name: "Mark completed" })).toHaveCount(0);
  await pane(page).getByRole("button", { name: "Third", exact: true }).click();
  await expect(terminal.getByRole("button", { name: "Mark completed" })).toBeVisible();

  // Clear finished: the ended one goes, Undo brings it back; cleared, it stays on the server.
  await pane(page).getByRole("button", { name: "Clear finished" }).click();
  await expect(rows(page)).toHaveCount(2);
  await page.getByRole("button", { name: "Undo" }).click();
  await expect(rows(page)).toHaveCount(3);
  await pane(page).getByRole("button", { name: "Clear finished" }).click();
  await expect(rows(page)).toHaveCount(2);
  await expect(pane(page).getByRole("button", { name: "Clear finished" })).toHaveCount(0);
  expect((await server.api("GET", `/sessions/${id("Second")}`)).status).toBe("completed");
});

// Each test's browser context is new: a fresh browser, its localStorage empty.
test("a fresh browser does not start with old flags; what ends later is flagged", async ({ page, server }) => {
  const p = await project(server, "Old news");
  const t = await server.api("POST", "/tasks", { projectId: p.id, title: "Done long ago" });
  const old = await server.api("POST", "/sessions", { projectId: p.id, taskIds: [t.id] });
  await server.api("PATCH", `/sessions/${old.id}`, { status: "failed" });
  const later = await server.api("POST", "/sessions", { projectId: p.id, taskIds: [t.id], name: "Ends later" });

  await open(page, `/projects/${p.id}`);
  const flag = page.getByRole("button", { name: /need attention here/ });
  await expect(flag).toHaveAccessibleName(/^0 need attention here/);
  await server.api("PATCH", `/sessions/${later.id}`, { status: "completed" });
  await expect(flag).toHaveAccessibleName(/^1 need attention here/);
  // A reload keeps what was history as history.
  await open(page, `/projects/${p.id}`);
  await expect(flag).toHaveAccessibleName(/^1 need attention here/);
});

test("renaming a task renames the session named after it", async ({ page, server }) => {
  const p = await project(server, "Renames");
  await open(page, `/projects/${p.id}`);
  await workOn(page, "Old name");
  const row = page.getByRole("listitem", { name: "Old name" });
  await row.getByRole("textbox", { name: "Title" }).fill("New name");
  await row.getByRole("button", { name: "Save" }).click();
  await expect(pane(page).getByRole("button", { name: "New name", exact: true })).toBeVisible();
  await expect(page.getByRole("region", { name: "Terminal" }).getByRole("heading", { name: "New name" })).toBeVisible();
});
