// What the person typed or made is never lost without a word: a task that cannot be added
// stays in its field with the reason; a deletion can be undone for a few seconds; edits
// in a task's details survive collapsing it, follow what others change, and Save sends
// only what the person changed.
import { test, expect, open, project } from "./fixtures";
import type { Page } from "@playwright/test";

const titles = async (server: { api: (m: string, p: string) => Promise<any> }, projectId: string) =>
  (await server.api("GET", `/tasks?projectId=${projectId}`)).map((t: any) => t.title);

const newTitle = (page: Page) => page.getByRole("textbox", { name: "New task title" });

test("a task the server cannot take stays in the field with the reason, and is added once when it can", async ({
  page,
  server,
}) => {
  test.info().annotations.push({ type: "server-downtime" }, { type: "refused-request" });
  const p = await project(server, "Kept");
  await open(page, `/projects/${p.id}`);

  // Unreachable: the text stays, the reason is beside it, no task pretends to exist.
  await server.stop();
  await newTitle(page).fill("Written offline");
  await page.getByRole("button", { name: "Add task" }).click();
  const reason = page.getByRole("alert", { name: "New task not added" });
  await expect(reason).toContainText("cannot be reached");
  await expect(newTitle(page)).toHaveValue("Written offline");
  await expect(page.getByRole("listitem", { name: "Written offline" })).toHaveCount(0);

  // Back: one press adds it, once.
  await server.start();
  await expect(page.getByRole("status", { name: "Connection: connected" })).toBeVisible({ timeout: 15_000 });
  await page.getByRole("button", { name: "Add task" }).click();
  await expect(page.getByRole("listitem", { name: "Written offline" })).toBeVisible();
  await expect(newTitle(page)).toHaveValue("");
  await expect(reason).toHaveCount(0);
  await expect.poll(() => titles(server, p.id)).toEqual(["Written offline"]);

  // Refused (over 500 characters): the text stays where it was typed, with the reason.
  const long = "x".repeat(501);
  await newTitle(page).fill(long);
  await page.getByRole("button", { name: "Add task" }).click();
  await expect(reason).toContainText("500");
  await expect(newTitle(page)).toHaveValue(long);
  expect(await titles(server, p.id)).toEqual(["Written offline"]);
});

test("Delete task and × on a running session can be undone for a few seconds, then happen", async ({ page, server }) => {
  const p = await project(server, "Undo");
  const t = await server.api("POST", "/tasks", { projectId: p.id, title: "Keep me" });
  await open(page, `/projects/${p.id}`);
  const row = page.getByRole("listitem", { name: "Keep me" });
  const undoToast = (what: string) => page.getByRole("alert").filter({ hasText: what });

  // Delete, then Undo: the task is back and was never deleted on the server.
  await row.getByRole("button", { name: "Details of Keep me" }).click();
  await row.getByRole("button", { name: "Delete task" }).click();
  await expect(row).toHaveCount(0);
  await undoToast("Task “Keep me” deleted").getByRole("button", { name: "Undo" }).click();
  await expect(row).toBeVisible();
  await expect(undoToast("deleted")).toHaveCount(0);
  expect((await server.api("GET", `/tasks/${t.id}`)).title).toBe("Keep me");

  // × on the session working on it (a running shell), then Undo: it is open and running.
  await row.getByRole("button", { name: "Work on task" }).click();
  const sessions = page.getByRole("navigation", { name: "Sessions" });
  const session = sessions.getByRole("listitem").filter({ hasText: "Keep me" });
  // A running session shows its agent's state (working or idle) in place of "running".
  await expect(session.getByLabel(/^agent (working|idle)/)).toBeVisible();
  const [s] = await server.api("GET", `/sessions?projectId=${p.id}`);
  await sessions.getByRole("button", { name: "Close session Keep me" }).click();
  await sessions.getByRole("button", { name: "Close it, ending the agent" }).click();
  await expect(session).toHaveCount(0);
  await undoToast("Session “Keep me” closed").getByRole("button", { name: "Undo" }).click();
  await expect(session).toHaveAttribute("aria-current", "true");
  expect((await server.api("GET", `/sessions/${s.id}`)).status).toBe("running");

  // Without Undo, both happen once the toast goes.
  await sessions.getByRole("button", { name: "Close session Keep me" }).click();
  await sessions.getByRole("button", { name: "Close it, ending the agent" }).click();
  await expect(undoToast("closed")).toHaveCount(0);
  await expect.poll(async () => (await server.api("GET", `/sessions?projectId=${p.id}`)).length).toBe(0);
  await row.getByRole("button", { name: "Delete task" }).click();
  await expect(undoToast("deleted")).toHaveCount(0);
  await expect.poll(() => titles(server, p.id)).toEqual([]);
  await expect(row).toHaveCount(0);
});

test("edits in a task's details survive collapsing it, marked unsaved, until saved", async ({ page, server }) => {
  const p = await project(server, "Drafts");
  const t = await server.api("POST", "/tasks", { projectId: p.id, title: "Draft me" });
  await open(page, `/projects/${p.id}`);
  const row = page.getByRole("listitem", { name: "Draft me" });
  const details = row.getByRole("button", { name: "Details of Draft me" });
  await details.click();
  await row.getByRole("textbox", { name: "Title" }).fill("Draft me, renamed");
  await row.getByRole("textbox", { name: "Description" }).fill("Why it matters");

  // Collapsed without saving: nothing is lost, and the row says so.
  await details.click();
  await expect(row.getByRole("textbox", { name: "Title" })).toHaveCount(0);
  await expect(row).toContainText("unsaved edits");
  await details.click();
  await expect(row.getByRole("textbox", { name: "Title" })).toHaveValue("Draft me, renamed");
  await expect(row.getByRole("textbox", { name: "Description" })).toHaveValue("Why it matters");

  // Saved: stored, and no longer marked.
  await row.getByRole("button", { name: "Save" }).click();
  const renamed = page.getByRole("listitem", { name: "Draft me, renamed" });
  await expect(renamed).toBeVisible();
  await expect(renamed).not.toContainText("unsaved edits");
  await expect.poll(async () => (await server.api("GET", `/tasks/${t.id}`)).description).toBe("Why it matters");
});

test("open details follow what others change, and Save sends only what the person changed", async ({ page, server }) => {
  const p = await project(server, "Shared");
  const t = await server.api("POST", "/tasks", { projectId: p.id, title: "Tidy up", prompt: "Be brief." });
  await open(page, `/projects/${p.id}`);
  const row = page.getByRole("listitem", { name: "Tidy up" });
  await row.getByRole("button", { name: "Details of Tidy up" }).click();
  const field = (name: string) => row.getByRole("textbox", { name });
  await expect(field("Prompt")).toHaveValue("Be brief.");

  // An agent (or another tab) writes the description: the open details show it.
  await server.api("PATCH", `/tasks/${t.id}`, { description: "Written by the agent" });
  await expect(field("Description")).toHaveValue("Written by the agent");
  // The person changes the prompt; the agent changes it too, and the title: the person's
  // prompt stays in the field, the title follows.
  await field("Prompt").fill("Be thorough.");
  await server.api("PATCH", `/tasks/${t.id}`, { title: "Tidy up the build", prompt: "Agent's prompt" });
  await expect(field("Title")).toHaveValue("Tidy up the build");
  await expect(field("Prompt")).toHaveValue("Be thorough.");
  // The description changes again: shown, and Save leaves it as the agent wrote it.
  await server.api("PATCH", `/tasks/${t.id}`, { description: "Agent's second thoughts" });
  await expect(field("Description")).toHaveValue("Agent's second thoughts");
  await row.getByRole("button", { name: "Save" }).click();
  await expect
    .poll(async () => {
      const now = await server.api("GET", `/tasks/${t.id}`);
      return [now.title, now.description, now.prompt];
    })
    .toEqual(["Tidy up the build", "Agent's second thoughts", "Be thorough."]);

  // A draft left in collapsed details: what changes meanwhile in the other fields shows on
  // reopening, and Save keeps it.
  await field("Title").fill("Tidy up the build, twice");
  await row.getByRole("button", { name: "Details of Tidy up the build" }).click();
  await expect(field("Title")).toHaveCount(0);
  await server.api("PATCH", `/tasks/${t.id}`, { description: "Written while closed" });
  await row.getByRole("button", { name: "Details of Tidy up the build" }).click();
  await expect(field("Title")).toHaveValue("Tidy up the build, twice");
  await expect(field("Description")).toHaveValue("Written while closed");
  await row.getByRole("button", { name: "Save" }).click();
  await expect
    .poll(async () => {
      const now = await server.api("GET", `/tasks/${t.id}`);
      return [now.title, now.description];
    })
    .toEqual(["Tidy up the build, twice", "Written while closed"]);
});
