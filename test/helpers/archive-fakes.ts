/**
 * Hand-written in-memory fakes of the archiver's ports (src/archive/ports.ts): a partition's
 * stream with its consumer's acks, a segment store that can be held or told to fail, an
 * export's files, and the day folders of compaction and retention, with a crash at any step.
 */
import type { ExportRange } from "../../src/archive/export-plan.js";
import type { ArchiveMessage, ArchiveSource, Consumption, DayStore, ExportFiles, ExportedFile, SegmentStore, Settlement } from "../../src/archive/ports.js";
import type { ArchiveDay, ArchiveFile, Segment } from "../../src/wire/archive-layout.js";
import { partitionedSubject } from "../../src/wire/names.js";

/** A delivered message that records what the archiver did with it. */
export class FakeArchiveMessage implements ArchiveMessage {
  readonly outcomes: string[] = [];
  constructor(
    readonly subject: string,
    private readonly text: string,
    readonly seq: number,
    private readonly onAck: (seq: number) => void,
  ) {}
  string(): string {
    return this.text;
  }
  ack(): void {
    this.outcomes.push("ack");
    this.onAck(this.seq);
  }
  nak(delayMs?: number): void {
    this.outcomes.push(`nak ${delayMs ?? 0}`);
  }
  settlement(): Settlement {
    return this;
  }
}

/** A meter reading's JSON as the simulator publishes it. */
export const meterReading = (communityId: string, meterId: string, measuredAt: string, seq: number, genW = 100, conW = 50): string =>
  JSON.stringify({ communityId, meterId, genW, conW, measuredAt, seq });

/** The partitions' streams: messages are delivered when the test says, acks are remembered (the ack floor follows them). */
export class FakeArchiveSource implements ArchiveSource {
  private readonly listeners = new Map<number, (msg: ArchiveMessage) => void>();
  private readonly acked = new Map<number, Set<number>>();
  /** Acks that never reach the server (a crash right after the segment was written). */
  dropAcks = false;

  async ackFloor(partition: number): Promise<number> {
    const acked = this.acked.get(partition) ?? new Set();
    let floor = 0;
    while (acked.has(floor + 1)) floor += 1;
    return floor;
  }

  async consume(partition: number, onMessage: (msg: ArchiveMessage) => void): Promise<Consumption> {
    this.listeners.set(partition, onMessage);
    return { stop: async () => void this.listeners.delete(partition) };
  }

  /** Delivers a message of `partition`'s stream at `seq` (again, when it was delivered before); `subject` as published. */
  deliver(partition: number, seq: number, subject: string, text: string): FakeArchiveMessage {
    const msg = new FakeArchiveMessage(partitionedSubject(subject) ?? subject, text, seq, (acked) => {
      if (this.dropAcks) return;
      let set = this.acked.get(partition);
      if (!set) this.acked.set(partition, (set = new Set()));
      set.add(acked);
    });
    this.listeners.get(partition)!(msg);
    return msg;
  }
}

/** Segments kept in memory by path; `hold()` keeps writes pending until released, `failNext` fails writes. */
export class FakeSegmentStore implements SegmentStore {
  readonly files = new Map<string, Segment>();
  failNext = 0;
  private held: Array<() => void> | undefined;

  async storedSeqs(partition: number, aboveSeq: number): Promise<number[]> {
    return [...this.files.entries()]
      .filter(([path]) => path.split("/").at(-1)!.startsWith(`p${partition}-`))
      .flatMap(([, segment]) => segment.readings.map((reading) => reading.streamSeq))
      .filter((seq) => seq > aboveSeq);
  }

  async write(segment: Segment): Promise<number> {
    if (this.held) await new Promise<void>((resolve) => this.held!.push(resolve));
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new Error("disk full");
    }
    this.files.set(segment.path, segment);
    return segment.readings.length * 10;
  }

  hold(): void {
    this.held = [];
  }

  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const resume of held) resume();
  }

  /** Every archived reading as `community/meter/seq`, sorted. */
  rows(): string[] {
    return [...this.files.values()].flatMap((segment) => segment.readings.map((r) => `${r.communityId}/${r.meterId}/${r.state.seq}`)).sort();
  }
}

/** An archive's files for an export: each holds `rowsPerFile` rows; a filter keeps `filteredRows`; what was written is recorded in order. */
export class FakeExportFiles implements ExportFiles {
  readonly written: string[] = [];
  /** Called as each file is written (e.g. to abort the export there). */
  onWrite: (target: string) => void = () => undefined;
  filteredRows = 3;

  constructor(
    private readonly communities: readonly string[],
    private readonly files: readonly ArchiveFile[],
    private readonly rowsPerFile = 10,
  ) {}

  async list(): Promise<{ readonly communities: readonly string[]; readonly files: readonly ArchiveFile[] }> {
    return { communities: this.communities, files: this.files };
  }

  async copy(_source: string, target: string): Promise<ExportedFile> {
    this.written.push(`copy ${target}`);
    this.onWrite(target);
    return { rows: this.rowsPerFile, bytes: this.rowsPerFile * 10 };
  }

  async filter(_source: string, target: string, _range: ExportRange, signal?: AbortSignal): Promise<ExportedFile | undefined> {
    signal?.throwIfAborted();
    if (this.filteredRows === 0) return undefined;
    this.written.push(`filter ${target}`);
    this.onWrite(target);
    return { rows: this.filteredRows, bytes: this.filteredRows * 10 };
  }
}

/**
 * Day folders in memory: a file is the stream sequences it holds. Every call is logged; `failAt`
 * makes the call with that index in `calls` throw, as a crash would stop there.
 */
export class FakeDayStore implements DayStore {
  readonly files = new Map<string, readonly number[]>();
  /** The energy files by path (`energy_15m/…`), each as the stream sequences of the readings it was computed from. */
  readonly energy = new Map<string, readonly number[]>();
  readonly calls: string[] = [];
  failAt: number | undefined;

  /** Puts a file of stream sequences at `community_id=<c>/date=<d>/<name>`. */
  put(communityId: string, date: string, name: string, seqs: readonly number[]): void {
    this.files.set(`community_id=${communityId}/date=${date}/${name}`, seqs);
  }

  async days(): Promise<ArchiveDay[]> {
    const days = new Map<string, ArchiveDay & { files: string[]; energy: string[] }>();
    for (const path of this.files.keys()) {
      const [community, day, name] = path.split("/") as [string, string, string];
      const key = `${community}/${day}`;
      let entry = days.get(key);
      if (!entry) days.set(key, (entry = { communityId: community.slice("community_id=".length), date: day.slice("date=".length), files: [], energy: [] }));
      entry.files.push(name);
    }
    for (const path of this.energy.keys()) days.get(path.split("/").slice(1, 3).join("/"))?.energy.push(path.split("/")[3]!);
    return [...days.values()];
  }

  async merge(inputs: readonly string[], temporary: string): Promise<void> {
    this.step(`merge ${inputs.length} → ${temporary}`);
    this.files.set(temporary, [...new Set(inputs.flatMap((input) => this.files.get(input)!))]);
  }

  /** An energy file holds the stream sequences of the readings files it was computed from. */
  async writeEnergy(readings: readonly string[], dates: readonly string[], target: string): Promise<void> {
    this.step(`energy ${dates.join(" ")} from ${readings.length} → ${target}`);
    this.energy.set(target, [...new Set(readings.flatMap((path) => this.files.get(path)!))]);
  }

  async rename(from: string, to: string): Promise<void> {
    this.step(`rename ${from} → ${to}`);
    this.files.set(to, this.files.get(from)!);
    this.files.delete(from);
  }

  async syncFolder(folder: string): Promise<void> {
    this.step(`sync ${folder}`);
  }

  async remove(path: string): Promise<void> {
    this.step(`remove ${path}`);
    this.files.delete(path);
    this.energy.delete(path);
  }

  async removeDay(communityId: string, date: string): Promise<void> {
    this.step(`remove day ${communityId} ${date}`);
    const folder = `community_id=${communityId}/date=${date}/`;
    for (const path of [...this.files.keys()]) if (path.startsWith(folder)) this.files.delete(path);
    for (const path of [...this.energy.keys()]) if (path.startsWith(`energy_15m/${folder}`)) this.energy.delete(path);
  }

  /** What a reader's `*.parquet` glob sees: each visible file's stream sequences, by path. */
  visible(): Map<string, readonly number[]> {
    return new Map([...this.files].filter(([path]) => path.endsWith(".parquet")));
  }

  private step(call: string): void {
    if (this.failAt === this.calls.length) {
      this.failAt = undefined;
      throw new Error(`crash at ${call}`);
    }
    this.calls.push(call);
  }
}
