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
  const cookie = cb.headers.get('set-cookie').split(';')[0];
  if (cb.status === 303) {  // Propusk's consent screen: the person allows this RP
    const page = await fetch(new URL(cb.headers.get('location'), cfg.issuer), {
      headers: { cookie }, redirect: 'manual',
    });
    if (page.status !== 200) throw new Error(`consent screen gave ${page.status}`);
    const screen = await page.text();
    out.consent_screen_names_client = screen.includes(cfg.rp.name);
    const decision = await fetch(new URL('/oauth2/authorize/decision', cfg.issuer), {
      method: 'POST', redirect: 'manual',
      headers: { cookie, origin: new URL(cfg.issuer).origin },
      body: new URLSearchParams({ ...hidden(screen), decision: 'allow' }),
    });
    if (decision.status !== 302) throw new Error(`consent screen gave ${decision.status}`);
    return { location: decision.headers.get('location'), cookie };
  }
  if (cb.status !== 302) throw new Error(`callback gave ${cb.status}: ${await cb.text()}`);
  return { location: cb.headers.get('location'), cookie };
}

// The hidden fields of a Propusk page's form (what a browser submits with it).
function hidden(html) {
  const fields = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) {
    fields[m[1]] = m[2].replaceAll('&amp;', '&').replaceAll('&#34;', '"').replaceAll('&#39;', "'")
      .replaceAll('&lt;', '<').replaceAll('&gt;', '>');
  }
  return fields;
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

// 3b. a consent the operator behind this RP needs: the RP's token cannot sign it, so the RP
// sends the person to Propusk's signing page and gets them back at its registered return URI
const op = await client.discovery(
  new URL(cfg.issuer), cfg.operator.client_id, {},
  client.ClientSecretBasic(cfg.operator.client_secret), insecure,
);
const opToken = (await client.clientCredentialsGrant(op)).access_token;
const request = await fetch(new URL('/api/v1/consent/requests', cfg.issuer), {
  method: 'POST',
  headers: { authorization: `Bearer ${opToken}`, 'content-type': 'application/json' },
  body: JSON.stringify({ template_id: cfg.operator.template_id, subject_id: claims.sub }),
});
if (request.status !== 201) throw new Error(`consent request gave ${request.status}`);
const consentId = (await request.json()).id;
const byToken = await fetch(new URL(`/api/v1/consents/${consentId}/approve`, cfg.issuer), {
  method: 'POST',
  headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json' },
  body: JSON.stringify({ document_sha256: '0'.repeat(64) }),
});
out.rp_approve_status = byToken.status;
out.rp_approve_type = (await byToken.json()).type;
const signUrl = new URL(`/sign/${consentId}`, cfg.issuer);
signUrl.search = new URLSearchParams({ return_uri: cfg.operator.return_uri, state: 'sig-1' });
const signPage = await fetch(signUrl, { headers: { cookie }, redirect: 'manual' });
if (signPage.status !== 200) throw new Error(`signing page gave ${signPage.status}`);
const signed = await fetch(new URL(`/sign/${consentId}`, cfg.issuer), {
  method: 'POST', redirect: 'manual',
  headers: { cookie, origin: new URL(cfg.issuer).origin },
  body: new URLSearchParams({ ...hidden(await signPage.text()), decision: 'sign', read: '1' }),
});
out.sign_status = signed.status;
out.sign_location = signed.headers.get('location');
const current = await fetch(new URL(`/api/v1/consent/requests/${consentId}`, cfg.issuer), {
  headers: { authorization: `Bearer ${opToken}` },
});
out.consent_id = consentId;
out.consent_state = (await current.json()).state;

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
