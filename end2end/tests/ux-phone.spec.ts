// A phone (390×844): one pane at a time with a switcher, so a person can check on their
// agents and answer one from it.
import { test, expect, open, project } from "./fixtures";

test.use({ viewport: { width: 390, height: 844 } });

test("one pane at a time; opening a session shows its terminal, which takes an answer", async ({ page, server }) => {
  const p = await project(server, "Phone");
  await server.api("POST", "/tasks", { projectId: p.id, title: "From the phone" });
  await open(page, `/projects/${p.id}`);
  const tabs = page.getByRole("tablist", { name: "Panes" });
  const tab = (name: string) => tabs.getByRole("tab", { name });
  const tasks = page.getByRole("main", { name: "Maestro panel" });
  const sessions = page.getByRole("navigation", { name: "Sessions" });
  const terminal = page.getByRole("region", { name: "Terminal" });
  await expect(tab("Tasks")).toHaveAttribute("aria-selected", "true");
  await expect(tasks).toBeVisible();
  await expect(sessions).toBeHidden();
  await expect(terminal).toBeHidden();
  // The list has the screen's height, not a small scroll area.
  const list = await tasks.boundingBox();
  expect(list!.height).toBeGreaterThan(600);

  const row = page.getByRole("listitem", { name: "From the phone" });
  await row.getByRole("button", { name: "Details of From the phone" }).click();
  await row.getByRole("button", { name: "Work on task" }).click();
  await expect(tab("Terminal")).toHaveAttribute("aria-selected", "true");
  await expect(terminal).toBeVisible();
  await expect(tasks).toBeHidden();
  const screen = page.getByRole("group", { name: "Terminal screen" });
  await expect(screen.locator(".xterm-rows")).toBeVisible();
  expect((await screen.boundingBox())!.height).toBeGreaterThan(400);
  await screen.click();
  await page.keyboard.type("echo answered-$((40+2))");
  await page.keyboard.press("Enter");
  await expect(screen.locator(".xterm-rows")).toContainText("answered-42");

  // An agent asking: the Sessions tab says so; its row is there, one tap opens the terminal.
  const s = (await server.api("GET", `/sessions?projectId=${p.id}`))[0];
  await server.api("PUT", `/sessions/${s.id}/state`, { state: "needs_input", message: "Which one?" });
  await expect(tab("Sessions").getByRole("img", { name: "needs attention" })).toBeVisible();
  await tab("Sessions").click();
  await expect(sessions).toBeVisible();
  await expect(terminal).toBeHidden();
  await expect(sessions.getByLabel("agent needs input: Which one?")).toBeVisible();
  await sessions.getByRole("button", { name: "From the phone", exact: true }).click();
  await expect(terminal).toBeVisible();
});
