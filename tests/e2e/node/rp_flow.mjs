// A certified relying party (openid-client v6) driving Propusk end to end.
// Input: env RP_CONFIG = JSON {issuer, rp: {client_id, client_secret, redirect_uri,
//   post_logout_redirect_uri}, cc: {client_id, client_secret}, pkjwt: {client_id, jwk}}.
// Output: one JSON object on stdout with what happened (tokens for independent verification).
import * as client from 'openid-client';

const cfg = JSON.parse(process.env.RP_CONFIG);
const insecure = { execute: [client.allowInsecureRequests] };
const out = {};

async function loginWithDevForm(authorizationUrl) {
  const page = await fetch(authorizationUrl, { redirect: 'manual' });
  if (page.status !== 200) throw new Error(`authorize gave ${page.status}`);
  const html = await page.text();
  const txn = html.match(/name="txn" value="([^"]+)"/)[1];
  const form = new URLSearchParams({
    txn, oid: cfg.oid, last_name: 'Кузнецов', first_name: 'Илья', birth_date: '2008-05-06',
    email: 'ilya@example.org',
  });
  const cb = await fetch(new URL('/login/dev/callback', cfg.issuer), {
    method: 'POST', body: form, redirect: 'manual',
  });
  if (cb.status !== 302) throw new Error(`callback gave ${cb.status}: ${await cb.text()}`);
  const cookie = cb.headers.get('set-cookie').split(';')[0];
  return { location: cb.headers.get('location'), cookie };
}

// 1. discovery + authorization code with PKCE (S256), state, nonce, iss (RFC 9207)
const rp = await client.discovery(
  new URL(cfg.issuer), cfg.rp.client_id, {}, client.ClientSecretBasic(cfg.rp.client_secret),
  insecure,
);
const verifier = client.randomPKCECodeVerifier();
const challenge = await client.calculatePKCECodeChallenge(verifier);
const state = client.randomState();
const nonce = client.randomNonce();
const url = client.buildAuthorizationUrl(rp, {
  redirect_uri: cfg.rp.redirect_uri, scope: 'openid profile email offline_access',
  code_challenge: challenge, code_challenge_method: 'S256', state, nonce,
});
const { location, cookie } = await loginWithDevForm(url);
out.callback = location;
const tokens = await client.authorizationCodeGrant(rp, new URL(location), {
  pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true,
});
const claims = tokens.claims();
out.id_token = tokens.id_token;
out.access_token = tokens.access_token;
out.sub = claims.sub;
out.nonce_ok = claims.nonce === nonce;

// 2. userinfo
const info = await client.fetchUserInfo(rp, tokens.access_token, claims.sub);
out.userinfo = info;

// 3. refresh (rotation)
const refreshed = await client.refreshTokenGrant(rp, tokens.refresh_token);
out.refresh_rotated = refreshed.refresh_token && refreshed.refresh_token !== tokens.refresh_token;
out.refreshed_access_token = refreshed.access_token;

// 4. RP-initiated logout
const logoutUrl = client.buildEndSessionUrl(rp, {
  post_logout_redirect_uri: cfg.rp.post_logout_redirect_uri, id_token_hint: tokens.id_token,
  state: 'bye',
});
const logout = await fetch(logoutUrl, { redirect: 'manual', headers: { cookie } });
out.logout_status = logout.status;
out.logout_location = logout.headers.get('location');

// 5. client_credentials with client_secret_basic
const cc = await client.discovery(
  new URL(cfg.issuer), cfg.cc.client_id, {}, client.ClientSecretBasic(cfg.cc.client_secret),
  insecure,
);
const ccTokens = await client.clientCredentialsGrant(cc, { scope: 'consent.read' });
out.cc_access_token = ccTokens.access_token;
out.cc_scope = ccTokens.scope;

// 6. client_credentials with private_key_jwt
const key = await crypto.subtle.importKey(
  'jwk', cfg.pkjwt.jwk, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign'],
);
const pk = await client.discovery(
  new URL(cfg.issuer), cfg.pkjwt.client_id, {}, client.PrivateKeyJwt(key), insecure,
);
const pkTokens = await client.clientCredentialsGrant(pk);
out.pkjwt_access_token = pkTokens.access_token;

process.stdout.write(JSON.stringify(out));
