/**
 * NATS identities and TLS for the bridge and the mirror, against real nats-servers: the
 * permissions docs/BRIDGE.md gives (its very block: the bridge feeds a mirror; the mirror's user
 * can neither publish a book nor write the bucket; a wrong password is MDFAN_ERR_NATS_AUTH and the
 * password shows nowhere), a token, an nkey, an operator's JWTs with a .creds file, and TLS with a
 * throwaway CA and client certificate made by openssl; and the flags' own refusals.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection, nkeys } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { SegmentReader } from '../native/segment/index.js';
import { LogEvent } from '../lib/log.js';
import { parseNatsAuth, redactUrl } from '../lib/wire/auth.js';
import { binPath, repoRoot } from './helpers/paths.js';
import { killAll, type Proc, startNode } from './helpers/procs.js';
import { cleanupSegments, codeOf, segName } from './helpers/segments.js';
import { ConfiguredNatsServer, hasNatsServer } from './helpers/nats-server.js';
import { waitUntil } from './helpers/wait.js';

const dir = mkdtempSync(join(tmpdir(), 'mdfan-nats-auth-'));
let server: ConfiguredNatsServer | null = null;
let client: NatsConnection | null = null;
test.after.each(async () => {
  killAll();
  await client?.close();
  client = null;
  await server?.stop();
  server = null;
  cleanupSegments();
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

const mdfan = (args: string[]): Proc => startNode(binPath, args);
const writerProc = new URL('./helpers/writer-proc.js', import.meta.url);
const SKIP = '  (skipped: nats-server is not installed; .ci/ensure-packages installs it)';
const LONG_MS = 60_000;
/** A password or token: the server parses an environment variable's value, so it starts with a letter. */
const secret = (): string => `s${randomBytes(12).toString('hex')}`;

/** A file of the test's folder holding `text`, owner-only. */
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text, { mode: 0o600 });
  return p;
}

/** The mirror's best bid for GOOG (0: none yet). */
function bestBid(name: string): number {
  const r = SegmentReader.openSync(name, { anyState: true });
  try {
    const snap = r.newSnapshot();
    r.read(r.find('GOOG'), snap);
    return snap.bidCount > 0 ? snap.bids[0]! : 0;
  } finally {
    r.close();
  }
}

/** A mirror with `auth` flags that reaches READY, then is stopped cleanly. */
async function mirrorReady(url: string, auth: string[]): Promise<void> {
  const mirror = mdfan(['mirror', '--nats', url, '--segment', segName('auth-mirror'), ...auth]);
  const connected = await mirror.event(LogEvent.NATS_CONNECTED, LONG_MS);
  await mirror.event(LogEvent.MIRROR_READY, LONG_MS);
  mirror.child.kill('SIGTERM');
  assert.is((await mirror.exited).code, 0, mirror.stderr());
  assert.ok(connected.auth, 'the method is logged');
}

/** A command that must fail at connect with `code`; returns its stderr. */
async function refused(url: string, auth: string[], code: string): Promise<string> {
  const mirror = mdfan(['mirror', '--nats', url, '--segment', segName('auth-refused'), ...auth]);
  const exit = await mirror.exited;
  assert.is(exit.code, 1, mirror.stderr());
  assert.match(mirror.stderr(), new RegExp(`${code}:`));
  return mirror.stderr();
}

test('the flags: one identity at a time, files read at once, errors naming the flag and the file but never what it holds', () => {
  const pw = file('pw', 'hunter2-not-in-any-message\n');
  const seed = file('bad-seed', 'SUNOTASEED-hunter3\n');
  const creds = file('bad.creds', 'just text, hunter4\n');
  const msg = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      return (e as Error).message;
    }
    return 'no error';
  };
  assert.is(codeOf(() => parseNatsAuth({ 'nats-user': 'u', 'nats-password-file': pw, 'nats-token-file': pw }, 'nats://h:1')), 'MDFAN_ERR_OPTIONS');
  assert.is(codeOf(() => parseNatsAuth({ 'nats-user': 'u' }, 'nats://h:1')), 'MDFAN_ERR_OPTIONS', 'a user needs its password file');
  assert.match(msg(() => parseNatsAuth({ 'nats-token-file': join(dir, 'missing') }, 'nats://h:1')), /--nats-token-file .*missing: cannot read it \(ENOENT\)/);
  const badSeed = msg(() => parseNatsAuth({ 'nats-nkey': seed }, 'nats://h:1'));
  assert.match(badSeed, /not a valid nkey seed/);
  assert.not.match(badSeed, /hunter3/);
  const badCreds = msg(() => parseNatsAuth({ 'nats-creds': creds }, 'nats://h:1'));
  assert.match(badCreds, /not a NATS credentials file/);
  assert.not.match(badCreds, /hunter4/);
  assert.is(codeOf(() => parseNatsAuth({ 'nats-cert': pw }, 'nats://h:1')), 'MDFAN_ERR_OPTIONS', 'a certificate needs its key');
  assert.equal(parseNatsAuth({}, 'tls://h:1').tls, {}, 'a tls:// URL asks for TLS');
  assert.is(parseNatsAuth({}, 'nats://h:1').tls, null);
  assert.is(parseNatsAuth({ 'nats-user': 'u', 'nats-password-file': pw }, 'nats://h:1').method, 'user');
});

test("docs/BRIDGE.md's permissions: the bridge feeds a mirror; the mirror's user can neither publish a book nor write the bucket; a wrong or missing password is MDFAN_ERR_NATS_AUTH", async () => {
  if (!hasNatsServer) return console.log(SKIP);
  const doc = readFileSync(join(repoRoot, 'docs', 'BRIDGE.md'), 'utf8');
  const conf = /```conf\n([\s\S]*?)```/.exec(doc)?.[1];
  assert.ok(conf, 'the doc has a conf block');
  const bridgePw = secret();
  const mirrorPw = secret();
  server = await ConfiguredNatsServer.start(conf, { MDFAN_BRIDGE_PASSWORD: bridgePw, MDFAN_MIRROR_PASSWORD: mirrorPw }, dir);
  const url = server.url();
  const origin = segName('auth-origin');
  const writer = startNode(writerProc, ['market', origin]); // one level per side
  await writer.line(/^ready/);
  const bridge = mdfan(['bridge', '--segment', origin, '--nats', url, '--nats-user', 'mdfan-bridge', '--nats-password-file', file('bridge.pw', bridgePw)]);
  await bridge.event(LogEvent.BRIDGE_READY, LONG_MS);
  const local = segName('auth-local');
  const mirror = mdfan(['mirror', '--nats', url, '--segment', local, '--levels', '1', '--nats-user', 'mdfan-mirror', '--nats-password-file', file('mirror.pw', mirrorPw)]);
  await mirror.event(LogEvent.MIRROR_READY, LONG_MS);
  writer.child.kill('SIGUSR2'); // GOOG's bid moves to 585.3500: the bridge publishes it
  await waitUntil(() => bestBid(local) === 5_853_500, LONG_MS, { what: "the origin's GOOG book through the bridge into the mirror" });

  // A rogue holding the mirror's password: the server refuses its book and its bucket write.
  client = await connect({ servers: url, user: 'mdfan-mirror', pass: mirrorPw });
  const violations: string[] = [];
  void (async () => {
    for await (const s of client!.status()) if (s.type === 'error') violations.push(s.error.message);
  })();
  client.publish('md.GOOG.book', new Uint8Array(80));
  await client.flush();
  await waitUntil(() => violations.some((v) => /permissions violation.*md\.GOOG\.book/i.test(v)), 10_000, { what: 'the publish refused by the server' });
  const kv = await new Kvm(client).open('md-books');
  let putError = '';
  await kv.put('GOOG', new Uint8Array(80)).catch((e: Error) => {
    putError = e.message;
  });
  assert.ok(putError !== '', 'the bucket write is refused');
  assert.is(bestBid(local), 5_853_500, "the mirror's book is the bridge's");

  const wrong = await refused(url, ['--nats-user', 'mdfan-mirror', '--nats-password-file', file('wrong.pw', 'not-the-password-zz9')], 'MDFAN_ERR_NATS_AUTH');
  assert.match(wrong, /the user credentials given were refused/);
  assert.not.match(wrong, /not-the-password-zz9/, 'the password is in no message');
  assert.not.match(mirror.stderr() + bridge.stderr(), new RegExp(`${mirrorPw}|${bridgePw}`), 'nor in any log line');
  const none = await refused(url, [], 'MDFAN_ERR_NATS_AUTH');
  assert.match(none, /no credentials were given/);
  mirror.child.kill('SIGTERM');
  assert.is((await mirror.exited).code, 0, mirror.stderr());
});

test('a token, and an nkey: the mirror connects with each; a wrong token is MDFAN_ERR_NATS_AUTH', async () => {
  if (!hasNatsServer) return console.log(SKIP);
  const token = secret();
  server = await ConfiguredNatsServer.start('authorization { token: $MDFAN_TEST_TOKEN }', { MDFAN_TEST_TOKEN: token }, dir);
  await mirrorReady(server.url(), ['--nats-token-file', file('token', token)]);
  await refused(server.url(), ['--nats-token-file', file('wrong-token', 'nope')], 'MDFAN_ERR_NATS_AUTH');
  // mdfan feed --source nats: takes the same flags (and refuses them with another source).
  const feed = mdfan(['feed', '--source', `nats:${server.url()}`, '--segment', segName('auth-feed'), '--nats-token-file', file('token', token)]);
  await feed.event(LogEvent.NATS_CONNECTED, LONG_MS);
  feed.child.kill('SIGTERM');
  assert.is((await feed.exited).code, 0, feed.stderr());
  const wrongFeed = mdfan(['feed', '--source', `nats:${server.url()}`, '--segment', segName('auth-feed-wrong'), '--nats-token-file', file('wrong-token', 'nope')]);
  assert.is((await wrongFeed.exited).code, 1, wrongFeed.stderr());
  assert.match(wrongFeed.stderr(), /MDFAN_ERR_NATS_AUTH:/);
  const misplaced = mdfan(['feed', '--source', 'itch:/nonexistent', '--segment', segName('auth-feed-itch'), '--nats-token-file', file('token', token)]);
  assert.is((await misplaced.exited).code, 2, misplaced.stderr());
  assert.match(misplaced.stderr(), /--nats-token-file goes with --source nats:URL/);
  await server.stop();
  const user = nkeys.createUser();
  server = await ConfiguredNatsServer.start(`authorization { users = [ { nkey: ${user.getPublicKey()} } ] }`, {}, dir);
  await mirrorReady(server.url(), ['--nats-nkey', file('user.nk', new TextDecoder().decode(user.getSeed()))]);
  await refused(server.url(), ['--nats-nkey', file('other.nk', new TextDecoder().decode(nkeys.createUser().getSeed()))], 'MDFAN_ERR_NATS_AUTH');
});

/** A NATS JWT (v2) signed by `signer`: what nsc writes, made by hand. */
function jwt(claims: Record<string, unknown>, signer: ReturnType<typeof nkeys.createOperator>): string {
  const enc = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  const body = `${enc({ typ: 'JWT', alg: 'ed25519-nkey' })}.${enc({ jti: randomBytes(16).toString('hex').toUpperCase(), iat: Math.floor(Date.now() / 1000), iss: signer.getPublicKey(), ...claims })}`;
  return `${body}.${Buffer.from(signer.sign(new TextEncoder().encode(body))).toString('base64url')}`;
}

test("an operator's JWTs and a .creds file: the mirror connects; another account's user is MDFAN_ERR_NATS_AUTH", async () => {
  if (!hasNatsServer) return console.log(SKIP);
  const op = nkeys.createOperator();
  const acc = nkeys.createAccount();
  const opJwt = jwt({ sub: op.getPublicKey(), name: 'mdfan-test', nats: { type: 'operator', version: 2 } }, op);
  const limits = { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1, mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1 };
  const accJwt = jwt({ sub: acc.getPublicKey(), name: 'md', nats: { limits, default_permissions: { pub: {}, sub: {} }, type: 'account', version: 2 } }, op);
  // JetStream needs the server's system account.
  const sys = nkeys.createAccount();
  const sysJwt = jwt({ sub: sys.getPublicKey(), name: 'SYS', nats: { limits: { ...limits, mem_storage: 0, disk_storage: 0, streams: 0, consumer: 0 }, default_permissions: { pub: {}, sub: {} }, type: 'account', version: 2 } }, op);
  const credsOf = (signer: typeof acc): string => {
    const user = nkeys.createUser();
    const userJwt = jwt({ sub: user.getPublicKey(), name: 'mirror', nats: { pub: {}, sub: {}, subs: -1, data: -1, payload: -1, type: 'user', version: 2 } }, signer);
    const seed = new TextDecoder().decode(user.getSeed());
    return `-----BEGIN NATS USER JWT-----\n${userJwt}\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n${seed}\n------END USER NKEY SEED------\n`;
  };
  const preload = `${acc.getPublicKey()}: ${JSON.stringify(accJwt)}, ${sys.getPublicKey()}: ${JSON.stringify(sysJwt)}`;
  server = await ConfiguredNatsServer.start(`operator: ${JSON.stringify(opJwt)}\nsystem_account: ${sys.getPublicKey()}\nresolver: MEMORY\nresolver_preload: { ${preload} }`, {}, dir);
  await mirrorReady(server.url(), ['--nats-creds', file('mirror.creds', credsOf(acc))]);
  await refused(server.url(), ['--nats-creds', file('stranger.creds', credsOf(nkeys.createAccount()))], 'MDFAN_ERR_NATS_AUTH');
});

test('TLS with a throwaway CA and a client certificate: tls:// with --nats-ca, --nats-cert and --nats-key connects; without the CA it is MDFAN_ERR_NATS_TLS', async () => {
  if (!hasNatsServer) return console.log(SKIP);
  const p = (n: string): string => join(dir, n);
  const ssl = (args: string[]): void => void execFileSync('openssl', args, { stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl(['req', '-x509', ...ec, '-keyout', p('ca.key'), '-out', p('ca.pem'), '-days', '1', '-subj', '/CN=mdfan-test-ca', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
  for (const [name, ext] of [
    ['server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth'],
    ['client', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    ssl(['req', ...ec, '-keyout', p(`${name}.key`), '-out', p(`${name}.csr`), '-subj', `/CN=mdfan-test-${name}`]);
    writeFileSync(p(`${name}.ext`), `${ext}\n`);
    ssl(['x509', '-req', '-in', p(`${name}.csr`), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p(`${name}.pem`), '-days', '1', '-extfile', p(`${name}.ext`)]);
  }
  server = await ConfiguredNatsServer.start(`tls { cert_file: ${JSON.stringify(p('server.pem'))}, key_file: ${JSON.stringify(p('server.key'))}, ca_file: ${JSON.stringify(p('ca.pem'))}, verify: true }`, {}, dir);
  await mirrorReady(server.url('tls'), ['--nats-ca', p('ca.pem'), '--nats-cert', p('client.pem'), '--nats-key', p('client.key')]);
  const untrusted = await refused(server.url('tls'), [], 'MDFAN_ERR_NATS_TLS');
  assert.match(untrusted, /--nats-ca/);
});

test("redactUrl: a URL's user information (a password, a token) never reaches a log line or the summary", () => {
  assert.is(redactUrl('nats://alice:s3cret@127.0.0.1:4222'), 'nats://***@127.0.0.1:4222');
  assert.is(redactUrl('tls://t0ken@a.example:1,nats://bob:pw@b.example:2'), 'tls://***@a.example:1,nats://***@b.example:2');
  assert.is(redactUrl('nats://127.0.0.1:4222'), 'nats://127.0.0.1:4222', 'nothing to hide: as given');
});

test.run();
