// The board as a place to work from: a card opens its task (the same details as the list's
// row, "Work on task" included), and the board has room of its own, so that the terminal
// keeps 80 columns when a session is shown again.
import { test, expect, open, project } from "./fixtures";
import type { Page } from "@playwright/test";

const board = (page: Page) => page.getByRole("group", { name: "Board" });
const card = (page: Page, col: string, title: string) =>
  board(page).getByRole("region", { name: `${col} column` }).getByRole("listitem", { name: title });

/** The terminal's size as its shell sees it: columns. */
async function columns(page: Page): Promise<number> {
  const screen = page.getByRole("group", { name: "Terminal screen" });
  await expect(screen.locator(".xterm-rows")).toBeVisible();
  await screen.click();
  await page.keyboard.type("echo COLS-$(stty size | cut -d' ' -f2)-END");
  await page.keyboard.press("Enter");
  const rows = screen.locator(".xterm-rows");
  await expect(rows).toContainText(/COLS-\d+-END/);
  const m = (await rows.innerText()).match(/COLS-(\d+)-END/);
  return Number(m?.[1] ?? 0);
}

for (const [width, height] of [
  [1440, 900],
  [1280, 720],
]) {
  test(`at ${width}×${height} a card opens its task and starts work; the terminal keeps 80 columns`, async ({
    page,
    server,
  }) => {
    await page.setViewportSize({ width, height });
    const p = await project(server, "Board room");
    await server.api("POST", "/tasks", { projectId: p.id, title: "Card to open", prompt: "do it" });
    await server.api("POST", "/tasks", { projectId: p.id, title: "Another card" });
    await open(page, `/projects/${p.id}`);
    await page.getByRole("group", { name: "View" }).getByRole("button", { name: "Board" }).click();

    // The board has the terminal's room: no terminal squeezed beside it.
    await expect(card(page, "pending", "Card to open")).toBeVisible();
    await expect(page.getByRole("region", { name: "Terminal" })).toBeHidden();

    // A click opens the task: its details, as the list's row has them.
    await card(page, "pending", "Card to open").click();
    const drawer = page.getByRole("dialog", { name: "Task Card to open" });
    await expect(drawer.getByRole("textbox", { name: "Title" })).toHaveValue("Card to open");
    await expect(drawer.getByRole("textbox", { name: "Prompt" })).toHaveValue("do it");
    await expect(drawer.getByRole("button", { name: "Save" })).toBeVisible();
    await expect(drawer.getByRole("button", { name: "Delete task" })).toBeVisible();
    // Esc closes it and the focus goes back to the card; Enter opens it again.
    await page.keyboard.press("Escape");
    await expect(drawer).toBeHidden();
    await expect(card(page, "pending", "Card to open")).toBeFocused();
    await page.keyboard.press("Enter");
    await expect(drawer).toBeVisible();
    await drawer.getByRole("button", { name: "Close task" }).click();
    await expect(drawer).toBeHidden();

    // Another card, opened, and worked on: the terminal comes back, 80 columns wide.
    await card(page, "pending", "Another card").click();
    const other = page.getByRole("dialog", { name: "Task Another card" });
    await other.getByRole("button", { name: "Work on task" }).click();
    const sessions = page.getByRole("navigation", { name: "Sessions" });
    await expect(sessions.getByRole("button", { name: "Another card", exact: true })).toBeVisible();
    await expect(page.getByRole("region", { name: "Terminal" })).toBeVisible();
    // The task stays in sight beside it: its row is open in the list.
    await expect(page.getByRole("listitem", { name: "Another card" }).getByRole("button", { name: "Work on task" })).toBeVisible();
    expect(await columns(page)).toBeGreaterThanOrEqual(80);
    await expect.poll(async () => (await server.api("GET", `/sessions?projectId=${p.id}`)).length).toBe(1);
  });
}

test("the board's columns are the statuses, each with its count in words", async ({ page, server }) => {
  const p = await project(server, "Board columns");
  await server.api("POST", "/tasks", { projectId: p.id, title: "One" });
  await open(page, `/projects/${p.id}`);
  await page.getByRole("group", { name: "View" }).getByRole("button", { name: "Board" }).click();
  await expect(board(page).getByRole("region")).toHaveCount(await page.getByRole("combobox", { name: "Show" }).locator("option").count() - 1);
  await expect(page.getByLabel("Task counts")).toContainText("1 task · 1 pending");
});
