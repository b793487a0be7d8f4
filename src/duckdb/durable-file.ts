import { mkdir, open, rename, rm } from "node:fs/promises";
import { temporaryPath } from "../wire/archive-layout.js";

/**
 * How the archive's files appear (issue 22): written under a temporary name that no reader's
 * `*.parquet` glob matches, synced, renamed into place, and the folder synced, so that a reader
 * sees a whole file or none and a crash keeps every file it reported written. The archiver's
 * segments and an export's files go through here.
 */

/** Flushes a file's (or folder's) data to the disk: what makes a rename durable. */
export async function syncPath(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Writes `target` (a `.parquet` path under `root`) with `write(temporary)`, then makes it appear
 * whole; the temporary file is removed when `write` fails (or is interrupted). Resolves the
 * file's size in bytes.
 */
export async function writeDurably(root: string, target: string, write: (temporary: string) => Promise<void>): Promise<number> {
  const temporary = temporaryPath(target);
  const folder = target.slice(0, target.lastIndexOf("/"));
  // A new day's folder (and a new community's) is synced into its parent too, or a crash could lose it with its files.
  const created = await mkdir(folder, { recursive: true });
  try {
    await write(temporary);
    await syncPath(temporary);
    await rename(temporary, target);
  } catch (err) {
    await rm(temporary, { force: true });
    throw err;
  }
  await syncPath(folder);
  if (created !== undefined) {
    for (let parent = folder; parent.length > root.length && parent.length >= created.length; ) {
      parent = parent.slice(0, parent.lastIndexOf("/"));
      await syncPath(parent);
    }
  }
  const handle = await open(target, "r");
  try {
    return (await handle.stat()).size;
  } finally {
    await handle.close();
  }
}
