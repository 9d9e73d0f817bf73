/**
 * User and group options (`--writer-uid`, `--group`): a name, looked up in /etc/passwd or
 * /etc/group as the C library's files backend would, or a number. An unknown name is a usage
 * error naming the option; a number is taken as it is (a uid need not have an entry).
 */
import { readFileSync } from 'node:fs';
import { ErrorCode, MdfanError } from '../../native/segment/errors.js';

/** (uid_t)-1 and (gid_t)-1 mean "no change" to fchown: the largest real id is one below. */
const MAX_ID = 0xfffffffe;

/** The id of `name` in a passwd(5) or group(5) file (name:x:id:...), or null. */
function idInFile(file: string, name: string): number | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return null; // no such file: only numeric ids
  }
  for (const line of text.split('\n')) {
    const [entry, , id] = line.split(':');
    if (entry === name && id !== undefined && /^\d+$/.test(id)) return Number(id);
  }
  return null;
}

function resolveId(text: string, flag: string, kind: { noun: 'user' | 'group'; id: 'uid' | 'gid'; file: string }): number {
  if (/^\d+$/.test(text)) {
    const id = Number(text);
    if (id > MAX_ID) throw new MdfanError(ErrorCode.OPTIONS, `${flag} must be a ${kind.noun} name or a ${kind.id} 0..${MAX_ID} (got ${text})`, { flag, found: text });
    return id;
  }
  const id = idInFile(kind.file, text);
  if (id === null) throw new MdfanError(ErrorCode.OPTIONS, `${flag}: no ${kind.noun} named ${JSON.stringify(text)} (give a name from ${kind.file} or a numeric ${kind.id})`, { flag, found: text });
  return id;
}

/** A user name (from /etc/passwd) or a numeric uid, e.g. `--writer-uid feed` or `--writer-uid 1001`. */
export const resolveUser = (text: string, flag: string): number => resolveId(text, flag, { noun: 'user', id: 'uid', file: '/etc/passwd' });

/** A group name (from /etc/group) or a numeric gid, e.g. `--group md` or `--group 1001`. */
export const resolveGroup = (text: string, flag = '--group'): number => resolveId(text, flag, { noun: 'group', id: 'gid', file: '/etc/group' });
