// Helpers for the compat suite: run the real latch binary (LATCH_BIN) on a
// throwaway SQLite data dir and a free loopback port, the way an operator would.
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/** Startup budget: generous, since CI machines are slow when Go tests run beside us. */
const READY_TIMEOUT_MS = 60_000;

/** Path of the binary under test; the suite cannot run without one. */
export function latchBin() {
  const bin = process.env.LATCH_BIN;
  if (!bin) {
    throw new Error(
      'LATCH_BIN is not set: build the binary (go build -o /tmp/latch ./cmd/latch) and run LATCH_BIN=/tmp/latch node --test',
    );
  }
  return bin;
}

// Children and temp dirs still alive; removed by stop() or, should a test file
// die first, on process exit so no server outlives its test.
const live = new Set();
process.on('exit', () => {
  for (const l of live) {
    try { l.child?.kill('SIGKILL'); } catch { /* already gone */ }
    for (const d of l.dirs) rmSync(d, { recursive: true, force: true });
  }
});

/** A loopback port nobody listens on right now (the kernel picks it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * The environment for a latch child: the caller's, without any LATCH_*
 * settings that would point the binary at another database or port, plus env.
 */
function childEnv(env) {
  const out = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('LATCH_')) out[k] = v;
  }
  return { ...out, LATCH_LOG_FORMAT: 'text', ...env };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts `latch serve` on a fresh data dir and a free port, and waits until
 * GET /api/status answers 200.
 * @param {{env?: Record<string,string>}} [opts]
 * @returns {Promise<{url: string, dataDir: string, env: Record<string,string>, output: () => string, waitForOutput: (re: RegExp, ms?: number) => Promise<RegExpMatchArray|null>, stop: () => Promise<void>}>}
 */
export async function startLatch({ env = {} } = {}) {
  const bin = latchBin();
  const dataDir = mkdtempSync(join(tmpdir(), 'latch-compat-'));
  const entry = { child: null, dirs: [dataDir] };
  live.add(entry);
  const fullEnv = childEnv(env);

  // The port can be taken between our probe and latch's bind; retry then.
  let lastErr;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    let log = '';
    const child = spawn(bin, ['serve', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir], {
      env: fullEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    entry.child = child;
    child.stdout.on('data', (b) => { log += b; });
    child.stderr.on('data', (b) => { log += b; });
    const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    let exit = null;
    exited.then((e) => { exit = e; });
    child.once('error', (err) => { lastErr = err; exit = exit ?? { code: null, signal: null, err }; });

    const deadline = Date.now() + READY_TIMEOUT_MS;
    let ready = false;
    while (!exit && Date.now() < deadline) {
      try {
        const res = await fetch(`${url}/api/status`, { signal: AbortSignal.timeout(2_000) });
        await res.arrayBuffer();
        if (res.status === 200) { ready = true; break; }
      } catch { /* not listening yet */ }
      await sleep(50);
    }
    if (ready) {
      return {
        url,
        dataDir,
        env: fullEnv,
        output: () => log,
        // The server writes before it serves, but its pipes may reach us
        // after the first HTTP answer: wait for a line rather than assume it.
        waitForOutput: async (re, ms = 10_000) => {
          const until = Date.now() + ms;
          let m;
          while (!(m = log.match(re)) && Date.now() < until) await sleep(20);
          return m;
        },
        stop: () => stopEntry(entry, exited),
      };
    }
    if (!exit) {
      child.kill('SIGKILL');
      await exited;
      lastErr = new Error(`latch did not answer 200 on /api/status within ${READY_TIMEOUT_MS} ms; its output:\n${log}`);
      break;
    }
    lastErr = exit.err ?? new Error(`latch exited (code ${exit.code}, signal ${exit.signal}) before it was ready; its output:\n${log}`);
    if (!/address already in use|cannot listen/i.test(log)) break;
  }
  rmSync(dataDir, { recursive: true, force: true });
  live.delete(entry);
  throw lastErr;
}

/** SIGTERM (graceful), SIGKILL after 10 s, then the temp dirs go. */
async function stopEntry(entry, exited) {
  const child = entry.child;
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  for (const d of entry.dirs) rmSync(d, { recursive: true, force: true });
  live.delete(entry);
}

/**
 * Runs `latch setup` against the server's data dir (the server keeps running)
 * and returns the initial API key it prints on stdout.
 */
export async function runSetup(latch, {
  email = 'admin@example.com',
  password = 'correct horse battery staple',
  name = 'Compat Admin',
} = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'latch-compat-pw-'));
  try {
    const pwFile = join(dir, 'password');
    writeFileSync(pwFile, password + '\n', { mode: 0o600 });
    let out;
    try {
      out = await execFileP(latchBin(), [
        'setup', '--data-dir', latch.dataDir,
        '--admin-email', email, '--admin-password-file', pwFile, '--admin-name', name,
      ], { env: latch.env, timeout: 60_000 });
    } catch (err) {
      throw new Error(`latch setup failed (exit ${err.code}): ${err.stderr || err.message}`);
    }
    const key = out.stdout.trim();
    if (!key || /\s/.test(key)) {
      throw new Error(`latch setup printed no single key on stdout: ${JSON.stringify(out.stdout)}; stderr: ${out.stderr}`);
    }
    return key;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * FusionAuth's client rejects with a bare ClientResponse, which test reports
 * print as "ClientResponse { statusCode: 400 }" without the body. This wraps
 * the official client so that a rejection becomes an Error that names the
 * method, status and Errors body, and still carries statusCode and exception.
 * Requests are exactly the client's own.
 */
export function explain(client) {
  return new Proxy(client, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      return (...args) => {
        const out = v.apply(target, args);
        if (!(out instanceof Promise)) return out;
        return out.catch((res) => {
          if (!res || typeof res.statusCode !== 'number') throw res;
          const body = res.exception === undefined ? '' : ' ' + JSON.stringify(res.exception);
          const err = new Error(`${String(prop)} answered ${res.statusCode}${body}`);
          err.statusCode = res.statusCode;
          err.exception = res.exception;
          throw err;
        });
      };
    },
  });
}

/**
 * Awaits a client call expected to fail and returns what it rejected with:
 * the client's ClientResponse (or explain's Error), both with statusCode and
 * exception (the JSON error body, if any). Fails if the call succeeds.
 */
export async function failure(promise) {
  let res;
  try {
    res = await promise;
  } catch (err) {
    if (err && typeof err.statusCode === 'number') return err;
    throw err;
  }
  throw new Error(`expected the call to fail, it answered ${res?.statusCode}: ${JSON.stringify(res?.response)}`);
}

/** Mailpit (LATCH_TEST_MAILPIT) on loopback ports: its SMTP port, its API, the
 * newest message to an address with a subject (waited for); stop() ends it. */
export async function startMailpit() {
  const smtp = await freePort();
  const http = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'latch-mailpit-'));
  const child = spawn(process.env.LATCH_TEST_MAILPIT, ['--smtp', `127.0.0.1:${smtp}`, '--listen', `127.0.0.1:${http}`, '--database', join(dir, 'mailpit.db'),
    '--smtp-auth-accept-any', '--smtp-auth-allow-insecure', '--disable-version-check'], { stdio: 'ignore' });
  const api = `http://127.0.0.1:${http}`;
  for (;;) {
    try {
      if ((await fetch(`${api}/api/v1/messages`)).ok) break;
    } catch { /* not yet */ }
    await sleep(50);
  }
  return {
    smtp, api,
    /** The newest message to address, waited for. */
    async messageTo(address, subject) {
      for (;;) {
        const list = await (await fetch(`${api}/api/v1/messages`)).json();
        const m = list.messages.find((x) => x.To.some((t) => t.Address === address) && x.Subject === subject);
        if (m) return (await fetch(`${api}/api/v1/message/${m.ID}`)).json();
        await sleep(100);
      }
    },
    stop() { child.kill('SIGKILL'); rmSync(dir, { recursive: true, force: true }); },
  };
}
