// Checks an audit inclusion proof in the browser, trusting nothing the server says about it:
// the leaf's hash (RFC 6962: SHA-256 of 0x00 || leaf), the audit path up to the root (RFC 9162
// §2.1.3.2), that root against the checkpoint note, and the note's Ed25519 signature (C2SP
// signed-note) by the log's published verifier key (GET /api/v1/audit/key). The answer lists
// each step, so a person (or an auditor) sees what was checked.
"use strict";

const PROOF_ENCODER = new TextEncoder();

function proofBytes(b64) {
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

function proofConcat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

async function proofSha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

function proofEqual(a, b) {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

// The root an audit path leads to from the leaf at `index` in a tree of `size` leaves.
async function proofRoot(leafHash, index, size, path) {
  if (index >= size) return null;
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (const p of path) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = await proofSha256(proofConcat([1], p, r));
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      }
    } else {
      r = await proofSha256(proofConcat([1], r, p));
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}

// C2SP vkey "<name>+<hex key id>+<base64(0x01 || Ed25519 public key)>".
function proofParseVkey(text) {
  const [name, hexId, ...rest] = text.trim().split("+");  // base64 may hold "+" itself
  const b64 = rest.join("+");
  const raw = proofBytes(b64);
  if (raw[0] !== 1 || raw.length !== 33) throw new Error("ключ журнала не Ed25519");
  const keyId = Uint8Array.from(hexId.match(/../g).map((h) => parseInt(h, 16)));
  return { name, keyId, publicKey: raw.slice(1) };
}

// The note's body (origin, size, root) and whether its signature by `vkey` verifies.
async function proofOpenNote(note, vkey) {
  const cut = note.lastIndexOf("\n\n");
  if (cut < 0) return { ok: false };
  const body = note.slice(0, cut) + "\n";
  const lines = body.split("\n");
  const parsed = { origin: lines[0], size: Number(lines[1]), root: lines[2], time: null };
  for (const line of lines.slice(3)) if (line.startsWith("time ")) parsed.time = line.slice(5);
  const key = await crypto.subtle.importKey("raw", vkey.publicKey, { name: "Ed25519" }, false, ["verify"]);
  for (const line of note.slice(cut + 2).split("\n")) {
    if (!line.startsWith("\u2014 ")) continue;
    const [name, b64] = line.slice(2).split(" ");
    if (name !== vkey.name) continue;
    const raw = proofBytes(b64);
    if (!proofEqual(raw.slice(0, 4), vkey.keyId)) continue;
    const ok = await crypto.subtle.verify("Ed25519", key, raw.slice(4), PROOF_ENCODER.encode(body));
    return { ok, ...parsed };
  }
  return { ok: false, ...parsed };
}

let proofKeyPromise = null;

function proofVerifierKey() {
  proofKeyPromise ??= fetch("/api/v1/audit/key").then((r) => {
    if (!r.ok) throw new Error("ключ журнала недоступен");
    return r.text();
  });
  return proofKeyPromise;
}

// {ok, steps: [{ok, text}], index, size, time}; never throws.
async function verifyInclusionProof(proof, vkeyText) {
  const steps = [];
  const step = (ok, text) => { steps.push({ ok, text }); return ok; };
  try {
    const vkey = proofParseVkey(vkeyText ?? await proofVerifierKey());
    const leafHash = await proofSha256(proofConcat([0], PROOF_ENCODER.encode(proof.leaf)));
    step(proofEqual(leafHash, proofBytes(proof.leaf_hash)), "запись совпадает со своим хешем");
    const root = await proofRoot(leafHash, proof.index, proof.tree_size, proof.hashes.map(proofBytes));
    step(root !== null && proofEqual(root, proofBytes(proof.root_hash)),
      `путь от записи ведёт к корню журнала из ${proof.tree_size} записей`);
    const note = await proofOpenNote(proof.checkpoint, vkey);
    step(note.size === proof.tree_size && note.root === proof.root_hash,
      "корень совпадает с контрольной точкой журнала");
    step(note.ok, "контрольная точка подписана ключом журнала");
    return { ok: steps.every((s) => s.ok), steps, index: proof.index, size: proof.tree_size, time: note.time };
  } catch (e) {
    step(false, `проверка не удалась: ${e.message}`);
    return { ok: false, steps, index: proof.index, size: proof.tree_size, time: null };
  }
}
