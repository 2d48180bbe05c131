import { defineConfig } from '@playwright/test';
import * as path from 'path';

// The server under test is started by scripts/test.sh's e2e step through this
// config: a freshly built `foghorn` on its own empty database.
const port = Number(process.env.FOGHORN_E2E_PORT ?? 3210);
export const baseURL = `http://127.0.0.1:${port}`;
/** The server's data directory; it holds the setup code while there is no user. */
export const DATA_DIR = process.env.FOGHORN_E2E_DATA_DIR ?? path.resolve(__dirname, '../target/e2e-data');
/** The OpenID Connect provider the single sign-on test signs in through (oidc/provider.mjs). */
const oidcPort = Number(process.env.FOGHORN_E2E_OIDC_PORT ?? 3299);
export const OIDC_ISSUER = `http://127.0.0.1:${oidcPort}`;
/** What a script calling a server function sends: Foghorn refuses writes that name no origin. */
export const API_HEADERS = { accept: 'application/json', origin: baseURL };

export default defineConfig({
  testDir: './tests',
  // The scenarios build on each other (the first creates the administrator).
  fullyParallel: false,
  workers: 1,
  retries: 0,
  // Generous limits: a passing test takes no longer for them, and a newcomer's first
  // run on a busy two-core machine (debug build, 3.5 MB of wasm to compile per page)
  // must not go red for being slow.
  timeout: 90_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  use: {
    baseURL,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
  webServer: [
    {
      command: 'node oidc/provider.mjs',
      url: `${OIDC_ISSUER}/.well-known/openid-configuration`,
      reuseExistingServer: false,
      timeout: 30_000,
      stdout: 'ignore',
      stderr: 'ignore',
      env: {
        OIDC_PORT: String(oidcPort),
        OIDC_REDIRECT_URIS: `${baseURL}/auth/oidc/callback`,
        OIDC_LOGOUT_URIS: `${baseURL}/login`,
      },
    },
    {
      command: process.env.FOGHORN_BIN ?? '../target/debug/foghorn',
      url: `${baseURL}/healthz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: 'ignore',
      stderr: 'pipe',
      env: {
        DATABASE_URL: process.env.FOGHORN_E2E_DATABASE_URL ?? '',
        LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
        LEPTOS_SITE_ROOT: process.env.LEPTOS_SITE_ROOT ?? '../target/site',
        FOGHORN_LOG: 'warn',
        // Where the server writes the first administrator's setup code.
        FOGHORN_DATA_DIR: DATA_DIR,
        FOGHORN_PUBLIC_URL: baseURL,
        FOGHORN_OIDC_ISSUER: OIDC_ISSUER,
        FOGHORN_OIDC_CLIENT_ID: 'foghorn',
        FOGHORN_OIDC_CLIENT_SECRET: 'foghorn-test-secret',
        FOGHORN_OIDC_SCOPES: 'openid email profile groups',
        FOGHORN_OIDC_LABEL: 'Test IdP',
        FOGHORN_OIDC_ROLE_MAP: 'sre=admin,eng=responder,*=viewer',
      },
    },
  ],
});
