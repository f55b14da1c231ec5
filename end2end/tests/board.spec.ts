// The board: a column per status; cards move by drag and drop or by keyboard, live in
// every tab and over REST; search narrows it; the view and the search survive a reload.
import { test, expect, open, project } from "./fixtures";
import type { Page } from "@playwright/test";

const column = (page: Page, name: string) =>
  page.getByRole("group", { name: "Board" }).getByRole("region", { name: `${name} column` });
const card = (page: Page, col: string, title: string) => column(page, col).getByRole("listitem", { name: title });

test("drag a card across columns: the change shows in a second tab and over REST; keys move it too", async ({
  page,
  server,
}) => {
  const p = await project(server, "Board");
  const moved = await server.api("POST", "/tasks", { projectId: p.id, title: "Draggable card" });
  await server.api("POST", "/tasks", { projectId: p.id, title: "Staying put" });
  await open(page, `/projects/${p.id}`);
  await page.getByRole("group", { name: "View" }).getByRole("button", { name: "Board" }).click();
  await expect(column(page, "pending").getByLabel("2 tasks")).toBeVisible();
  await expect(column(page, "in progress").getByLabel("0 tasks")).toBeVisible();

  // A second tab of the same browser opens on the board too (the choice is kept).
  const other = await page.context().newPage();
  await open(other, `/projects/${p.id}`);
  await expect(card(other, "pending", "Draggable card")).toBeVisible();

  await card(page, "pending", "Draggable card").dragTo(column(page, "in progress"));
  await expect(card(page, "in progress", "Draggable card")).toBeVisible();
  await expect(column(page, "pending").getByLabel("1 task")).toBeVisible();
  await expect(card(other, "in progress", "Draggable card")).toBeVisible();
  await expect(card(other, "pending", "Draggable card")).toHaveCount(0);
  await expect.poll(async () => (await server.api("GET", `/tasks/${moved.id}`)).status).toBe("in_progress");

  // The keyboard: focus the card, → moves it to the next column and keeps the focus.
  await card(page, "in progress", "Draggable card").focus();
  await page.keyboard.press("ArrowRight");
  await expect(card(page, "in review", "Draggable card")).toBeFocused();
  await page.keyboard.press("ArrowRight");
  await expect(card(page, "completed", "Draggable card")).toBeFocused();
  await expect(card(other, "completed", "Draggable card")).toBeVisible();
  await page.keyboard.press("ArrowRight");
  await expect(card(page, "blocked", "Draggable card")).toBeFocused();
  await page.keyboard.press("ArrowLeft");
  await expect(card(page, "completed", "Draggable card")).toBeFocused();
  await expect.poll(async () => (await server.api("GET", `/tasks/${moved.id}`)).status).toBe("completed");

  // Moved by someone else (REST): it moves here at once.
  await server.api("PATCH", `/tasks/${moved.id}`, { status: "pending" });
  await expect(card(page, "pending", "Draggable card")).toBeVisible();
  await expect(column(page, "completed").getByLabel("0 tasks")).toBeVisible();
  await other.close();
});

test("a card moved twice before the server answered the first move does not jump back", async ({ page, server }) => {
  const p = await project(server, "Quick moves");
  const quick = await server.api("POST", "/tasks", { projectId: p.id, title: "Quick card" });
  await open(page, `/projects/${p.id}`);
  await page.getByRole("group", { name: "View" }).getByRole("button", { name: "Board" }).click();
  // Both moves reach the server only once the second shows, in the order they were made.
  let release!: () => void;
  const both = new Promise<void>((r) => (release = r));
  let sent = Promise.resolve();
  await page.route(/\/sfn\/update_task/, (route) => {
    const turn = sent
      .then(() => both)
      .then(async () => route.fulfill({ response: await route.fetch() }));
    sent = turn;
    return turn;
  });
  await card(page, "pending", "Quick card").focus();
  await page.keyboard.press("ArrowRight");
  await expect(card(page, "in progress", "Quick card")).toBeFocused();
  await page.keyboard.press("ArrowRight");
  await expect(card(page, "in review", "Quick card")).toBeFocused();
  // From now on the card must not show in "in progress" again, not even for a moment.
  await page.evaluate((id) => {
    const w = window as unknown as { cameBack: boolean };
    w.cameBack = false;
    const col = document.querySelector('section[aria-label="in progress column"]')!;
    new MutationObserver((changes) => {
      for (const c of changes) {
        for (const n of Array.from(c.addedNodes)) {
          if (n instanceof Element && (n.matches(`[data-task-id="${id}"]`) || n.querySelector(`[data-task-id="${id}"]`))) {
            w.cameBack = true;
          }
        }
      }
    }).observe(col, { childList: true, subtree: true });
  }, quick.id);
  release();
  await expect.poll(async () => (await server.api("GET", `/tasks/${quick.id}`)).status).toBe("in_review");
  // A later event applied means the moves' events were applied before it.
  await server.api("POST", "/tasks", { projectId: p.id, title: "Made after" });
  await expect(card(page, "pending", "Made after")).toBeVisible();
  await expect(card(page, "in review", "Quick card")).toBeFocused();
  expect(await page.evaluate(() => (window as unknown as { cameBack: boolean }).cameBack)).toBe(false);
});

test("a card being dragged stays put while other changes arrive; a refused move rolls back with a message", async ({
  page,
  server,
}) => {
  test.info().annotations.push({ type: "server-downtime" });
  const p = await project(server, "Drag");
  const held = await server.api("POST", "/tasks", { projectId: p.id, title: "Held card" });
  await open(page, `/projects/${p.id}`);
  await page.getByRole("button", { name: "Board", exact: true }).click();
  const dragged = card(page, "pending", "Held card");
  await dragged.hover();
  await page.mouse.down();
  await column(page, "blocked").hover();
  // Unrelated events while it is in the air: the card is not pulled from under the pointer.
  await server.api("POST", "/tasks", { projectId: p.id, title: "Made meanwhile" });
  await server.api("POST", "/tasks", { projectId: p.id, title: "Made meanwhile too", status: "blocked" });
  await expect(card(page, "blocked", "Made meanwhile too")).toBeVisible();
  await expect(dragged).toBeVisible();
  await page.mouse.up();
  await expect(card(page, "blocked", "Held card")).toBeVisible();
  await expect(card(page, "pending", "Made meanwhile")).toBeVisible();
  await expect.poll(async () => (await server.api("GET", `/tasks/${held.id}`)).status).toBe("blocked");

  // The server cannot take the move: the card goes back, and the person is told.
  await server.stop();
  await card(page, "blocked", "Held card").focus();
  await page.keyboard.press("ArrowLeft");
  await expect(page.getByRole("alert").filter({ hasText: "cannot reach the server" })).toBeVisible();
  await expect(card(page, "blocked", "Held card")).toBeVisible();
  await expect(card(page, "completed", "Held card")).toHaveCount(0);
  await server.start();
  await expect(page.getByRole("status", { name: "Connection: connected" })).toBeVisible({ timeout: 15_000 });
  expect((await server.api("GET", `/tasks/${held.id}`)).status).toBe("blocked");
});

test("search narrows the board; the board and the search survive a reload", async ({ page, server }) => {
  const p = await project(server, "Board search");
  await server.api("POST", "/tasks", { projectId: p.id, title: "Fix the login page" });
  await server.api("POST", "/tasks", { projectId: p.id, title: "Login audit", status: "blocked" });
  await server.api("POST", "/tasks", { projectId: p.id, title: "Write docs" });
  await open(page, `/projects/${p.id}`);
  await page.getByRole("button", { name: "Board", exact: true }).click();
  await page.getByRole("searchbox", { name: "Search tasks" }).fill("login");
  const cards = page.getByRole("group", { name: "Board" }).getByRole("listitem");
  await expect(cards).toHaveCount(2);
  await expect(card(page, "pending", "Fix the login page").locator("mark")).toHaveText("login");
  await expect(card(page, "blocked", "Login audit")).toBeVisible();
  await expect(column(page, "pending").getByLabel("1 task")).toBeVisible();
  await page.reload();
  await page.locator("body[data-hydrated=true]").waitFor();
  await expect(page.getByRole("button", { name: "Board", exact: true })).toHaveAttribute("aria-pressed", "true");
  await expect(cards).toHaveCount(2);
  await expect(card(page, "pending", "Write docs")).toHaveCount(0);
  await page.getByRole("button", { name: "List", exact: true }).click();
  await expect(page.getByRole("list", { name: "Tasks" }).getByRole("listitem")).toHaveCount(2);
});
