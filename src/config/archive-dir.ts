import { runningStack, STATE_DIR } from "../stack/state-file.js";
import { DEFAULT_ARCHIVE_DIR } from "../wire/archive-layout.js";

/**
 * The archive that `query` and `export` read (issue 22): the one given, then the one the
 * running `ecwatch up` in this directory archives into (its state file says), then
 * `.ecwatch/archive`.
 */
export function resolveArchiveDir(flag: string | undefined, stateDir: string = STATE_DIR): string {
  return flag || runningStack(stateDir)?.archive || DEFAULT_ARCHIVE_DIR;
}
