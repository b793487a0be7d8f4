import type { Clock, Timer } from "../domain/clock.js";
import { temporaryPath } from "../wire/archive-layout.js";
import { type Compaction, type EnergyWrite, planDays } from "./day-plan.js";
import type { DayStore } from "./ports.js";

/** How the archiver looks after its finished days (issue 22). */
export interface CompactorOptions {
  /** The partitions it archives, asked at every pass (the set may change while it runs). */
  readonly partitions: () => Iterable<number>;
  readonly clock: Clock;
  /** Compact a day once it ended this long ago; default 1 h (see DEFAULT_COMPACT_AFTER_MS). */
  readonly compactAfterMs?: number;
  /** A pass this often, and one on start; default 5 min. */
  readonly everyMs?: number;
  /** Remove a day once it ended more than this long ago; default: never. */
  readonly retentionMs?: number;
  /** Names compacted files apart; default `day`, the wall clock in base 36 and a counter. */
  readonly tag?: () => string;
  readonly onCompacted?: (compaction: Compaction) => void;
  readonly onExpired?: (day: { readonly communityId: string; readonly date: string }) => void;
  /** A pass or a day's compaction that failed; the next pass tries again. */
  readonly onError?: (err: unknown) => void;
}

export interface CompactorStats {
  /** Days whose segments were merged into one file. */
  compactions: number;
  /** Segments merged (and removed) by those. */
  merged: number;
  /** Day folders removed by the retention age. */
  expired: number;
  /** Finished days whose quarter hours were computed (energy files written). */
  energy: number;
}

/**
 * Readings of a day keep arriving after it ends: a 15-minute gateway's last interval is sent
 * at midnight, deliveries wait for the flush (10 s), failed writes come again after 5 s and
 * unacknowledged ones after the consumer's ack wait, and a gateway buffers through a short outage.
 * An hour takes in nearly all of these; a later one is not lost but makes a new small segment
 * beside the compacted file, merged at the next pass.
 */
export const DEFAULT_COMPACT_AFTER_MS = 3_600_000;
export const DEFAULT_COMPACT_EVERY_MS = 300_000;

/**
 * Merges each finished day's segments into one file, computes its quarter hours (and those of its
 * neighbours, which depend on it) once it is one file, and removes days past the retention age, for
 * the partitions its archiver archives. The order of a compaction's steps is what keeps a crash
 * harmless: the merged file is written under a temporary name and synced, renamed into place and
 * its folder synced — only then are the inputs removed. A crash before the rename leaves the inputs
 * (and a temporary file no reader's glob matches); after it, the merged file and some inputs hold
 * the same stream sequences, which readers count once and the next pass merges again.
 */
export class Compactor {
  readonly stats: CompactorStats = { compactions: 0, merged: 0, expired: 0, energy: 0 };
  private running: Promise<void> | undefined;
  private timer: Timer | undefined;
  private tags = 0;

  private constructor(
    private readonly store: DayStore,
    private readonly options: CompactorOptions,
  ) {}

  /** Starts a pass now and one every `everyMs`. */
  static start(store: DayStore, options: CompactorOptions): Compactor {
    const compactor = new Compactor(store, options);
    void compactor.pass();
    compactor.timer = options.clock.every(options.everyMs ?? DEFAULT_COMPACT_EVERY_MS, () => void compactor.pass());
    return compactor;
  }

  /** One pass; a pass asked for while one runs is that one. Never rejects: failures go to `onError`. */
  pass(): Promise<void> {
    this.running ??= this.passOnce()
      .catch((err: unknown) => this.options.onError?.(err))
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async passOnce(): Promise<void> {
    const { clock } = this.options;
    const plan = planDays(await this.store.days(), {
      nowMs: clock.now(),
      partitions: new Set(this.options.partitions()),
      compactAfterMs: this.options.compactAfterMs ?? DEFAULT_COMPACT_AFTER_MS,
      retentionMs: this.options.retentionMs,
      tag: this.options.tag?.() ?? `day${clock.now().toString(36)}${(this.tags++).toString(36)}`,
    });
    for (const day of plan.expire) {
      await this.store.removeDay(day.communityId, day.date);
      this.stats.expired += 1;
      this.options.onExpired?.(day);
    }
    const failed = new Set<string>();
    for (const compaction of plan.compact) {
      try {
        await this.compact(compaction);
      } catch (err) {
        failed.add(compaction.folder);
        this.options.onError?.(err);
      }
    }
    for (const write of plan.energy) {
      // Its readings are not what the plan expected where a compaction failed: the next pass plans again.
      if (write.readings.some((path) => failed.has(path.slice(0, path.lastIndexOf("/"))))) continue;
      try {
        await this.writeEnergy(write);
      } catch (err) {
        this.options.onError?.(err);
      }
    }
  }

  /**
   * Named for the readings files it was computed from, the energy file is used only while they
   * are the files there (dayEnergy): a crash leaves a missing or stale one, never a wrong one in use.
   */
  private async writeEnergy(write: EnergyWrite): Promise<void> {
    await this.store.writeEnergy(write.readings, write.dates, write.output);
    for (const stale of write.stale) await this.store.remove(stale);
    if (write.stale.length) await this.store.syncFolder(write.folder);
    this.stats.energy += 1;
  }

  private async compact(compaction: Compaction): Promise<void> {
    const { folder, inputs, output } = compaction;
    const temporary = temporaryPath(output);
    await this.store.merge(inputs, temporary);
    await this.store.rename(temporary, output);
    await this.store.syncFolder(folder);
    // The merged file may have taken an input's name (the same tag over the same span): it replaced that input.
    for (const input of inputs) if (input !== output) await this.store.remove(input);
    await this.store.syncFolder(folder);
    this.stats.compactions += 1;
    this.stats.merged += inputs.length;
    this.options.onCompacted?.(compaction);
  }

  /** Stops the passes; resolves once the one running (if any) is over. */
  async stop(): Promise<void> {
    this.timer?.cancel();
    await this.running;
  }
}
