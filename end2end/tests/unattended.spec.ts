// Agents you can leave running (SPEC §9): one made through the API runs with no browser
// open, and what an ended session printed, with its exit code, is shown after a reload.
import { test, expect, open, project, spyOnNotifications } from "./fixtures";
import type { Page } from "@playwright/test";

test("an agent made through the API runs with no browser; once ended, its output and exit code stay after a reload", async ({
  page,
  server,
}) => {
  const p = await project(server, "Unattended");
  const task = await server.api("POST", "/tasks", { projectId: p.id, title: "Left running", prompt: "Work alone" });
  await server.api("POST", "/sessions", { projectId: p.id, taskIds: [task.id], agentId: "failing", name: "alone" });
  // No page is open, and still it runs: its `maestro task update` moved the task along.
  await expect.poll(async () => (await server.api("GET", `/tasks/${task.id}`)).status).toBe("in_progress");

  await open(page, `/projects/${p.id}`);
  const row = page.getByRole("listitem", { name: "Left running" });
  await row.getByRole("button", { name: "Details of Left running" }).click();
  await row.getByRole("button", { name: "Jump to session alone" }).click();
  // What it said before anyone looked is there; the person answers it, and it fails.
  const screen = page.getByRole("group", { name: "Terminal screen" });
  await expect(screen.locator(".xterm-rows")).toContainText("prompt file: Work alone");
  await expect(screen.locator(".xterm-rows")).toContainText("press Enter to finish");
  await screen.click();
  await page.keyboard.press("Enter");
  await expect(screen.locator(".xterm-rows")).toContainText("[process exited with code 1]");

  // After a reload its terminal is gone, and what it printed is shown from the server's copy.
  await page.reload();
  await page.locator("body[data-hydrated=true]").waitFor();
  const sessions = page.getByRole("navigation", { name: "Sessions" });
  const open_ = sessions.getByRole("button", { name: "alone", exact: true });
  if (!(await page.getByRole("group", { name: "Kept output" }).isVisible())) await open_.click();
  const kept = page.getByRole("group", { name: "Kept output" });
  await expect(kept.locator(".xterm-rows")).toContainText("prompt file: Work alone");
  await expect(kept.locator(".xterm-rows")).toContainText("fake agent: done");
  await expect(page.getByText("This session has ended (its process exited with code 1)")).toBeVisible();
  await expect(page.locator(".exit-code")).toHaveText("exit code 1");
  await expect(screen).toBeHidden();
});

test("an agent asking for input shows within a second in both tabs, with one notification carrying its question", async ({
  page,
  server,
}) => {
  await page.context().grantPermissions(["notifications"], { origin: server.url });
  const p = await project(server, "Asking");
  const t = await server.api("POST", "/tasks", { projectId: p.id, title: "Choose a database" });
  const s = await server.api("POST", "/sessions", { projectId: p.id, taskIds: [t.id], name: "asker" });
  await spyOnNotifications(page);
  await open(page, `/projects/${p.id}`);
  const other = await page.context().newPage();
  await spyOnNotifications(other);
  await open(other, `/projects/${p.id}`);

  // What `maestro session state needs-input "Which database?"` sends.
  await server.api("PUT", `/sessions/${s.id}/state`, { state: "needs_input", message: "Which database?" });
  const marker = (pg: Page) =>
    pg.getByRole("list", { name: "Tasks" }).getByRole("listitem", { name: "Choose a database" }).getByRole("img", { name: "needs attention" });
  await expect(marker(page)).toBeVisible({ timeout: 1000 });
  await expect(marker(other)).toBeVisible({ timeout: 1000 });
  await expect(page).toHaveTitle(/1 waiting/);

  // One notification across the two tabs, with the question.
  const notes = (pg: Page) => pg.evaluate(() => (window as any).__notes.map((n: any) => `${n.title} | ${n.body}`));
  const both = async () => [...(await notes(page)), ...(await notes(other))];
  await expect.poll(both).toEqual(["Session needs input: asker | Which database?"]);

  // The ⚑ list says what it asks.
  await page.getByRole("button", { name: /need attention here/ }).click();
  const item = page.getByRole("dialog", { name: "Needs attention" }).getByRole("listitem").filter({ hasText: "asker" });
  await expect(item).toContainText("needs input");
  await expect(item).toContainText("Which database?");

  // Answered (working again): no longer flagged anywhere.
  await server.api("PUT", `/sessions/${s.id}/state`, { state: "working" });
  await expect(marker(other)).toHaveCount(0);
  expect(await both()).toHaveLength(1);
  await other.close();
});
