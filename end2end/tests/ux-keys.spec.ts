// The keyboard and the focus: shortcuts to open a task, work on it and reach the terminal;
// j / k move the focus to the session's row; the top bar comes first in the tab order; the
// ⚑ list closes with Esc and a click outside.
import { test, expect, open, project } from "./fixtures";

test("o opens the focused task, w works on it, t focuses the terminal, j / k land on the row", async ({
  page,
  server,
}) => {
  const p = await project(server, "Keys");
  await server.api("POST", "/tasks", { projectId: p.id, title: "Keyed task" });
  await server.api("POST", "/tasks", { projectId: p.id, title: "Other task" });
  await open(page, `/projects/${p.id}`);
  const row = page.getByRole("listitem", { name: "Keyed task" });
  const expander = row.getByRole("button", { name: "Details of Keyed task" });
  await expander.focus();
  await page.keyboard.press("o");
  await expect(expander).toHaveAttribute("aria-expanded", "true");
  await expect(row.getByRole("button", { name: "Work on task" })).toBeVisible();

  await expander.focus();
  await page.keyboard.press("w");
  const sessions = page.getByRole("navigation", { name: "Sessions" });
  await expect(sessions.getByRole("button", { name: "Keyed task", exact: true })).toBeVisible();
  const screen = page.getByRole("group", { name: "Terminal screen" });
  await expect(screen.locator(".xterm-rows")).toBeVisible();

  // A second session, from the other task's row.
  const other = page.getByRole("listitem", { name: "Other task" });
  await other.getByRole("button", { name: "Details of Other task" }).focus();
  await page.keyboard.press("w");
  await expect(sessions.getByRole("button", { name: "Other task", exact: true })).toBeVisible();

  await expander.focus();
  await page.keyboard.press("t");
  await expect(screen.getByRole("textbox")).toBeFocused();
  await page.keyboard.type("echo typed-$((2+3))");
  await page.keyboard.press("Enter");
  await expect(screen.locator(".xterm-rows")).toContainText("typed-5");

  // j / k: the next session is shown and its row has the focus.
  await expander.focus();
  await page.keyboard.press("j");
  const focusedSession = sessions.locator("li.session.active button.linkish");
  await expect(focusedSession).toBeFocused();
  const name = await focusedSession.innerText();
  await page.keyboard.press("k");
  await expect(sessions.locator("li.session.active button.linkish")).toBeFocused();
  await expect(sessions.locator("li.session.active button.linkish")).not.toHaveText(name);

  // The help lists them.
  await page.keyboard.press("?");
  const help = page.getByRole("dialog", { name: "Keyboard shortcuts" });
  await expect(help.getByText("Focus the terminal")).toBeVisible();
  await expect(help.getByText("Work on the focused task (with the agent chosen last)")).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(help).toBeHidden();
});

test("the top bar comes first in the tab order; the ⚑ list closes with Esc and a click outside", async ({
  page,
  server,
}) => {
  const p = await project(server, "Focus");
  await server.api("POST", "/tasks", { projectId: p.id, title: "Blocked one", status: "blocked" });
  await open(page, `/projects/${p.id}`);
  await page.locator("body").focus();
  await page.keyboard.press("Tab");
  await expect(page.getByRole("banner").locator(":focus")).toHaveCount(1);

  const flag = page.getByRole("button", { name: /need attention here/ });
  const list = page.getByRole("dialog", { name: "Needs attention" });
  await flag.click();
  await expect(list).toBeVisible();
  await page.keyboard.press("Escape");
  await expect(list).toBeHidden();
  await flag.click();
  await expect(list).toBeVisible();
  // A click inside keeps it; outside closes it.
  await list.getByRole("heading", { name: "Needs attention" }).click();
  await expect(list).toBeVisible();
  await page.getByRole("navigation", { name: "Sessions" }).getByRole("heading", { name: "Sessions" }).click();
  await expect(list).toBeHidden();
});
