/**
 * Hand-written in-memory fakes of the aggregator's ports (src/aggregator/ports.ts): the core runs
 * against them without any server, in milliseconds. Each store can be told to fail.
 */
import type {
  AggregatorPorts,
  ChangeFeed,
  Consumption,
  DeadLetter,
  DeadLetterStore,
  EnergyStore,
  LatestCache,
  LatestValueStore,
  OnReading,
  ReadingMessage,
  ReadingSource,
  StateStore,
} from "../../src/aggregator/ports.js";
import { MemoryLeaseStore } from "./lease-fakes.js";
import { meterReadingSubject, partitionOf, partitionedSubject } from "../../src/wire/names.js";

/** A delivered message that records what the aggregator did with it. */
export class FakeMessage implements ReadingMessage {
  readonly info: { readonly stream: string; readonly redelivered: boolean };
  readonly data: Uint8Array;
  /** Every ack and nak, in order. */
  readonly outcomes: Array<"ack" | "nak"> = [];

  constructor(
    readonly subject: string,
    private readonly text: string,
    readonly seq: number,
    stream = "EC_STREAM_P0",
    redelivered = false,
  ) {
    this.info = { stream, redelivered };
    this.data = new TextEncoder().encode(text);
  }

  string(): string {
    return this.text;
  }
  ack(): void {
    this.outcomes.push("ack");
  }
  nak(): void {
    this.outcomes.push("nak");
  }
  get settled(): "ack" | "nak" | undefined {
    return this.outcomes.at(-1);
  }
}

let nextSeq = 1;

/** A meter reading as a partition stream delivers it (`ecp.<p>.<c>.meter.<m>`). */
export function meterMessage(reading: { communityId: string; meterId: string; genW: number; conW: number; measuredAt: string; seq: number }): FakeMessage {
  const subject = partitionedSubject(meterReadingSubject(reading.communityId, reading.meterId))!;
  return new FakeMessage(subject, JSON.stringify(reading), nextSeq++, `EC_STREAM_P${partitionOf(reading.communityId)}`);
}

/** The partition streams and EC_STREAM: `deliver` hands a message to whoever consumes its partition. */
export class FakeReadingSource implements ReadingSource {
  readonly consumers = new Map<number | "strays", OnReading>();
  readonly forwarded: Array<{ subject: string; msgId: string }> = [];
  failForward = false;
  /** What a crashed owner left unacknowledged, per partition. */
  readonly leftUnacknowledged = new Map<number, FakeMessage[]>();

  async *unacknowledged(partition: number): AsyncGenerator<FakeMessage> {
    yield* this.leftUnacknowledged.get(partition) ?? [];
  }

  private consumption(key: number | "strays", onReading: OnReading): Consumption {
    this.consumers.set(key, onReading);
    return {
      stop: async () => {
        if (this.consumers.get(key) === onReading) this.consumers.delete(key);
      },
    };
  }
  async consumePartition(partition: number, _options: { maxMessages: number }, onReading: OnReading): Promise<Consumption> {
    return this.consumption(partition, onReading);
  }
  async consumeStrays(_options: { maxMessages: number }, onReading: OnReading): Promise<Consumption> {
    return this.consumption("strays", onReading);
  }
  async forward(subject: string, _data: Uint8Array, msgId: string): Promise<void> {
    if (this.failForward) throw new Error("forward failed");
    this.forwarded.push({ subject, msgId });
  }
  /** Delivers `msg` to its partition's consumer; false when no one consumes it. */
  deliver(partition: number, msg: ReadingMessage): boolean {
    const consumer = this.consumers.get(partition);
    consumer?.(msg);
    return consumer !== undefined;
  }
}

/** The aggregator's bucket: the leases' fake, with puts that can be held or told to fail. */
export class MemoryStateStore extends MemoryLeaseStore implements StateStore {
  /** Puts of keys matching this fail. */
  failPut: (key: string) => boolean = () => false;
  /** While set, every put waits for it. */
  hold: Promise<void> | undefined;

  async put(key: string, value: string): Promise<void> {
    await this.hold;
    if (this.failPut(key)) throw new Error(`put ${key} failed`);
    this.entries.set(key, { value, revision: ++this.revision });
  }
  async purge(key: string): Promise<void> {
    this.entries.delete(key);
  }
}

export class MemoryLatestStore implements LatestValueStore {
  readonly values = new Map<string, string>();
  private readonly watchers = new Set<(communityId: string, json: string) => void>();
  fail = false;
  async communities(): Promise<string[]> {
    return [...this.values.keys()];
  }
  async get(communityId: string): Promise<string | undefined> {
    return this.values.get(communityId);
  }
  async put(communityId: string, json: string): Promise<void> {
    if (this.fail) throw new Error("latest put failed");
    this.write(communityId, json);
  }
  /** A put by anyone (a foreign writer too): stored, and seen by every watch. */
  write(communityId: string, json: string): void {
    this.values.set(communityId, json);
    for (const watcher of this.watchers) watcher(communityId, json);
  }
  async watch(onValue: (communityId: string, json: string) => void): Promise<Consumption> {
    for (const [communityId, json] of this.values) onValue(communityId, json);
    this.watchers.add(onValue);
    return { stop: async () => void this.watchers.delete(onValue) };
  }
}

export class MemoryEnergyStore implements EnergyStore {
  readonly records = new Map<string, string>();
  fail = false;
  async get(communityId: string, dayStartMs: number): Promise<string | undefined> {
    return this.records.get(`${communityId}@${dayStartMs}`);
  }
  async put(communityId: string, dayStartMs: number, record: string): Promise<void> {
    if (this.fail) throw new Error("energy put failed");
    this.records.set(`${communityId}@${dayStartMs}`, record);
  }
  readonly finals = new Map<string, number>();
  async putFinal(communityId: string, finalMs: number): Promise<void> {
    if (this.fail) throw new Error("energy put failed");
    this.finals.set(communityId, finalMs);
  }
}

export class RecordingChangeFeed implements ChangeFeed {
  readonly announced: Array<{ communityId: string; json: string }> = [];
  announce(communityId: string, json: string): void {
    this.announced.push({ communityId, json });
  }
}

export class MemoryDeadLetters implements DeadLetterStore {
  readonly stored: DeadLetter[] = [];
  fail = false;
  async store(_msg: ReadingMessage, deadLetter: DeadLetter): Promise<boolean> {
    if (this.fail) return false;
    this.stored.push(deadLetter);
    return true;
  }
}

export class MemoryCache implements LatestCache {
  readonly values = new Map<string, string>();
  fail = false;
  async putLatest(entries: ReadonlyArray<{ communityId: string; json: string }>): Promise<void> {
    if (this.fail) throw new Error("cache unreachable");
    for (const { communityId, json } of entries) this.values.set(communityId, json);
  }
  async readLatest(communityIds: readonly string[]): Promise<Array<string | null>> {
    if (this.fail) throw new Error("cache unreachable");
    return communityIds.map((communityId) => this.values.get(communityId) ?? null);
  }
}

/** One set of fakes, shared by every aggregator built on it (as servers are). */
export function fakePorts() {
  const ports = {
    readings: new FakeReadingSource(),
    state: new MemoryStateStore(),
    latest: new MemoryLatestStore(),
    energy: new MemoryEnergyStore(),
    changes: new RecordingChangeFeed(),
    deadLetters: new MemoryDeadLetters(),
    cache: new MemoryCache(),
  };
  return ports satisfies AggregatorPorts;
}
