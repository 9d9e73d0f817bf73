/**
 * A command whose stop never finishes (as a feed whose input never answers): it takes its stop
 * from onStopSignals, logs it, and goes on waiting. Only a second signal can end it.
 */
import { onStopSignals } from '../../lib/cli/signals.js';
import { LogEvent, createLogger } from '../../lib/log.js';

const log = createLogger('stop-proc');
onStopSignals((signal) => log.info({ event: LogEvent.STOPPING, signal }, 'stopping (and never done)'));
setInterval(() => {}, 1 << 30);
log.info({ event: LogEvent.WRITER_READY }, 'waiting');
