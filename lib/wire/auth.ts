/**
 * How the bridge and the mirror prove who they are to the NATS server, and how they check the
 * server: one set of flags, parsed once here for both commands. Secrets come from files, never
 * from the command line (where `ps` shows them), and no secret is ever put in a log line or an
 * error: errors name the flag and the file, not what it holds.
 */
import { readFileSync } from 'node:fs';
import { type Authenticator, credsAuthenticator, nkeyAuthenticator, nkeys, tokenAuthenticator, usernamePasswordAuthenticator } from '@nats-io/transport-node';
import { ErrorCode, MdfanError } from '../../native/segment/errors.js';
import type { Flags, OptionSpec } from '../cli/args.js';

/** The flags, the same on `mdfan bridge` and `mdfan mirror`. */
export const NATS_AUTH_OPTIONS: OptionSpec = Object.freeze({
  'nats-creds': { type: 'string' },
  'nats-user': { type: 'string' },
  'nats-password-file': { type: 'string' },
  'nats-token-file': { type: 'string' },
  'nats-nkey': { type: 'string' },
  'nats-ca': { type: 'string' },
  'nats-cert': { type: 'string' },
  'nats-key': { type: 'string' },
});

export const NATS_AUTH_USAGE = `  NATS identity (one of; secrets are read from files): [--nats-creds FILE (a .creds file: user JWT and nkey seed)]
  [--nats-user USER --nats-password-file FILE] [--nats-token-file FILE] [--nats-nkey FILE (an nkey seed, SU...)]
  TLS: a tls://HOST:PORT URL, or any of [--nats-ca FILE (the CA that signed the server's certificate)]
  [--nats-cert FILE --nats-key FILE (a client certificate, for servers that verify clients)]`;

/** What connect() needs beyond the URL; `method` and `tls` are safe to log, nothing else here is. */
export interface NatsAuth {
  method: 'none' | 'creds' | 'user' | 'token' | 'nkey';
  authenticator: Authenticator | null;
  /** null: plain TCP unless the server requires TLS; an object: TLS required. */
  tls: { caFile?: string; certFile?: string; keyFile?: string } | null;
}

export const NO_AUTH: NatsAuth = Object.freeze({ method: 'none', authenticator: null, tls: null });

const str = (v: string | boolean | undefined, flag: string): string | undefined => {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') throw new MdfanError(ErrorCode.OPTIONS, `${flag} needs a value`, { flag });
  return v;
};

/** A secret file's text (trimmed); a missing or unreadable file names the flag, the path and errno, never content. */
function readSecret(flag: string, path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    throw new MdfanError(ErrorCode.OPTIONS, `${flag} ${path}: cannot read it (${code})`, { flag, path, errname: code });
  }
  const t = text.trim();
  if (t === '') throw new MdfanError(ErrorCode.OPTIONS, `${flag} ${path}: the file is empty`, { flag, path });
  return t;
}

/** A file that must exist (a certificate, a CA): refused at parse time rather than at the first connect. */
function checkReadable(flag: string, path: string): string {
  readSecret(flag, path);
  return path;
}

const CREDS_JWT = /-----BEGIN NATS USER JWT-----\s*\n\s*(\S+)\s*\n[\s\S]*?------END NATS USER JWT------/;
const CREDS_SEED = /-----BEGIN USER NKEY SEED-----\s*\n\s*(S\S+)\s*\n[\s\S]*?------END USER NKEY SEED------/;

/** Checks a seed decodes as a user nkey (the client would only find out at connect time). */
function checkSeed(flag: string, path: string, seed: string): void {
  try {
    nkeys.fromSeed(new TextEncoder().encode(seed)).getPublicKey();
  } catch {
    throw new MdfanError(ErrorCode.OPTIONS, `${flag} ${path}: not a valid nkey seed (an nkey seed starts with S and is base32, e.g. SUA...)`, { flag, path });
  }
}

/** The auth and TLS flags of `values` (a parse() result that included NATS_AUTH_OPTIONS) checked; `url` says whether TLS is asked for. */
export function parseNatsAuth(values: Flags, url: string): NatsAuth {
  const creds = str(values['nats-creds'], '--nats-creds');
  const user = str(values['nats-user'], '--nats-user');
  const passwordFile = str(values['nats-password-file'], '--nats-password-file');
  const tokenFile = str(values['nats-token-file'], '--nats-token-file');
  const nkeyFile = str(values['nats-nkey'], '--nats-nkey');
  const given = [creds && '--nats-creds', user && '--nats-user', tokenFile && '--nats-token-file', nkeyFile && '--nats-nkey'].filter((f): f is string => !!f);
  if (given.length > 1) throw new MdfanError(ErrorCode.OPTIONS, `${given.join(' and ')}: give one way to authenticate`, { flag: given.join(',') });
  if ((user === undefined) !== (passwordFile === undefined))
    throw new MdfanError(ErrorCode.OPTIONS, '--nats-user and --nats-password-file go together', { flag: user === undefined ? '--nats-password-file' : '--nats-user' });

  let method: NatsAuth['method'] = 'none';
  let authenticator: Authenticator | null = null;
  if (creds !== undefined) {
    const text = readSecret('--nats-creds', creds);
    const seed = CREDS_SEED.exec(text)?.[1];
    if (!CREDS_JWT.test(text) || seed === undefined)
      throw new MdfanError(ErrorCode.OPTIONS, `--nats-creds ${creds}: not a NATS credentials file (it needs a USER JWT block and a USER NKEY SEED block)`, { flag: '--nats-creds', path: creds });
    checkSeed('--nats-creds', creds, seed);
    method = 'creds';
    // The client's parser wants each block's closing line ended by a newline.
    authenticator = credsAuthenticator(new TextEncoder().encode(`${text}\n`));
  } else if (user !== undefined && passwordFile !== undefined) {
    method = 'user';
    authenticator = usernamePasswordAuthenticator(user, readSecret('--nats-password-file', passwordFile));
  } else if (tokenFile !== undefined) {
    method = 'token';
    authenticator = tokenAuthenticator(readSecret('--nats-token-file', tokenFile));
  } else if (nkeyFile !== undefined) {
    const seed = readSecret('--nats-nkey', nkeyFile);
    checkSeed('--nats-nkey', nkeyFile, seed);
    method = 'nkey';
    authenticator = nkeyAuthenticator(new TextEncoder().encode(seed));
  }

  const caFile = str(values['nats-ca'], '--nats-ca');
  const certFile = str(values['nats-cert'], '--nats-cert');
  const keyFile = str(values['nats-key'], '--nats-key');
  if ((certFile === undefined) !== (keyFile === undefined))
    throw new MdfanError(ErrorCode.OPTIONS, '--nats-cert and --nats-key go together (a client certificate and its key)', { flag: certFile === undefined ? '--nats-key' : '--nats-cert' });
  const wantsTls = url.startsWith('tls://') || caFile !== undefined || certFile !== undefined;
  const tls = wantsTls
    ? {
        ...(caFile === undefined ? {} : { caFile: checkReadable('--nats-ca', caFile) }),
        ...(certFile === undefined ? {} : { certFile: checkReadable('--nats-cert', certFile) }),
        ...(keyFile === undefined ? {} : { keyFile: checkReadable('--nats-key', keyFile) }),
      }
    : null;
  return { method, authenticator, tls };
}

/** A URL fit for a log line or an error: any user information in it replaced. */
export const redactUrl = (url: string): string => url.replace(/\/\/[^/@]*@/g, '//***@');
