/** A hand-written in-memory fake of the leases' KV bucket (src/leases/lease.ts): entries with revisions, as NATS keeps them. */
import type { LeaseEntry, LeaseStore } from "../../src/leases/lease.js";

export class MemoryLeaseStore implements LeaseStore {
  readonly entries = new Map<string, LeaseEntry>();
  protected revision = 0;

  async keys(filter = ">"): Promise<string[]> {
    const prefix = filter.endsWith(">") ? filter.slice(0, -1) : filter;
    return [...this.entries.keys()].filter((key) => (filter.endsWith(">") ? key.startsWith(prefix) : key === filter));
  }
  async get(key: string): Promise<LeaseEntry | undefined> {
    return this.entries.get(key);
  }
  async create(key: string, value: string): Promise<number> {
    if (this.entries.has(key)) throw new Error(`${key} exists`);
    this.entries.set(key, { value, revision: ++this.revision });
    return this.revision;
  }
  async update(key: string, value: string, revision: number): Promise<number> {
    if (this.entries.get(key)?.revision !== revision) throw new Error(`wrong last sequence for ${key}`);
    this.entries.set(key, { value, revision: ++this.revision });
    return this.revision;
  }
  async delete(key: string, previousRevision?: number): Promise<void> {
    if (previousRevision !== undefined && this.entries.get(key)?.revision !== previousRevision) throw new Error(`wrong last sequence for ${key}`);
    this.entries.delete(key);
  }
}
