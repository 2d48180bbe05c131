// A real OpenID Connect provider for Foghorn's tests: oidc-provider (the certified
// Node.js implementation) with its development login and consent pages.
//
//   OIDC_PORT=4010 OIDC_REDIRECT_URIS=http://127.0.0.1:3210/auth/oidc/callback node provider.mjs
//
// Prints "ready <issuer>" once it listens. Any password signs in as one of ACCOUNTS.
// Three accounts get a tampered ID token from the token endpoint, so that Foghorn's
// refusals are tested against the real flow: signed by another key, issued for another
// client, expired.
import Provider from 'oidc-provider';
import * as jose from 'jose';

const port = Number(process.env.OIDC_PORT ?? 4010);
const issuer = `http://127.0.0.1:${port}`;
const redirectUris = (process.env.OIDC_REDIRECT_URIS ?? '').split(',').filter(Boolean);
const logoutUris = (process.env.OIDC_LOGOUT_URIS ?? '').split(',').filter(Boolean);

const person = (email, name, groups, verified = true) => ({ email, email_verified: verified, name, groups });
const ACCOUNTS = {
  ana: person('ana@example.com', 'Ana Sso', ['sre', 'eng']),
  ben: person('ben@example.com', 'Ben Sso', ['eng']),
  cat: person('cat@example.com', 'Cat Sso', []),
  // Claims the address of an existing Foghorn account without having verified it.
  unverified: person(process.env.OIDC_UNVERIFIED_EMAIL ?? 'local@example.com', 'Not Them', ['sre'], false),
  'forged-key': person('forged@example.com', 'Forged', ['sre']),
  'wrong-audience': person('audience@example.com', 'Audience', ['sre']),
  expired: person('expired@example.com', 'Expired', ['sre']),
};

const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
const signingJwk = { ...(await jose.exportJWK(privateKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
const foreignKey = (await jose.generateKeyPair('RS256')).privateKey;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'foghorn',
      client_secret: 'foghorn-test-secret',
      redirect_uris: redirectUris,
      post_logout_redirect_uris: logoutUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
    },
  ],
  jwks: { keys: [signingJwk] },
  pkce: { required: () => true },
  scopes: ['openid', 'email', 'profile', 'groups'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
  // Put the granted claims in the ID token itself (Foghorn reads no userinfo).
  conformIdTokenClaims: false,
  findAccount: async (_ctx, id) =>
    ACCOUNTS[id] ? { accountId: id, claims: async () => ({ sub: id, ...ACCOUNTS[id] }) } : undefined,
  features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
  cookies: { keys: ['foghorn-test-cookie-key'] },
});
provider.on('server_error', (_ctx, err) => console.error(err));

/** The ID token an account's tampering mode makes of the real one. */
async function tamper(idToken) {
  const claims = jose.decodeJwt(idToken);
  const now = Math.floor(Date.now() / 1000);
  const sign = (payload, key) =>
    new jose.SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: 'test-key' }).sign(key);
  switch (claims.sub) {
    case 'forged-key':
      return sign(claims, foreignKey);
    case 'wrong-audience':
      return sign({ ...claims, aud: 'another-client' }, privateKey);
    case 'expired':
      return sign({ ...claims, iat: now - 7200, exp: now - 3600 }, privateKey);
    default:
      return idToken;
  }
}

provider.use(async (ctx, next) => {
  await next();
  if (ctx.path === '/token' && ctx.body && typeof ctx.body === 'object' && ctx.body.id_token) {
    ctx.body = { ...ctx.body, id_token: await tamper(ctx.body.id_token) };
  }
});

provider.listen(port, '127.0.0.1', () => console.log(`ready ${issuer}`));
