// The README's screenshots at 1440×900, 1280×720 and a 390×844 phone, of one made-up
// project: tasks in every status, agents working, one waiting for an answer, one ended.
import { test, expect, open, gitRepo } from "../tests/fixtures";
import type { Page } from "@playwright/test";
import * as path from "node:path";

const docs = (name: string) => path.resolve("../docs", name);

/** "Work on task" on a task of the list, as a person does it. */
async function workOn(page: Page, title: string) {
  const row = page.getByRole("listitem", { name: title });
  await row.getByRole("button", { name: `Details of ${title}` }).click();
  await row.getByRole("button", { name: "Work on task" }).click();
  await expect(page.getByRole("navigation", { name: "Sessions" }).getByRole("button", { name: title, exact: true })).toBeVisible();
  await row.getByRole("button", { name: `Details of ${title}` }).click();
}

test("README screenshots", async ({ page, server }) => {
  const dir = gitRepo({ "README.md": "# web-shop\n", "package.json": "{}\n" });
  const p = await server.api("POST", "/projects", { name: "web-shop", basePath: dir });
  const tasks: [string, string, string][] = [
    ["Add a search box to the product list", "in_progress", "high"],
    ["Paginate the orders API", "in_progress", "medium"],
    ["Fix the checkout rounding error", "blocked", "high"],
    ["Write the release notes for 2.4", "pending", "low"],
    ["Move sessions to Redis", "pending", "medium"],
    ["Upgrade the payment SDK", "pending", "medium"],
    ["Cache the category tree", "completed", "low"],
    ["Dark mode for the admin pages", "completed", "medium"],
  ];
  for (const [title, status, priority] of [...tasks].reverse()) {
    await server.api("POST", "/tasks", {
      projectId: p.id,
      title,
      status,
      priority,
      description: "",
      prompt: `${title}. Keep the tests green and explain what you changed.`,
    });
  }
  await page.setViewportSize({ width: 1440, height: 900 });
  await open(page, `/projects/${p.id}`);
  await workOn(page, "Cache the category tree");
  await workOn(page, "Paginate the orders API");
  await workOn(page, "Add a search box to the product list");
  const sessions: { id: string; name: string }[] = await server.api("GET", `/sessions?projectId=${p.id}`);
  const id = (name: string) => sessions.find((s) => s.name === name)!.id;
  await server.api("PATCH", `/sessions/${id("Cache the category tree")}`, { status: "completed" });
  await server.api("PUT", `/sessions/${id("Paginate the orders API")}/state`, {
    state: "needs_input",
    message: "Cursor or offset pagination?",
  });
  await server.api("PUT", `/sessions/${id("Add a search box to the product list")}/state`, { state: "working" });
  const screen = page.getByRole("group", { name: "Terminal screen" });
  await screen.click();
  await page.keyboard.type("echo \"$MAESTRO_TASK_IDS\" && git status --short 2>/dev/null; ls");
  await page.keyboard.press("Enter");
  await expect(screen.locator(".xterm-rows")).toContainText("package.json");
  const row = page.getByRole("listitem", { name: "Add a search box to the product list" });
  await row.getByRole("button", { name: "Details of Add a search box to the product list" }).click();
  await page.locator("body").click({ position: { x: 5, y: 5 } });
  await page.screenshot({ path: docs("main.png") });

  // The board at 1280×720, a card open.
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.getByRole("group", { name: "View" }).getByRole("button", { name: "Board" }).click();
  await page.getByRole("group", { name: "Board" }).getByRole("listitem", { name: "Move sessions to Redis" }).click();
  await expect(page.getByRole("dialog", { name: "Task Move sessions to Redis" }).getByRole("button", { name: "Work on task" })).toBeVisible();
  await page.screenshot({ path: docs("board.png") });
  await page.keyboard.press("Escape");

  // The terminal at 1280×720: 80 columns and more.
  await page.getByRole("navigation", { name: "Sessions" }).getByRole("button", { name: "Paginate the orders API", exact: true }).click();
  await expect(screen.locator(".xterm-rows")).toBeVisible();
  await screen.click();
  await page.keyboard.type("env | grep ^MAESTRO_ | sort");
  await page.keyboard.press("Enter");
  await expect(screen.locator(".xterm-rows")).toContainText("MAESTRO_TOKEN=");
  await page.screenshot({ path: docs("terminal.png") });

  // A phone: the Sessions pane, an agent waiting for an answer.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.getByRole("tablist", { name: "Panes" }).getByRole("tab", { name: "Sessions" }).click();
  await expect(page.getByRole("navigation", { name: "Sessions" })).toBeVisible();
  await page.screenshot({ path: docs("phone.png") });
});
