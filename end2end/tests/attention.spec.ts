// Attention: an agent that fails, or a task an agent blocks, is marked until the person
// looks; every tab of the browser shows it, exactly one raises a notification, and a
// click on that notification opens the session.
import { test, expect, open, project, spyOnNotifications, notifications } from "./fixtures";
import type { Page } from "@playwright/test";

const marker = (page: Page, title: string) =>
  page.getByRole("list", { name: "Tasks" }).getByRole("listitem", { name: title }).getByRole("img", { name: "needs attention" });

test("a failed agent and a blocked task need attention in every tab; one tab notifies; a look clears them everywhere", async ({
  page,
  server,
}) => {
  await page.context().grantPermissions(["notifications"], { origin: server.url });
  const p = await project(server, "Attention");
  await server.api("POST", "/tasks", { projectId: p.id, title: "Fail loudly", prompt: "exit badly" });
  const waiting = await server.api("POST", "/tasks", { projectId: p.id, title: "Needs a decision" });
  await spyOnNotifications(page);
  await open(page, `/projects/${p.id}`);
  const other = await page.context().newPage();
  await spyOnNotifications(other);
  await open(other, `/projects/${p.id}`);
  const count = (pg: Page) => pg.getByRole("button", { name: /need attention here/ });
  await expect(count(other)).toHaveAccessibleName(/^0 need attention here/);

  // Tab one starts the failing agent on the task, and lets it finish.
  const row = page.getByRole("listitem", { name: "Fail loudly" });
  await row.getByRole("button", { name: "Details of Fail loudly" }).click();
  await row.getByRole("combobox", { name: "Run with" }).selectOption("failing");
  await row.getByRole("button", { name: "Work on task" }).click();
  const screen = page.getByRole("group", { name: "Terminal screen" });
  await expect(screen.locator(".xterm-rows")).toContainText("press Enter to finish");
  await screen.click();
  await page.keyboard.press("Enter");
  await expect(screen.locator(".xterm-rows")).toContainText("[process exited with code 1]");

  // Both tabs: the task is marked, the project counts one; tab one's session is marked.
  await expect(marker(other, "Fail loudly")).toBeVisible();
  await expect(marker(page, "Fail loudly")).toBeVisible();
  await expect(count(other)).toHaveAccessibleName(/^1 need attention here/);
  const sessions = page.getByRole("navigation", { name: "Sessions" });
  await expect(sessions.getByRole("listitem").filter({ hasText: "Fail loudly" }).getByRole("img", { name: "needs attention" })).toBeVisible();
  await expect(sessions.getByRole("listitem").filter({ hasText: "Fail loudly" })).toContainText("failed");

  // One notification, from one of the two tabs.
  const both = async () => [...(await notifications(page)), ...(await notifications(other))];
  await expect.poll(both).toEqual(["Session failed: Fail loudly"]);

  // An agent (here a script) blocks another task: marked in both, notified once more.
  await server.api("PATCH", `/tasks/${waiting.id}`, { status: "blocked" });
  await expect(marker(other, "Needs a decision")).toBeVisible();
  await expect(count(page)).toHaveAccessibleName(/^2 need attention here/);
  await expect.poll(both).toEqual(["Session failed: Fail loudly", "Task blocked: Needs a decision"]);

  // The top bar lists them.
  await count(other).click();
  const list = other.getByRole("dialog", { name: "Needs attention" });
  // (every project's: the worker's server is shared by the tests before this one)
  await expect(list.getByRole("listitem").filter({ hasText: p.name })).toHaveCount(2);
  await expect(list).toContainText("Notifications on");
  await list.getByRole("button", { name: "Close" }).click();

  // Looking at the blocked task in tab two clears its mark in tab one too.
  await other.getByRole("button", { name: "Details of Needs a decision" }).click();
  await expect(marker(page, "Needs a decision")).toHaveCount(0);
  await expect(count(page)).toHaveAccessibleName(/^1 need attention here/);

  // A click on the session's notification opens the session (in the tab that raised it).
  const notifier = (await notifications(page)).length > 0 ? page : other;
  await notifier.evaluate(() => (window as any).__notes[0].note.onclick(new Event("click")));
  const opened = notifier.getByRole("navigation", { name: "Sessions" }).getByRole("listitem").filter({ hasText: "Fail loudly" });
  await expect(opened).toHaveAttribute("aria-current", "true");
  await expect(marker(page, "Fail loudly")).toHaveCount(0);
  await expect(marker(other, "Fail loudly")).toHaveCount(0);
  await expect(count(other)).toHaveAccessibleName(/^0 need attention here/);
  // Nothing was raised twice.
  expect(await both()).toHaveLength(2);
  await other.close();
});

test("panes resize by drag and by keyboard and keep their widths; a long session name is whole on hover", async ({
  page,
  server,
}) => {
  const p = await project(server, "Panes");
  const title = "Add integration tests for the payment reconciliation service";
  await server.api("POST", "/tasks", { projectId: p.id, title });
  await open(page, `/projects/${p.id}`);
  const pane = page.getByRole("navigation", { name: "Sessions" });
  const width = async () => (await pane.boundingBox())!.width;
  const before = await width();
  const splitter = page.getByRole("separator", { name: "Resize the sessions pane" });
  const box = (await splitter.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + 200);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2 + 120, box.y + 200, { steps: 5 });
  await page.mouse.up();
  await expect.poll(width).toBeGreaterThan(before + 110);
  const dragged = await width();
  await splitter.focus();
  await page.keyboard.press("ArrowRight");
  await expect.poll(width).toBeGreaterThan(dragged + 20);
  const kept = await width();
  await page.reload();
  await page.locator("body[data-hydrated=true]").waitFor();
  await expect.poll(width).toBeCloseTo(kept, 0);

  // A session named after a long task: the row stays compact (one line for the name), and
  // the whole name is a hover away.
  const row = page.getByRole("listitem", { name: title });
  await row.getByRole("button", { name: `Details of ${title}` }).click();
  await row.getByRole("button", { name: "Work on task" }).click();
  const name = pane.getByRole("button", { name: title, exact: true });
  await expect(name).toBeVisible();
  await expect(name).toHaveAttribute("title", title);
  expect((await pane.getByRole("listitem", { name: title }).boundingBox())!.height).toBeLessThanOrEqual(42);
  // Home puts the default width back.
  await splitter.focus();
  await page.keyboard.press("Home");
  await expect.poll(width).toBeCloseTo(before, 0);
  await pane.getByRole("button", { name: `Close session ${title}` }).click();
  await pane.getByRole("button", { name: "Close it, ending the agent" }).click();
  await page.getByRole("alert").filter({ hasText: "closed" }).getByRole("button", { name: "Dismiss" }).click();
});

test("opening another project's failed session from the ⚑ list shows that project's tasks, and the page keeps working", async ({
  page,
  server,
}) => {
  const a = await project(server, "Elsewhere A");
  const b = await project(server, "Here B");
  const first = await server.api("POST", "/tasks", { projectId: a.id, title: "A's first task" });
  await server.api("POST", "/tasks", { projectId: a.id, title: "A's second task" });
  await server.api("POST", "/tasks", { projectId: b.id, title: "B's task" });
  const s = await server.api("POST", "/sessions", { projectId: a.id, taskIds: [first.id], name: "agent-in-A" });
  await open(page, `/projects/${b.id}`);
  await expect(page.getByRole("listitem", { name: "B's task" })).toBeVisible();

  // The agent in A fails while the person looks at B: the top bar says one elsewhere.
  await server.api("PATCH", `/sessions/${s.id}`, { status: "failed" });
  const flag = page.getByRole("button", { name: /need attention here/ });
  await expect(flag).toHaveAccessibleName(/^0 need attention here, [1-9]\d* elsewhere$/);
  await flag.click();
  const list = page.getByRole("dialog", { name: "Needs attention" });
  const item = list.getByRole("listitem").filter({ hasText: "session agent-in-A" });
  await item.getByRole("button", { name: "Open" }).click();

  // A's page, its tasks, the session open and active; nothing crashed (the fixture fails
  // the test on any page error).
  await expect(page).toHaveURL(new RegExp(`/projects/${a.id}$`));
  await expect(page.getByRole("listitem", { name: "A's first task" })).toBeVisible();
  await expect(page.getByRole("listitem", { name: "A's second task" })).toBeVisible();
  await expect(page.getByLabel("Task counts")).toHaveText(/^2 tasks/);
  const sessions = page.getByRole("navigation", { name: "Sessions" });
  await expect(sessions.getByRole("listitem").filter({ hasText: "agent-in-A" })).toHaveAttribute("aria-current", "true");

  // And the page still works: a task added here is shown and stored.
  await page.getByRole("textbox", { name: "New task title" }).fill("Added after opening");
  await page.getByRole("button", { name: "Add task" }).click();
  await expect(page.getByRole("listitem", { name: "Added after opening" })).toBeVisible();
  await expect(page.getByLabel("Task counts")).toHaveText(/^3 tasks/);
  await expect
    .poll(async () => (await server.api("GET", `/tasks?projectId=${a.id}`)).map((t: any) => t.title))
    .toContain("Added after opening");
});
