// Shared fixtures: each worker runs its own Maestro server on a free port with a fresh
// data directory, every page is let in as a person is (the link the server printed at
// start, opened once), and every page fails its test if the browser logs an error.
import { test as base, expect, BrowserContext, Page } from "@playwright/test";
import { execFileSync, spawn, ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

/** A Maestro server process the tests control. */
export class Server {
  url: string;
  /** The link the server printed at start: `http://…/?token=…`. */
  link = "";
  private token = "";
  private child: ChildProcess | null = null;
  /** More flags and environment, for a test's own server. */
  args: string[] = [];
  env: Record<string, string> = {};
  constructor(private port: number, private dataDir: string) {
    this.url = `http://127.0.0.1:${port}`;
  }

  async start(): Promise<void> {
    const bin = process.env.MAESTRO_BIN;
    if (!bin) throw new Error("MAESTRO_BIN is not set: run the tests with scripts/test.sh");
    // The fake agent of the tests, offered beside the shell (the runner's cwd is end2end/).
    const script = path.resolve("../tests/fake-agent.sh");
    const agent = `fake=sh ${script} {prompt}`;
    // The same agent, ending with exit code 1 (its session fails).
    const failing = `failing=env FAKE_AGENT_EXIT=1 sh ${script} {prompt}`;
    const args = ["--addr", `127.0.0.1:${this.port}`, "--data-dir", this.dataDir, "--agent", agent, "--agent", failing, ...this.args];
    const child = spawn(bin, args, {
      stdio: ["ignore", "ignore", "pipe"],
      // Terminals run a plain POSIX shell, not the machine's interactive bash: its dotfiles
      // are not under test, and one here (pyenv's rehash) waits a minute on a lock that a
      // shell closed mid-start leaves behind.
      // The fake agent waits at "press Enter to finish" for as long as a test takes to press
      // it: the terminal's guess that it asks (tests/unattended.rs) is left out of these.
      env: {
        ...process.env,
        SHELL: "/bin/sh",
        RUST_LOG: process.env.RUST_LOG ?? "warn",
        MAESTRO_ASKING_MS: "3600000",
        ...this.env,
      },
    });
    this.child = child;
    // The server's log goes on to ours; the link it prints is what a person opens.
    let log = "";
    child.stderr!.on("data", (chunk: Buffer) => {
      process.stderr.write(chunk);
      log += chunk.toString();
      const m = !this.link && log.match(/open (http:\/\/\S+\?token=(\S+))/);
      if (m) [this.link, this.token] = [m[1], m[2]];
    });
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`maestro exited with ${child.exitCode}`);
      try {
        const r = await this.fetch(`${this.url}/api/health`);
        if (this.token && r.ok) return;
      } catch {}
      if (Date.now() > deadline) throw new Error(`maestro did not come up at ${this.url}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
    this.child = null;
  }

  /** `fetch` with the server's token, as a script with MAESTRO_TOKEN sends it. */
  fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = { ...(init.headers as Record<string, string>), authorization: `Bearer ${this.token}` };
    return fetch(url, { ...init, headers });
  }

  /** Lets a browser context in: opens the printed link once, as a person does. */
  async login(context: BrowserContext): Promise<void> {
    const r = await context.request.get(this.link, { maxRedirects: 0 });
    if (r.status() !== 303) throw new Error(`the link answered ${r.status()}`);
  }

  /** A whole list: a list comes in pages of at most 1 MiB; this follows `Next-Cursor`. */
  async list(p: string): Promise<any[]> {
    const rows: any[] = [];
    let cursor: string | null = null;
    do {
      const sep = p.includes("?") ? "&" : "?";
      const url = `${this.url}/api${p}${cursor ? `${sep}cursor=${encodeURIComponent(cursor)}` : ""}`;
      const r = await this.fetch(url);
      if (!r.ok) throw new Error(`GET ${p}: ${r.status} ${await r.text()}`);
      rows.push(...(await r.json()));
      cursor = r.headers.get("next-cursor");
    } while (cursor);
    return rows;
  }

  /** A REST call, as a script would make it. */
  async api(method: string, p: string, body?: unknown): Promise<any> {
    const r = await this.fetch(`${this.url}/api${p}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await r.json();
    if (!r.ok) throw new Error(`${method} ${p}: ${r.status} ${JSON.stringify(json)}`);
    return json;
  }
}

export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** Opens a page and waits until it is hydrated and live (clicks before would be lost). */
export async function open(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.locator("body[data-hydrated=true]").waitFor();
  await expect(page.getByRole("status", { name: "Connection: connected" })).toBeVisible();
}

/** A project made through the REST API, with a unique name. */
export async function project(server: Server, name: string): Promise<{ id: string; name: string }> {
  return server.api("POST", "/projects", { name: `${name} ${Date.now()}-${Math.floor(Math.random() * 1e6)}` });
}

/** The repositories `gitRepo` made in this worker: removed when it ends. */
const madeRepos: string[] = [];

/** A git repository in a temporary directory (its own user.name and user.email) with
 *  `files` committed on `main`: a project's `basePath` for workspaces (its real path). */
export function gitRepo(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "maestro-repo-"));
  madeRepos.push(dir);
  const git = (...args: string[]) => execFileSync("git", args, { cwd: dir, stdio: "pipe" });
  git("init", "-q", "-b", "main");
  git("config", "user.name", "Maestro Test");
  git("config", "user.email", "test@example.com");
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  git("add", ".");
  git("commit", "-qm", "start");
  return fs.realpathSync(dir);
}

/** Records every notification a page raises (the real ones are still raised). */
export async function spyOnNotifications(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const Real = window.Notification;
    const notes: { title: string; body?: string; note: Notification }[] = [];
    (window as any).__notes = notes;
    class Recorded extends Real {
      constructor(title: string, options?: NotificationOptions) {
        super(title, options);
        notes.push({ title, body: options?.body, note: this });
      }
    }
    (window as any).Notification = Recorded;
  });
}

/** The titles of the notifications a page raised. */
export async function notifications(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as any).__notes.map((n: any) => n.title));
}

export const test = base.extend<{}, { server: Server }>({
  server: [
    async ({}, use) => {
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "maestro-e2e-"));
      const server = new Server(await freePort(), dataDir);
      await server.start();
      await use(server);
      await server.stop();
      for (const dir of [dataDir, ...madeRepos.splice(0)]) fs.rmSync(dir, { recursive: true, force: true });
    },
    { scope: "worker" },
  ],
  baseURL: async ({ server }, use) => use(server.url),
  context: async ({ context, server }, use) => {
    await server.login(context);
    await use(context);
  },
  // Every page of the test counts (a second tab, a second browser context): with
  // panic=immediate-abort a panic takes the whole app down, so any page error fails.
  page: async ({ page, browser }, use, testInfo) => {
    const errors: string[] = [];
    // A test that stops the server on purpose expects the browser to log refused
    // connections; nothing else.
    const has = (type: string) => testInfo.annotations.some((a) => a.type === type);
    const downtimeLog = /WebSocket connection to .* failed|ERR_CONNECTION_REFUSED|Failed to load resource/;
    // Likewise the browser's own network log of a request the server refuses (4xx) on
    // purpose; a 5xx is never expected.
    const refusalLog = /Failed to load resource: the server responded with a status of 4\d\d/;
    // And the chunk loader's report of a part whose code it could not fetch.
    const chunkLog = /WebAssembly.*HTTP status code is not ok/;
    const watch = (p: Page) => {
      p.on("console", (m) => {
        const t = m.text();
        const ok =
          (has("server-downtime") && downtimeLog.test(t)) ||
          (has("refused-request") && refusalLog.test(t)) ||
          (has("chunk-gone") && (refusalLog.test(t) || chunkLog.test(t)));
        if (m.type() === "error" && !ok) errors.push(t);
      });
      p.on("pageerror", (e) => errors.push(`${e.name}: ${e.message}`));
    };
    watch(page);
    page.context().on("page", watch);
    const newContext = browser.newContext;
    browser.newContext = async (...args) => {
      const context = await newContext.apply(browser, args);
      context.on("page", watch);
      return context;
    };
    try {
      await use(page);
    } finally {
      browser.newContext = newContext;
    }
    expect(errors, "the browser logged errors").toEqual([]);
  },
});

export { expect };
