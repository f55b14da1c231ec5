// Terminal output reaches the page byte for byte (issue #32): an agent's 18.7 MB flood is
// written by xterm.js to the last byte, none missing, none twice, while the browser
// acknowledges what it has written so that the server never floods it.
import { test, expect, open, project, freePort, Server } from "./fixtures";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

// `seq 1 2200000` with the terminal's \r\n: 14,288,896 digits and 4,400,000 line ends.
const LINES = 2_200_000;
const TOTAL = "READY\r\n".length + 14_288_896 + 2 * LINES + "END\r\n".length;

test("an agent's 18.7 MB flood reaches the terminal in the page, every byte in order", async ({ page, context }) => {
  test.setTimeout(300_000);
  // A server of its own: kept output large enough to hold the flood while the page catches up.
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "maestro-e2e-flood-"));
  const server = new Server(await freePort(), dataDir);
  server.args = ["--agent", `flood=stty -echo; echo READY; read _; seq 1 ${LINES}; echo END; read _; : {prompt}`];
  server.env = { MAESTRO_OUTPUT_SESSION_BYTES: String(64 << 20) };
  await server.start();
  try {
    await server.login(context);
    const p = await project(server, "Flood");
    const t = await server.api("POST", "/tasks", { projectId: p.id, title: "Print a lot" });
    const s = await server.api("POST", "/sessions", { projectId: p.id, taskIds: [t.id], agentId: "flood", name: "flood" });
    await open(page, `${server.url}/projects/${p.id}`);
    const row = page.getByRole("listitem", { name: "Print a lot" });
    await row.getByRole("button", { name: "Details of Print a lot" }).click();
    await row.getByRole("button", { name: "Jump to session flood" }).click();
    const screen = page.getByRole("group", { name: "Terminal screen" });
    await expect(screen.locator(".xterm-rows")).toContainText("READY");
    await screen.click();
    await page.keyboard.press("Enter");

    // Every byte written by xterm.js (its write callbacks count them), none skipped...
    await expect(screen).toHaveAttribute("data-written", String(TOTAL), { timeout: 240_000 });
    await expect(screen).not.toHaveAttribute("data-gaps", /.*/);
    // ...in order: the screen ends with the last lines.
    await expect(screen.locator(".xterm-rows")).toContainText(/2199998\s*2199999\s*2200000\s*END/);
    // The server's record of the same bytes ends where the page is.
    const kept = await server.fetch(`${server.url}/api/sessions/${s.id}/output?offset=0&limit=1`);
    expect(kept.headers.get("output-end")).toBe(String(TOTAL));
  } finally {
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});
